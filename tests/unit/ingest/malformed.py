"""Hypothesis strategies for payloads that break the wire contract in one way or another.

Shared by the pure fuzz test and the integration run that proves they land in dead_letter.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

VALID_READING: dict[str, Any] = {"metric": "spo2", "value": 94, "unit": "%", "measured_at": "2026-11-22T09:15:00Z"}


def valid_body(msg_id: str = "m-1") -> dict[str, Any]:
    return {"msg_id": msg_id, "sent_at": "2026-11-22T09:15:02Z", "readings": [dict(VALID_READING)]}


def _encode(body: object) -> bytes:
    return json.dumps(body, allow_nan=True).encode()


_json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    _json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
# Values no reading field accepts: out-of-range numbers, NaN/inf, wrong types and nested structures.
bad_values = (
    st.floats(max_value=49.99)
    | st.floats(min_value=100.01)
    | st.sampled_from([float("nan"), float("inf")])
    | st.text(max_size=10)
    | st.booleans()
    | st.none()
    | st.lists(_json_leaf, max_size=3)
    | st.integers(min_value=101)
    | st.integers(max_value=49)
)
bad_timestamps = st.one_of(
    st.integers(),
    st.none(),
    st.text(max_size=30).filter(lambda t: "T" not in t),
    st.sampled_from(["2026-11-22T09:15:00", "2026-13-01T00:00:00Z", "2026-11-22T25:00:00Z", "T"]),
)
bad_msg_ids = st.one_of(
    st.none(),
    st.integers(),
    st.just(""),
    st.text(min_size=65, max_size=80),
    st.text(min_size=1, max_size=10).map(lambda t: t + "\x00"),
    st.lists(st.text(max_size=3), max_size=2),
)


@st.composite
def broken_field(draw: st.DrawFn) -> bytes:
    """A valid message with exactly one field made invalid."""
    body = valid_body()
    reading = body["readings"][0]
    field = draw(st.sampled_from(["value", "metric", "unit", "measured_at", "sent_at", "msg_id", "readings", "root"]))
    if field == "value":
        reading["value"] = draw(bad_values)
    elif field == "metric":
        reading["metric"] = draw(st.text(max_size=20).filter(lambda t: t != "spo2") | json_values)
    elif field == "unit":
        reading["unit"] = draw(json_values.filter(lambda u: u != "%"))
    elif field == "measured_at":
        reading["measured_at"] = draw(bad_timestamps)
    elif field == "sent_at":
        body["sent_at"] = draw(bad_timestamps)
    elif field == "msg_id":
        body["msg_id"] = draw(bad_msg_ids)
    elif field == "readings":
        body["readings"] = draw(st.one_of(st.just([]), json_values.filter(lambda v: not isinstance(v, list))))
    else:
        return _encode(draw(json_values.filter(lambda v: not isinstance(v, dict))))
    return _encode(body)


@st.composite
def damaged_bytes(draw: st.DrawFn) -> bytes:
    """A valid message truncated, with invalid UTF-8 spliced in, oversized or deeply nested."""
    raw = _encode(valid_body())
    how = draw(st.sampled_from(["truncate", "splice", "oversize", "nest"]))
    if how == "truncate":
        return raw[: draw(st.integers(0, len(raw) - 1))]
    if how == "splice":
        at = draw(st.integers(0, len(raw)))
        invalid = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]))
        return raw[:at] + invalid + raw[at:]
    if how == "oversize":
        return raw + b" " * draw(st.integers(64 * 1024 - len(raw) + 1, 70 * 1024))
    depth = draw(st.integers(2000, 30000))
    return b'{"msg_id": "a", "readings": ' + b"[" * depth + b"]" * depth + b"}"


malformed_payloads = broken_field() | damaged_bytes() | st.binary(max_size=200)
