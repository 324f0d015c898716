"""The triage list: one summary per admitted patient, in the documented clinical order (rules.core.triage)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from rules.core.news2 import Band, band_for
from rules.core.staleness import is_overdue
from rules.core.triage import TriageFacts, triage_key
from vward.contract.patients import ParameterAge, PatientSummary, TrendDirection
from vward.domain.alerts import Severity
from vward.domain.patients import age_on


def summary_from_row(row: asyncpg.Record, now: datetime) -> PatientSummary:
    """A worklist row as of `now`: ages and overdue metrics are worked out at read time, the score as stored."""
    parameters: dict[str, Any] = row["parameters"] or {}
    measured = {m: datetime.fromisoformat(at) for m, at in (row["measured"] or {}).items()}
    return PatientSummary(
        id=row["id"],
        mrn=row["mrn"],
        display_name=row["display_name"],
        date_of_birth=row["date_of_birth"],
        age_years=age_on(row["date_of_birth"], now.date()),
        ward=row["ward"],
        pathway=row["pathway"],
        spo2_scale=row["spo2_scale"],
        admitted_at=row["admitted_at"],
        discharged_at=row["discharged_at"],
        news2_score=row["score"],
        news2_band=row["band"],
        news2_complete=bool(row["complete"]),
        news2_lower_bound=row["lower_bound"],
        news2_lower_band=None if row["lower_bound"] is None else str(band_for(row["lower_bound"], row["red_score"])),
        news2_missing=_with_status(parameters, "missing"),
        news2_stale=_with_status(parameters, "stale"),
        news2_applicable=row["applicable"] is not False,
        news2_reason=row["reason"],
        red_score=bool(row["red_score"]),
        scored_at=row["computed_at"],
        oldest_value=_oldest(parameters, measured, now),
        overdue=[]
        if row["discharged_at"]
        else overdue_metrics(row["monitoring_plan"] or {}, measured, row["admitted_at"], now),
        open_alerts=row["open_alerts"] or 0,
        top_severity=row["top_severity"],
        oldest_alert_at=row["oldest_alert_at"],
        escalation_tier=row["max_tier"],
        next_escalation_at=row["next_escalation_at"],
        last_reading_at=row["last_reading_at"],
        devices_offline=row["devices_offline"] or 0,
        min_battery=row["min_battery"],
        news2_then=row["score_then"],
        trends=vital_trends(parameters, row["parameters_then"] or {}),
    )


TREND_WINDOW = timedelta(hours=4)  # half a routine observation round: long enough to see a drift
# A change smaller than this between two values is noise (or one breath), not a trend.
TREND_STEP = {"respiratory_rate": 3.0, "spo2": 2.0, "heart_rate": 10.0, "systolic_bp": 15.0, "temperature": 0.5}


def vital_trends(now: Mapping[str, Any], then: Mapping[str, Any]) -> dict[str, TrendDirection]:
    """Each main vital's direction since `TREND_WINDOW` ago, from the stored parameter values; a vital
    without a number at either end has no trend (it is not guessed)."""
    trends: dict[str, TrendDirection] = {}
    for metric, step in TREND_STEP.items():
        a, b = _number(then.get(metric)), _number(now.get(metric))
        if a is None or b is None:
            continue
        trends[metric] = "rising" if b - a >= step else "falling" if a - b >= step else "steady"
    return trends


def _number(parameter: Any) -> float | None:
    value = parameter.get("value") if isinstance(parameter, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _with_status(parameters: Mapping[str, Any], status: str) -> list[str]:
    return [name for name, p in parameters.items() if isinstance(p, dict) and p.get("status") == status]


def _oldest(parameters: Mapping[str, Any], measured: Mapping[str, datetime], now: datetime) -> ParameterAge | None:
    """The scored parameter measured longest ago: 'complete' must never hide a 38-minute-old SpO2."""
    ages = [(measured[name], name) for name in parameters if name in measured]
    if not ages:
        return None
    at, name = min(ages)
    return ParameterAge(parameter=name, measured_at=at, age_minutes=round((now - at).total_seconds() / 60, 1))


def overdue_metrics(
    plan: Mapping[str, float], measured: Mapping[str, datetime], admitted_at: datetime, now: datetime
) -> list[str]:
    """Metrics of the patient's monitoring plan (every N hours) not measured within N hours, counting from
    admission for one never measured: the test the rules' `overdue:plan_<metric>` alerts use."""
    return sorted(
        metric
        for metric, hours in plan.items()
        if is_overdue(measured.get(metric), admitted_at, timedelta(hours=hours), now)
    )


def triage_facts(p: PatientSummary) -> TriageFacts:
    return TriageFacts(
        patient_id=p.id,
        top_severity=None if p.top_severity is None else Severity(p.top_severity),
        news2_score=p.news2_score,
        news2_band=None if p.news2_band is None else Band(p.news2_band),
        news2_complete=p.news2_complete,
        news2_lower_bound=p.news2_lower_bound,
        news2_applicable=p.news2_applicable,
        red_score=p.red_score,
        oldest_alert_at=p.oldest_alert_at,
    )


def worst_first(patients: Iterable[PatientSummary]) -> list[PatientSummary]:
    """The rules engine's triage order, so the list and the engine agree on who is worst."""
    return sorted(patients, key=lambda p: triage_key(triage_facts(p)))
