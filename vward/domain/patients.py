"""Patients on the virtual ward, their devices and bindings."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from vward.domain.metrics import Metric


class Pathway(enum.StrEnum):
    GENERAL = "general"
    COPD = "copd"
    HEART_FAILURE = "heart_failure"
    POST_OP = "post_op"


class DeviceKind(enum.StrEnum):
    PATCH = "patch"
    OXIMETER = "oximeter"
    BP_CUFF = "bp_cuff"
    THERMOMETER = "thermometer"
    SCALE = "scale"
    PATIENT_APP = "patient_app"


@dataclass(frozen=True, slots=True)
class Patient:
    id: int
    mrn: str
    display_name: str
    ward: str
    pathway: Pathway
    spo2_scale: int
    date_of_birth: date | None
    pregnant: bool
    admitted_at: datetime
    discharged_at: datetime | None = None
    # The patient's own monitoring plan: (metric, expected every N hours), beside the rule set's defaults.
    monitoring_plan: tuple[tuple[Metric, float], ...] = ()

    def age_on(self, day: date) -> int | None:
        """Whole years on `day`, or None when the date of birth is unknown."""
        return age_on(self.date_of_birth, day)


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    kind: DeviceKind
    online: bool | None = None
    battery: int | None = None
    last_seen_at: datetime | None = None


def age_on(born: date | None, day: date) -> int | None:
    """Whole years on `day`, or None when the date of birth is unknown."""
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
