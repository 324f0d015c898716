"""Encoding of the wire payloads (design.md): readings, device status and the platform's ack.

The simulated devices encode with these functions and ingest decodes what they produce, so the
two sides cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from vward.domain.metrics import METRIC_SPECS, Metric
from vward.domain.readings import ReadingValue

MAX_PAYLOAD_BYTES = 64 * 1024


def rfc3339(at: datetime) -> str:
    """UTC with a trailing Z and millisecond precision at most."""
    at = at.astimezone(UTC)
    text = at.isoformat(timespec="milliseconds" if at.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def encode_readings(msg_id: str, sent_at: datetime, readings: Sequence[tuple[Metric, ReadingValue, datetime]]) -> bytes:
    body = {
        "msg_id": msg_id,
        "sent_at": rfc3339(sent_at),
        "readings": [
            {"metric": m.value, "value": v, "unit": METRIC_SPECS[m].unit, "measured_at": rfc3339(at)}
            for m, v, at in readings
        ],
    }
    return json.dumps(body, separators=(",", ":")).encode()


def encode_status(online: bool, battery: int | None, at: datetime) -> bytes:
    body: dict[str, object] = {"state": "online" if online else "offline", "at": rfc3339(at)}
    if battery is not None:
        body["battery"] = battery
    return json.dumps(body, separators=(",", ":")).encode()


def encode_ack(msg_ids: Iterable[str], at: datetime) -> bytes:
    """The platform's end-to-end confirmation: these msg_ids are committed (or dead-lettered)."""
    return json.dumps({"msg_ids": list(msg_ids), "at": rfc3339(at)}, separators=(",", ":")).encode()


def decode_ack(payload: bytes) -> list[str]:
    """The msg_ids of an ack payload; an unreadable ack confirms nothing (the device resends)."""
    try:
        body = json.loads(payload)
        ids = body["msg_ids"]
    except (ValueError, KeyError, TypeError):
        return []
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []
