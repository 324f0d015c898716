"""The pure decoder: the contract's payloads are accepted, every kind of hostile input is refused with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ingest.core.decode import ReadingsMessage, RejectedMessage, StatusMessage, decode_message
from ingest.core.rejections import Reason
from ingest.core.skew import FUTURE, LATE
from ingest.core.wire import encode_readings, encode_status
from vward.domain.metrics import METRIC_SPECS, Metric

NOW = datetime(2026, 11, 22, 9, 15, 2, tzinfo=UTC)
TOPIC = "p/vward/v1/devices/ox-1/readings"
STATUS_TOPIC = "p/vward/v1/devices/ox-1/status"


def body(**reading: Any) -> dict[str, Any]:
    base = {"metric": "spo2", "value": 94, "unit": "%", "measured_at": "2026-11-22T09:15:00Z"}
    return {"msg_id": "ox-1-1", "sent_at": "2026-11-22T09:15:02Z", "readings": [{**base, **reading}]}


def decode(payload: bytes | dict[str, Any], topic: str = TOPIC) -> Any:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return decode_message("p/", topic, raw, NOW)


def reason_of(payload: bytes | dict[str, Any], topic: str = TOPIC) -> Reason:
    decoded = decode(payload, topic)
    assert isinstance(decoded, RejectedMessage), decoded
    return decoded.rejection.reason


def test_every_contract_metric_round_trips_through_the_shared_encoder() -> None:
    values: dict[Metric, float | bool | str] = {m: (s.low or 0) + 1 for m, s in METRIC_SPECS.items() if s.low}
    values |= {Metric.ON_OXYGEN: True, Metric.PATIENT_CONCERN: False, Metric.CONSCIOUSNESS: "V"}
    payload = encode_readings("m-1", NOW, [(m, v, NOW) for m, v in values.items()])
    decoded = decode_message("p/", TOPIC, payload, NOW)
    assert isinstance(decoded, ReadingsMessage)
    assert (decoded.device_id, decoded.msg_id) == ("ox-1", "m-1")
    assert {r.metric: r.value for r in decoded.readings} == values
    assert all(r.received_at == NOW and r.measured_at == NOW and not r.flags for r in decoded.readings)


def test_offsets_are_understood_as_instants() -> None:
    decoded = decode(body(measured_at="2026-11-22T10:15:00+01:00"))
    assert isinstance(decoded, ReadingsMessage)
    assert decoded.readings[0].measured_at == datetime(2026, 11, 22, 9, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("measured_at", "flags"),
    [
        (NOW + timedelta(minutes=4), frozenset()),
        (NOW + timedelta(minutes=6), {FUTURE}),
        (NOW + timedelta(days=365), {FUTURE}),
        (NOW - timedelta(hours=23), frozenset()),
        (NOW - timedelta(hours=25), {LATE}),
        (datetime(1970, 1, 1, tzinfo=UTC), {LATE}),
    ],
)
def test_skewed_clocks_are_flagged_never_dropped(measured_at: datetime, flags: set[str]) -> None:
    decoded = decode(body(measured_at=measured_at.isoformat()))
    assert isinstance(decoded, ReadingsMessage)
    assert decoded.readings[0].flags == flags


HOSTILE: list[tuple[str, bytes | dict[str, Any], Reason]] = [
    ("bad json", b'{"msg_id": ', Reason.BAD_JSON),
    ("empty", b"", Reason.BAD_JSON),
    ("not utf-8", b'{"msg_id": "\xff\xfe"}', Reason.NOT_UTF8),
    ("utf-16", json.dumps(body()).encode("utf-16"), Reason.NOT_UTF8),
    ("over 64 KiB", b" " * (64 * 1024 + 1), Reason.TOO_LARGE),
    ("deep nesting", b"[" * 30000 + b"]" * 30000, Reason.TOO_DEEP),
    ("array", b"[1, 2]", Reason.BAD_SHAPE),
    ("no msg_id", {"sent_at": "2026-11-22T09:15:02Z", "readings": []}, Reason.BAD_MSG_ID),
    ("msg_id too long", {**body(), "msg_id": "x" * 65}, Reason.BAD_MSG_ID),
    ("msg_id control char", {**body(), "msg_id": "a\x00b"}, Reason.BAD_MSG_ID),
    ("msg_id lone surrogate", b'{"msg_id": "\\ud800", "readings": []}', Reason.BAD_MSG_ID),
    ("msg_id number", {**body(), "msg_id": 7}, Reason.BAD_MSG_ID),
    ("no readings", {**body(), "readings": []}, Reason.BAD_SHAPE),
    ("readings not a list", {**body(), "readings": {"spo2": 94}}, Reason.BAD_SHAPE),
    ("reading not an object", {**body(), "readings": [94]}, Reason.BAD_SHAPE),
    ("nested value", body(value={"a": [1, [2]]}), Reason.BAD_VALUE),
    ("unknown metric", body(metric="blood_alcohol"), Reason.UNKNOWN_METRIC),
    ("metric not a string", body(metric=["spo2"]), Reason.BAD_SHAPE),
    ("wrong unit", body(unit="ratio"), Reason.WRONG_UNIT),
    (
        "missing unit",
        {**body(), "readings": [{"metric": "spo2", "value": 94, "measured_at": "2026-11-22T09:15:00Z"}]},
        Reason.WRONG_UNIT,
    ),
    ("implausible high", body(value=101), Reason.IMPLAUSIBLE),
    ("implausible low", body(metric="heart_rate", unit="/min", value=0), Reason.IMPLAUSIBLE),
    (
        "NaN literal",
        b'{"msg_id": "a", "sent_at": "2026-11-22T09:15:02Z", "readings": [{"value": NaN}]}',
        Reason.NOT_FINITE,
    ),
    ("Infinity literal", b'{"msg_id": "a", "readings": [{"value": -Infinity}]}', Reason.NOT_FINITE),
    ("overflowing float", body(value=1e400), Reason.NOT_FINITE),
    ("overflowing integer", body(value=10**400), Reason.NOT_FINITE),
    ("too many digits", b'{"msg_id": "a", "v": ' + b"9" * 5000 + b"}", Reason.BAD_JSON),
    ("bool as number", body(value=True), Reason.BAD_VALUE),
    ("string as number", body(value="94"), Reason.BAD_VALUE),
    ("number as bool", body(metric="on_oxygen", unit="1", value=1), Reason.BAD_VALUE),
    ("bad ACVPU", body(metric="consciousness", unit="1", value="X"), Reason.BAD_VALUE),
    ("naive time", body(measured_at="2026-11-22T09:15:00"), Reason.BAD_TIMESTAMP),
    ("date only", body(measured_at="2026-11-22"), Reason.BAD_TIMESTAMP),
    ("epoch number", body(measured_at=1763802900), Reason.BAD_TIMESTAMP),
    ("garbage time", body(measured_at="yesterday-ish T"), Reason.BAD_TIMESTAMP),
    ("bad sent_at", {**body(), "sent_at": "now"}, Reason.BAD_TIMESTAMP),
    ("topic and payload disagree", {**body(), "device_id": "ox-2"}, Reason.TOPIC_MISMATCH),
    ("same metric twice", {**body(), "readings": body()["readings"] * 2}, Reason.DUPLICATE_METRIC),
]


@pytest.mark.parametrize(("payload", "reason"), [(p, r) for _, p, r in HOSTILE], ids=[n for n, _, _ in HOSTILE])
def test_hostile_payloads_are_rejected_with_their_reason(payload: bytes | dict[str, Any], reason: Reason) -> None:
    assert reason_of(payload) is reason


@pytest.mark.parametrize(
    "topic",
    [
        "p/vward/v1/devices/ox+1/readings",
        "p/vward/v1/devices/ox#/readings",
        "p/vward/v1/devices/ox-1/ack",
        "p/vward/v1/devices/ox-1/readings/x",
        "other/vward/v1/devices/ox-1/readings",
    ],
)
def test_wildcards_and_foreign_topics_are_rejected(topic: str) -> None:
    decoded = decode(body(), topic)
    assert isinstance(decoded, RejectedMessage)
    assert decoded.rejection.reason is Reason.BAD_TOPIC
    assert decoded.device_id is None


def test_a_rejection_keeps_device_and_msg_id_so_the_device_is_confirmed() -> None:
    decoded = decode(body(value=101))
    assert isinstance(decoded, RejectedMessage)
    assert (decoded.device_id, decoded.msg_id) == ("ox-1", "ox-1-1")
    assert "101" not in decoded.rejection.detail  # details name the rule, never echo the value


def test_status_and_last_will() -> None:
    online = decode_message("p/", STATUS_TOPIC, encode_status(True, 80, NOW), NOW)
    assert online == StatusMessage("ox-1", True, 80, NOW)
    offline = decode_message("p/", STATUS_TOPIC, encode_status(False, None, NOW), NOW)
    assert offline == StatusMessage("ox-1", False, None, NOW)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"state": "asleep", "at": "2026-11-22T09:15:00Z"}', Reason.BAD_SHAPE),
        (b'{"state": "online", "battery": 101, "at": "2026-11-22T09:15:00Z"}', Reason.BAD_VALUE),
        (b'{"state": "online", "battery": true, "at": "2026-11-22T09:15:00Z"}', Reason.BAD_VALUE),
        (b'{"state": "online"}', Reason.BAD_TIMESTAMP),
        (b"offline", Reason.BAD_JSON),
    ],
)
def test_bad_status_is_rejected(payload: bytes, reason: Reason) -> None:
    assert reason_of(payload, STATUS_TOPIC) is reason
