"""The triage list: one summary per admitted patient, worst first."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel

from rules.core.news2 import Band
from rules.core.triage import TriageFacts, triage_key
from vward.domain.alerts import Severity


class PatientSummary(BaseModel):
    id: int
    mrn: str
    display_name: str
    ward: str
    pathway: str
    spo2_scale: int
    news2_score: int | None
    news2_band: str | None
    news2_complete: bool
    news2_missing: list[str]
    red_score: bool
    scored_at: datetime | None
    open_alerts: int
    top_severity: int | None
    oldest_alert_at: datetime | None
    escalation_tier: int | None
    next_escalation_at: datetime | None
    last_reading_at: datetime | None
    devices_offline: int
    min_battery: int | None


def summary_from_row(row: asyncpg.Record) -> PatientSummary:
    parameters: dict[str, Any] = row["parameters"] or {}
    red = any(isinstance(p, dict) and p.get("score") == 3 for p in parameters.values())
    return PatientSummary(
        id=row["id"],
        mrn=row["mrn"],
        display_name=row["display_name"],
        ward=row["ward"],
        pathway=row["pathway"],
        spo2_scale=row["spo2_scale"],
        news2_score=row["score"],
        news2_band=row["band"],
        news2_complete=bool(row["complete"]),
        news2_missing=list(row["missing"] or []),
        red_score=red,
        scored_at=row["computed_at"],
        open_alerts=row["open_alerts"] or 0,
        top_severity=row["top_severity"],
        oldest_alert_at=row["oldest_alert_at"],
        escalation_tier=row["max_tier"],
        next_escalation_at=row["next_escalation_at"],
        last_reading_at=row["last_reading_at"],
        devices_offline=row["devices_offline"] or 0,
        min_battery=row["min_battery"],
    )


def triage_facts(p: PatientSummary) -> TriageFacts:
    return TriageFacts(
        patient_id=p.id,
        top_severity=None if p.top_severity is None else Severity(p.top_severity),
        news2_score=p.news2_score,
        news2_band=None if p.news2_band is None else Band(p.news2_band),
        news2_complete=p.news2_complete,
        red_score=p.red_score,
        last_reading_at=p.last_reading_at,
        oldest_alert_at=p.oldest_alert_at,
    )


def worst_first(patients: Iterable[PatientSummary]) -> list[PatientSummary]:
    """The rules engine's triage order, so the list and the engine agree on who is worst."""
    return sorted(patients, key=lambda p: triage_key(triage_facts(p)))
