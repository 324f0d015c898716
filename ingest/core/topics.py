"""MQTT topic names of the wire contract (design.md), shared by ingest and the simulated devices."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
TopicKind = Literal["readings", "status", "ack"]
_BASE = "vward/v1/devices"


def device_topic(prefix: str, device_id: str, kind: TopicKind) -> str:
    return f"{prefix}{_BASE}/{device_id}/{kind}"


def subscription(prefix: str, kind: TopicKind) -> str:
    """The wildcard filter matching every device's `kind` topic."""
    return f"{prefix}{_BASE}/+/{kind}"


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    device_id: str
    kind: TopicKind


def parse_topic(prefix: str, topic: str) -> ParsedTopic | None:
    """The device and kind a topic names, or None when it is not one of ours or the id is invalid."""
    if not topic.startswith(prefix):
        return None
    parts = topic[len(prefix) :].split("/")
    if len(parts) != 5 or "/".join(parts[:3]) != _BASE or parts[4] not in ("readings", "status", "ack"):
        return None
    if not DEVICE_ID_RE.match(parts[3]):
        return None
    kind: TopicKind = parts[4]  # type: ignore[assignment]
    return ParsedTopic(parts[3], kind)
