"""Dead letters summarised for ops: by reason, and the devices to call about."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard.formatting import DEVICE_KINDS, device_kind
from dashboard.pages.data_quality import by_device, clock_state, rejections_figure
from vward.contract.operations import DeadLetterOut, DeviceClockOut
from vward.domain.patients import DeviceKind


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


def clock(offset: float | None, corrected: float) -> DeviceClockOut:
    at = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    return DeviceClockOut(
        device_id="p-1",
        kind="patch",
        offset_seconds=offset,
        corrected_seconds=corrected,
        estimated_at=at,
        last_seen_at=at,
    )


def test_a_device_clock_is_described_by_what_it_means_for_its_readings() -> None:
    assert clock_state(clock(600.2, 600.1)) == "10.0 min fast; times corrected by 10.0 min"
    assert clock_state(clock(-45, 0)) == "45 s behind or delayed; readings keep their times and look older"
    assert clock_state(clock(None, 120)) == "back in sync; still corrected by 2.0 min"


def test_every_device_kind_has_a_name_people_use() -> None:
    assert {k.value for k in DeviceKind} <= set(DEVICE_KINDS)
    assert device_kind("bp_cuff") == "Blood pressure cuff"
