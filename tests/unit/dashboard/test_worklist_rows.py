"""Worklist rows: the API's order kept, every cue spelled out in words, ages and gaps never hidden."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from dashboard.pages.worklist import held_order, worklist_rows
from vward.contract.patients import ParameterAge, PatientSummary

NOW = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def summary(**overrides: Any) -> PatientSummary:
    base: dict[str, Any] = {
        "id": 1,
        "mrn": "M1",
        "display_name": "Pat One",
        "date_of_birth": date(1950, 3, 1),
        "age_years": 75,
        "ward": "A",
        "pathway": "copd",
        "spo2_scale": 2,
        "admitted_at": NOW - timedelta(days=3),
        "news2_score": 2,
        "news2_band": "low",
        "news2_complete": True,
        "news2_lower_bound": None,
        "news2_lower_band": None,
        "news2_missing": [],
        "news2_stale": [],
        "news2_applicable": True,
        "news2_reason": None,
        "red_score": False,
        "scored_at": None,
        "oldest_value": None,
        "overdue": [],
        "open_alerts": 0,
        "top_severity": None,
        "oldest_alert_at": None,
        "escalation_tier": None,
        "next_escalation_at": None,
        "last_reading_at": NOW - timedelta(minutes=12),
        "devices_offline": 0,
        "min_battery": 90,
        "news2_then": None,
        "trends": {},
    }
    return PatientSummary.model_validate(base | overrides)


def test_rows_keep_the_apis_worst_first_order() -> None:
    rows = worklist_rows([summary(id=7), summary(id=3), summary(id=5)], NOW, "Europe/London")
    assert [(r["rank"], r["id"]) for r in rows] == [(1, 7), (2, 3), (3, 5)]


def test_a_quiet_patient_reads_as_such() -> None:
    (row,) = worklist_rows([summary()], NOW, "Europe/London")
    assert row["news2"] == "2 Low"
    assert row["data"] == "Complete"
    assert row["alerts"] == "None"
    assert row["waiting"] == ""
    assert row["escalation"] == ""
    assert row["devices"] == "OK"
    assert row["last_reading"] == "12 min ago"
    assert row["pathway"] == "COPD"
    assert row["red"] == ""
    assert row["identity"] == "MRN M1 · 75 y"
    assert row["new"] == ""


def test_complete_never_hides_an_old_value() -> None:
    """'Complete · just now' was shown while SpO2 was 38 minutes old."""
    oldest = ParameterAge(parameter="spo2", measured_at=NOW - timedelta(minutes=38), age_minutes=38)
    (row,) = worklist_rows([summary(oldest_value=oldest, last_reading_at=NOW)], NOW, "UTC")
    assert row["data"] == "Complete · oldest SpO2 38 min ago"


def test_a_patient_overdue_on_their_plan_is_flagged() -> None:
    (row,) = worklist_rows([summary(overdue=["systolic_bp"])], NOW, "UTC")
    assert row["data"] == "Complete · overdue Systolic BP"
    assert row["complete"] is False


def test_a_deteriorating_patient_shows_why() -> None:
    (row,) = worklist_rows(
        [
            summary(
                news2_score=None,
                news2_band=None,
                news2_lower_bound=7,
                news2_lower_band="high",
                red_score=True,
                news2_complete=False,
                news2_missing=["consciousness"],
                open_alerts=2,
                top_severity=3,
                oldest_alert_at=NOW - timedelta(minutes=40),
                escalation_tier=1,
                next_escalation_at=datetime(2026, 1, 10, 9, 20, tzinfo=UTC),
                devices_offline=1,
                min_battery=9,
            )
        ],
        NOW,
        "Europe/London",
    )
    assert row["news2"] == "≥7 High"  # missing data only adds points: at least high
    assert row["band"] == "high"
    assert row["red"] == "⚠ Red score"
    assert row["data"] == "Incomplete: missing ACVPU"
    assert row["alerts"] == "2 · High"
    assert row["waiting"] == "40 min ago"
    assert row["escalation"] == "tier 1 · next 09:20"
    assert row["devices"] == "1 offline, battery 9%"
    assert row["severity"] == 3


def test_a_patient_without_any_score_is_never_shown_as_zero() -> None:
    (row,) = worklist_rows([summary(news2_score=None, news2_band=None, last_reading_at=None)], NOW, "UTC")
    assert row["news2"] == "No score"
    assert row["band"] == "none"
    assert row["data"] == "No data"
    assert row["last_reading"] == "never"


def test_news2_that_does_not_apply_says_why_in_words() -> None:
    """A pregnant patient with full, fresh vitals showed 'No score · No data'."""
    unscored = summary(news2_score=None, news2_band=None, news2_applicable=False, news2_reason="pregnant")
    (row,) = worklist_rows([unscored], NOW, "UTC")
    assert row["news2"] == "Not scored"
    assert row["data"] == "NEWS2 does not apply (pregnant)"


def test_a_new_admission_is_marked() -> None:
    (row,) = worklist_rows([summary(admitted_at=NOW - timedelta(hours=2))], NOW, "UTC")
    assert row["new"] == "New"


def test_a_held_order_keeps_places_and_puts_newcomers_last_marked() -> None:
    shown = worklist_rows([summary(id=1), summary(id=2), summary(id=3)], NOW, "UTC")
    fresh = worklist_rows([summary(id=3), summary(id=4), summary(id=1), summary(id=2)], NOW, "UTC")
    held = held_order(fresh, shown)
    assert [r["id"] for r in held] == [1, 2, 3, 4]
    assert held[3]["new"] == "Arrived"
    assert held[0]["rank"] == 3  # the rank the clinical order gives it now is still shown


def test_the_last_four_hours_read_as_arrows_and_words() -> None:
    moving = summary(
        news2_score=6, news2_then=3, trends={"respiratory_rate": "rising", "spo2": "falling", "heart_rate": "steady"}
    )
    assert worklist_rows([moving], NOW, "UTC")[0]["trend"] == "NEWS2 3→6 · RR↑ SpO2↓"
    steady = summary(news2_then=2, trends={"heart_rate": "steady"})
    assert worklist_rows([steady], NOW, "UTC")[0]["trend"] == "vitals steady"
    assert worklist_rows([summary()], NOW, "UTC")[0]["trend"] == ""  # nothing 4 h ago to compare with
