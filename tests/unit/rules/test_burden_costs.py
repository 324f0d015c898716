"""What alerts cost the nurses: notices the escalation policy sends before an acknowledgement, state changes
and open hours of replayed episodes, and hours split at shift changes (ward time, DST included)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rules.core.alertbook import ASSUMED_RESPONSE, Episode, StaffResponse, observed_response
from rules.core.burden import episode_costs, hours_by_shift
from rules.core.escalation import notices_until
from rules.core.ruleset import default_ruleset
from vward.domain.alerts import Severity

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
RULES = default_ruleset()
URGENT = RULES.policy_snapshot(Severity.HIGH, None)  # tiers at 0, 10 and 30 min, reminders every 5
STANDARD = RULES.policy_snapshot(Severity.MEDIUM, None)  # tiers at 0 and 30 min, reminders every 15


@pytest.mark.parametrize(
    ("acknowledged_after", "expected"),
    [
        (0, (1, 0, 0)),  # closed or acknowledged at once: the opening's tier has gone out
        (10, (1, 0, 0)),  # acknowledged as the second tier falls due
        (10.01, (2, 0, 1)),
        (35, (3, 0, 2)),  # the reminder falls due at 35: not sent
        (35.01, (3, 1, 2)),
        (45, (3, 2, 2)),
    ],
)
def test_notices_before_the_acknowledgement_follow_the_live_timer(
    acknowledged_after: float, expected: tuple[int, int, int]
) -> None:
    assert URGENT["tiers"][1]["after_minutes"] == 10
    assert notices_until(URGENT, T0, T0 + timedelta(minutes=acknowledged_after)) == expected


def episode(**changes: object) -> Episode:
    fields: dict[str, object] = {
        "patient_id": 1,
        "rule_id": "news2",
        "severity": Severity.MEDIUM,
        "opened_as": Severity.MEDIUM,
        "opened_at": T0,
        "policy": STANDARD,
        "auto_resolve": False,
    }
    fields.update(changes)
    return Episode(**fields)  # type: ignore[arg-type]


def test_an_episode_costs_its_events_escalations_acknowledgement_close_and_open_hours() -> None:
    """Medium: acknowledged at 30 min (before the doctor's tier at 30 is due), closed by staff at 2 h."""
    worked = episode(events=2, worsened=1, closed_at=T0 + timedelta(hours=2), closed_by_staff=True)
    costs = episode_costs([worked], ASSUMED_RESPONSE, T0 + timedelta(days=1))
    assert (costs.alerts, costs.state_changes, costs.notifications, costs.reminders) == (1, 4, 2, 0)
    assert costs.open_alert_hours == 2.0
    assert costs.per_alert_hour() == 2.0


def test_an_alert_the_rules_close_before_anyone_acknowledges_it_costs_its_notice_and_events() -> None:
    brief = episode(severity=Severity.LOW, opened_as=Severity.LOW, events=1, closed_at=T0 + timedelta(minutes=6))
    costs = episode_costs([brief], ASSUMED_RESPONSE, T0 + timedelta(days=1))
    assert (costs.state_changes, costs.notifications, costs.open_alert_hours) == (1, 1, 0.1)


def test_an_alert_still_open_counts_until_the_end_and_escalates_unacknowledged_until_then() -> None:
    slow = StaffResponse({Severity.MEDIUM: timedelta(hours=2)}, ASSUMED_RESPONSE.resolve_after)
    costs = episode_costs([episode()], slow, T0 + timedelta(hours=1))
    assert costs.open_alert_hours == 1.0
    assert (costs.notifications, costs.reminders, costs.state_changes) == (3, 1, 1)  # 0, 30 min, reminder 45


def test_hours_are_split_at_each_shift_change_in_ward_time() -> None:
    london = ZoneInfo("Europe/London")
    day = hours_by_shift(datetime(2026, 12, 3, 5, tzinfo=UTC), datetime(2026, 12, 4, 8, tzinfo=UTC), tz=london)
    assert day == {
        (date(2026, 12, 2), "19:00-07:00"): 2.0,
        (date(2026, 12, 3), "07:00-19:00"): 12.0,
        (date(2026, 12, 3), "19:00-07:00"): 12.0,
        (date(2026, 12, 4), "07:00-19:00"): 1.0,
    }
    spring = hours_by_shift(datetime(2026, 3, 29, 0, tzinfo=UTC), datetime(2026, 3, 30, 0, tzinfo=UTC), tz=london)
    assert spring[(date(2026, 3, 28), "19:00-07:00")] == 6.0  # 00:00 GMT to 07:00 BST is 6 hours
    assert sum(spring.values()) == 24.0


def test_the_wards_own_response_times_replace_the_assumed_ones_once_there_are_enough() -> None:
    samples = {
        Severity.HIGH: (5, timedelta(minutes=4), timedelta(minutes=50)),
        Severity.MEDIUM: (4, timedelta(minutes=1), timedelta(minutes=2)),  # too few: assumed
        Severity.LOW: (9, None, timedelta(hours=6)),  # closed without an acknowledgement: acknowledged on closing
    }
    staff = observed_response(samples)
    assert (staff.acknowledge_after[Severity.HIGH], staff.resolve_after[Severity.HIGH]) == (
        timedelta(minutes=4),
        timedelta(minutes=50),
    )
    assert staff.resolve_after[Severity.MEDIUM] == ASSUMED_RESPONSE.resolve_after[Severity.MEDIUM]
    assert staff.acknowledge_after[Severity.LOW] == timedelta(hours=6)
    assert staff.source == "observed: high (5), low (9); assumed otherwise"
    assert observed_response({}).source == "assumed"
