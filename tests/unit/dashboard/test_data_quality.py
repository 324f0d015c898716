"""Dead letters summarised for ops: by reason, and the devices to call about."""

from __future__ import annotations

from dashboard.pages.data_quality import by_device, rejections_figure

LETTERS = [
    {"device_id": "ox-1", "reason": "implausible_value"},
    {"device_id": "ox-1", "reason": "implausible_value"},
    {"device_id": "ox-1", "reason": "wrong_unit"},
    {"device_id": "bp-2", "reason": "unknown_device"},
    {"device_id": None, "reason": "bad_json"},
]


def test_rejections_are_counted_by_reason_most_frequent_first() -> None:
    bars = rejections_figure(LETTERS).data[0]
    assert list(bars.y) == ["implausible_value", "wrong_unit", "unknown_device", "bad_json"]
    assert list(bars.x) == [2, 1, 1, 1]


def test_devices_are_ranked_with_their_commonest_reason() -> None:
    assert by_device(LETTERS) == [
        ("ox-1", 3, "implausible_value"),
        ("bp-2", 1, "unknown_device"),
        ("(unknown device)", 1, "bad_json"),
    ]
