"""Worklist rows: the API's order kept, every cue spelled out in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dashboard.pages.worklist import worklist_rows

NOW = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def summary(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": 1,
        "mrn": "M1",
        "display_name": "Pat One",
        "ward": "A",
        "pathway": "copd",
        "spo2_scale": 2,
        "news2_score": 2,
        "news2_band": "low",
        "news2_complete": True,
        "news2_missing": [],
        "red_score": False,
        "scored_at": None,
        "open_alerts": 0,
        "top_severity": None,
        "oldest_alert_at": None,
        "escalation_tier": None,
        "next_escalation_at": None,
        "last_reading_at": (NOW - timedelta(minutes=12)).isoformat(),
        "devices_offline": 0,
        "min_battery": 90,
    }
    return base | overrides


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


def test_a_deteriorating_patient_shows_why() -> None:
    (row,) = worklist_rows(
        [
            summary(
                news2_score=7,
                news2_band="high",
                red_score=True,
                news2_complete=False,
                news2_missing=["consciousness"],
                open_alerts=2,
                top_severity=3,
                oldest_alert_at=(NOW - timedelta(minutes=40)).isoformat(),
                escalation_tier=1,
                next_escalation_at="2026-01-10T09:20:00+00:00",
                devices_offline=1,
                min_battery=9,
            )
        ],
        NOW,
        "Europe/London",
    )
    assert row["news2"] == "7 High"
    assert row["band"] == "high"
    assert row["red"] == "⚠ Red score"
    assert row["data"] == "Incomplete: consciousness"
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
