"""Builders for rules tests: a patient, observations at minute offsets, a context."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from rules.core.model import DeviceStatus, EvaluationContext
from vward.domain.metrics import Metric
from vward.domain.patients import Pathway, Patient
from vward.domain.readings import Observation, ReadingValue

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
NORMAL: dict[str, ReadingValue] = {
    "respiratory_rate": 16,
    "spo2": 97,
    "on_oxygen": False,
    "systolic_bp": 120,
    "heart_rate": 70,
    "consciousness": "A",
    "temperature": 37.0,
}


def patient(pathway: Pathway = Pathway.GENERAL, scale: int = 1, **changes: Any) -> Patient:
    fields: dict[str, Any] = {
        "id": 7,
        "mrn": "MRN7",
        "display_name": "Test Patient",
        "ward": "north",
        "pathway": pathway,
        "spo2_scale": scale,
        "date_of_birth": date(1950, 5, 1),
        "pregnant": False,
        "admitted_at": NOW - timedelta(days=10),
    }
    fields.update(changes)
    return Patient(**fields)


def obs(metric: str, value: ReadingValue, minutes_ago: float = 5) -> Observation:
    return Observation(Metric(metric), value, NOW - timedelta(minutes=minutes_ago))


def context(
    values: dict[str, ReadingValue] | None = None,
    *,
    history: tuple[Observation, ...] = (),
    devices: tuple[DeviceStatus, ...] = (),
    overrides: tuple[dict[str, Any], ...] = (),
    pathway: Pathway = Pathway.GENERAL,
    scale: int = 1,
    ages: dict[str, float] | None = None,
    handled_concerns: frozenset[datetime] = frozenset(),
    **patient_changes: Any,
) -> EvaluationContext:
    """Latest values (NORMAL unless given, 5 minutes old unless `ages` says otherwise); history may be newer."""
    ages = ages or {}
    chosen = NORMAL if values is None else values
    latest = {m: obs(m, v, ages.get(m, 5)) for m, v in chosen.items()}
    for o in history:
        if o.metric not in latest or latest[o.metric].measured_at < o.measured_at:
            latest[o.metric] = o
    return EvaluationContext(
        patient(pathway, scale, **patient_changes),
        latest,
        history,
        devices,
        overrides,
        handled_concerns=handled_concerns,
    )
