"""Escalation with stepped time: tiers in turn, reminders until acknowledged, late timers catch up."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from rules.core.escalation import EscalationStep, Notification, plan
from rules.core.ruleset import default_ruleset
from tests.unit.rules.builders import NOW
from vward.domain.alerts import Severity

URGENT = default_ruleset().policy_snapshot(Severity.HIGH)  # 0 nurse, 10 doctor, 30 emergency team; every 5
ONE_TIER = {"name": "quiet", "tiers": [{"after_minutes": 0, "target": "ward_nurse", "channel": "app"}]}


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def run(policy: Mapping[str, Any], minutes: list[float], acknowledged_at: float | None = None) -> list[EscalationStep]:
    """Step a timer through `minutes` after opening, carrying tier and next_due_at like the service does."""
    tier, due, steps = 0, None, []
    for minute in minutes:
        acked = acknowledged_at is not None and minute >= acknowledged_at
        step = plan(policy, opened_at=NOW, tier=tier, next_due_at=due, acknowledged=acked, now=at(minute))
        tier, due = step.tier, step.next_due_at
        steps.append(step)
    return steps


def test_tiers_in_turn_then_reminders_until_acknowledged() -> None:
    steps = run(URGENT, [0, 5, 10, 29, 30, 34, 35, 40, 41])
    assert [[(n.tier, n.target, n.renotify) for n in s.notify] for s in steps] == [
        [(0, "ward_nurse", False)],
        [],
        [(1, "doctor", False)],
        [],
        [(2, "emergency_team", False)],
        [],
        [(2, "emergency_team", True)],
        [(2, "emergency_team", True)],
        [],
    ]
    assert [s.next_due_at for s in steps] == [at(10), at(10), at(30), at(30), at(35), at(35), at(40), at(45), at(45)]
    assert [s.escalated for s in steps] == [False, False, True, False, True, False, False, False, False]


def test_acknowledgement_stops_escalation() -> None:
    steps = run(URGENT, [0, 5, 10, 30], acknowledged_at=5)
    assert [s.notify for s in steps[1:]] == [(), (), ()]
    assert steps[-1].next_due_at is None
    assert steps[-1].tier == 1


def test_late_timer_notifies_every_overdue_tier() -> None:
    [step] = run(URGENT, [31])
    assert [n.tier for n in step.notify] == [0, 1, 2]
    assert (step.tier, step.next_due_at, step.escalated) == (3, at(36), True)


def test_policy_without_reminders_goes_quiet_after_last_tier() -> None:
    steps = run(ONE_TIER, [0, 60, 600])
    assert steps[0].notify == (Notification(0, "ward_nurse", "app"),)
    assert [s.next_due_at for s in steps] == [None, None, None]
    assert [s.notify for s in steps[1:]] == [(), ()]


def test_alert_without_a_policy_escalates_nowhere_instead_of_failing() -> None:
    step = plan({}, opened_at=NOW, tier=0, next_due_at=NOW, acknowledged=False, now=NOW + timedelta(hours=1))
    assert step == EscalationStep((), 0, None, False)
