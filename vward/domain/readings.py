"""A reading as stored: one metric of one device at one measured time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from vward.domain.metrics import Metric

# Booleans travel as bool, ACVPU as one of "A","C","V","P","U", everything else as float.
ReadingValue = float | bool | str


@dataclass(frozen=True, slots=True)
class Reading:
    """`measured_at` is when it was measured, on the device's clock less `clock_correction` (ingest's estimate
    of how far that clock runs ahead, ingest.core.clock; None when not corrected); `received_at` is the
    platform's clock at arrival. Skew beyond what is corrected is flagged."""

    device_id: str
    msg_id: str
    metric: Metric
    value: ReadingValue
    measured_at: datetime
    received_at: datetime | None = None
    patient_id: int | None = None
    flags: frozenset[str] = frozenset()
    clock_correction: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """The latest value of one metric for a patient, as the rules see it."""

    metric: Metric
    value: ReadingValue
    measured_at: datetime
