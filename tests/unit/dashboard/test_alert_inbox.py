"""Inbox order and what each alert action offers and asks for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dashboard.alert_actions import available_actions, body_for
from dashboard.pages.alerts import inbox_order

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def alert(id_: int, severity: int, opened: str, state: str = "open") -> dict[str, Any]:
    return {"id": id_, "severity": severity, "opened_at": opened, "state": state, "title": "t"}


def test_the_inbox_puts_high_severity_first_then_the_longest_waiting() -> None:
    alerts = [
        alert(1, 2, "2026-03-01T09:50:00+00:00"),
        alert(2, 3, "2026-03-01T09:55:00+00:00"),
        alert(3, 2, "2026-03-01T09:10:00+00:00"),
        alert(4, 3, "2026-03-01T09:30:00+00:00"),
    ]
    assert [a["id"] for a in inbox_order(alerts)] == [4, 2, 3, 1]


def test_high_severity_alerts_cannot_be_snoozed() -> None:
    assert available_actions(alert(1, 3, ""), "clinician") == ["acknowledge", "escalate", "resolve"]
    assert available_actions(alert(1, 2, ""), "clinician") == ["acknowledge", "escalate", "resolve", "snooze"]


def test_acknowledged_alerts_are_not_acknowledged_twice_and_resolved_ones_offer_nothing() -> None:
    assert available_actions(alert(1, 1, "", "acknowledged"), "clinician") == ["escalate", "resolve", "snooze"]
    assert available_actions(alert(1, 1, "", "snoozed"), "clinician") == ["acknowledge", "escalate", "resolve"]
    assert available_actions(alert(1, 1, "", "resolved"), "clinician") == []


def test_each_action_sends_only_what_it_needs() -> None:
    assert body_for("acknowledge", "x", "y", "4", NOW) == {}
    assert body_for("resolve", "  Called patient; fine ", "y", "4", NOW) == {"outcome": "Called patient; fine"}
    assert body_for("snooze", None, "Known COPD baseline", "4", NOW) == {
        "reason": "Known COPD baseline",
        "until": "2026-03-01T14:00:00+00:00",
    }


def test_viewers_are_offered_no_actions() -> None:
    assert available_actions(alert(1, 2, ""), "viewer") == []
    assert available_actions(alert(1, 2, ""), "admin") == ["acknowledge", "escalate", "resolve", "snooze"]
