"""Dead letters summarised for ops: by reason, and the devices to call about."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard.pages.data_quality import by_device, rejections_figure
from vward.contract.operations import DeadLetterOut


def letter(device_id: str | None, reason: str) -> DeadLetterOut:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    topic = f"vward/v1/devices/{device_id or '?'}/readings"
    return DeadLetterOut(
        id=1, received_at=at, topic=topic, device_id=device_id, reason=reason, detail="", payload_size=10
    )


LETTERS = [
    letter("ox-1", "implausible_value"),
    letter("ox-1", "implausible_value"),
    letter("ox-1", "wrong_unit"),
    letter("bp-2", "unknown_device"),
    letter(None, "bad_json"),
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
