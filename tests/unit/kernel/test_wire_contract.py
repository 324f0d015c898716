"""Topic names and payload encoding of the wire contract (design.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ingest.core.topics import ParsedTopic, device_topic, parse_topic, subscription
from ingest.core.wire import decode_ack, encode_ack, encode_readings, encode_status, rfc3339
from vward.domain.metrics import Metric

AT = datetime(2026, 11, 22, 9, 15, 0, tzinfo=UTC)


def test_topics_follow_the_contract() -> None:
    assert device_topic("", "ox-0042", "readings") == "vward/v1/devices/ox-0042/readings"
    assert device_topic("t/", "ox-0042", "ack") == "t/vward/v1/devices/ox-0042/ack"
    assert subscription("t/", "status") == "t/vward/v1/devices/+/status"


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("p/vward/v1/devices/ox-1/readings", ParsedTopic("ox-1", "readings")),
        ("p/vward/v1/devices/ox-1/status", ParsedTopic("ox-1", "status")),
        ("vward/v1/devices/ox-1/readings", None),  # wrong prefix
        ("p/vward/v1/devices/ox+1/readings", None),  # wildcard character in the id
        ("p/vward/v1/devices/ox#/readings", None),
        ("p/vward/v1/devices/" + "a" * 65 + "/readings", None),  # id too long
        ("p/vward/v1/devices/ox-1/other", None),
        ("p/vward/v2/devices/ox-1/readings", None),
        ("p/vward/v1/devices/ox-1/readings/extra", None),
    ],
)
def test_parse_topic(topic: str, expected: ParsedTopic | None) -> None:
    assert parse_topic("p/", topic) == expected


def test_readings_payload_matches_the_contract_example() -> None:
    payload = encode_readings("ox-0042-000173", AT, [(Metric.SPO2, 94, AT), (Metric.HEART_RATE, 88, AT)])
    assert json.loads(payload) == {
        "msg_id": "ox-0042-000173",
        "sent_at": "2026-11-22T09:15:00Z",
        "readings": [
            {"metric": "spo2", "value": 94, "unit": "%", "measured_at": "2026-11-22T09:15:00Z"},
            {"metric": "heart_rate", "value": 88, "unit": "/min", "measured_at": "2026-11-22T09:15:00Z"},
        ],
    }


def test_status_and_ack_round_trip() -> None:
    assert json.loads(encode_status(False, 12, AT)) == {"state": "offline", "battery": 12, "at": "2026-11-22T09:15:00Z"}
    assert decode_ack(encode_ack(["a", "b"], AT)) == ["a", "b"]


@pytest.mark.parametrize(
    ("garbage", "confirmed"),
    [(b"", []), (b"not json", []), (b'{"msg_ids": "a"}', []), (b'{"msg_ids": [1, "b"]}', ["b"]), (b"[]", [])],
)
def test_unreadable_ack_confirms_nothing_it_cannot_read(garbage: bytes, confirmed: list[str]) -> None:
    assert decode_ack(garbage) == confirmed


def test_rfc3339_keeps_milliseconds_in_utc() -> None:
    assert rfc3339(datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)) == "2026-01-02T03:04:05.678Z"
