"""Property: whatever arrives, the decoder answers with a value, and malformed input is always refused."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.core.decode import RejectedMessage, decode_message
from ingest.core.rejections import Reason
from tests.unit.ingest.malformed import malformed_payloads

NOW = datetime(2026, 11, 22, 9, 15, 2, tzinfo=UTC)
TOPIC = "f/vward/v1/devices/fz-1/readings"
FUZZ = settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(malformed_payloads)
def test_malformed_readings_are_all_rejected_with_a_reason(payload: bytes) -> None:
    decoded = decode_message("f/", TOPIC, payload, NOW)
    assert isinstance(decoded, RejectedMessage)
    assert decoded.rejection.reason in Reason


@settings(max_examples=2_000, deadline=None)
@given(st.text(max_size=120), st.binary(max_size=300))
def test_any_topic_and_bytes_decode_without_raising(topic: str, payload: bytes) -> None:
    decoded = decode_message("f/", topic, payload, NOW)
    assert isinstance(decoded, RejectedMessage) or decoded.device_id
