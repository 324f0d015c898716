"""Contract models as the API serves them, for the dashboard's unit tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from vward.contract.alerts import AlertOut, PatientRef

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def alert(id_: int, state: str = "open", actions: list[str] | None = None, patient: bool = True) -> AlertOut:
    values: dict[str, Any] = {
        "id": id_,
        "patient_id": 7 if patient else None,
        "patient": PatientRef(id=7, display_name="Ann Lee", mrn="0042", date_of_birth=date(1958, 5, 1), age_years=67)
        if patient
        else None,
        "rule_id": "news2",
        "rule_set_name": "default",
        "rule_set_version": 1,
        "severity": 2,
        "severity_name": "medium",
        "state": state,
        "title": "NEWS2 5-6",
        "reason": {},
        "opened_at": NOW - timedelta(minutes=30),
        "updated_at": NOW,
        "acknowledged_at": None,
        "acknowledged_by": None,
        "resolved_at": None,
        "resolved_by": None,
        "outcome": None,
        "outcome_code": None,
        "snoozed_until": None,
        "snooze_reason": None,
        "escalation_tier": 0,
        "next_escalation_at": None,
        "escalation_policy": {},
        "auto_resolve": False,
        "cleared_at": None,
        "muted_by": None,
        "absent_since": None,
        "wavers": 0,
        "allowed_actions": ["acknowledge", "escalate", "resolve"] if actions is None else actions,
    }
    return AlertOut.model_validate(values)
