"""The burden page says what the alerts cost the nurses on shift, not only how many opened."""

from __future__ import annotations

from dashboard.pages.burden import per_shift, totals
from vward.contract.operations import AlertBurden

ANSWER = AlertBurden.model_validate(
    {
        "since": "2026-11-16T10:00:00+00:00",
        "total": 3,
        "state_changes": 4,
        "notifications": 5,
        "wavers": 6,
        "open_alert_hours": 8.5,
        "state_changes_per_alert_hour": 0.47,
        "nurses_per_shift": 3,
        "per_ward_shift": [
            {"ward": "North", "shift_start": "2026-11-20", "shift": "07:00-19:00", "alerts": 2, "open_per_nurse": 0.11},
            {"ward": "North", "shift_start": "2026-11-20", "shift": "19:00-07:00", "alerts": 1, "open_per_nurse": 0.03},
        ],
        "noisiest_rules": [],
        "noisiest_patients": [],
    }
)


def test_the_week_in_one_line() -> None:
    assert totals(ANSWER) == (
        "3 opened · 4 state changes (0.47 per open alert-hour) · 5 notifications"
        " · 6 waverings kept within their episode · 8.5 alert-hours open"
    )


def test_without_a_channel_the_meter_says_notifications_are_off_not_zero() -> None:
    off = ANSWER.model_copy(update={"notifications": 0, "notifications_on": False})
    assert "notifications off (no channel)" in totals(off)


def test_shifts_newest_first_with_alerts_open_per_nurse_for_the_staffing_given() -> None:
    table = per_shift(ANSWER)
    head, body = table.children
    assert head.children.children[-1].children == "Open per nurse (3)"
    cells = [[c.children for c in row.children] for row in body.children]
    assert cells == [
        ["20 Nov 19:00-07:00", "North", "1", "0", "0", "0.03"],
        ["20 Nov 07:00-19:00", "North", "2", "0", "0", "0.11"],
    ]
