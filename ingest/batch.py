"""A micro-batch: the deliveries taken together, decoded, and the rows each table gets from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ingest.core.decode import Decoded, ReadingsMessage, RejectedMessage, StatusMessage, decode_message
from ingest.core.rejections import Reason, Rejection
from ingest.inbox import Delivery
from vward.domain.readings import Reading
from vward.storage.dead_letter import DeadLetter
from vward.storage.devices import ClockUpdate, StatusUpdate


@dataclass(frozen=True, slots=True)
class Entry:
    delivery: Delivery
    decoded: Decoded


@dataclass(frozen=True, slots=True)
class Batch:
    """Entries committed together, with the device clock judgements that changed while they were decoded."""

    entries: Sequence[Entry]
    clocks: Sequence[ClockUpdate] = ()


def decode(prefix: str, delivery: Delivery) -> Entry:
    return Entry(delivery, decode_message(prefix, delivery.topic, delivery.payload, delivery.received_at))


def reading_count(entry: Entry) -> int:
    return len(entry.decoded.readings) if isinstance(entry.decoded, ReadingsMessage) else 0


def device_of(entry: Entry) -> str | None:
    return entry.decoded.device_id


def staged(entries: Sequence[Entry]) -> list[tuple[int, Reading]]:
    """Every reading, tagged with the index of its message in the batch."""
    return [
        (seq, r) for seq, e in enumerate(entries) if isinstance(e.decoded, ReadingsMessage) for r in e.decoded.readings
    ]


def status_updates(entries: Sequence[Entry]) -> list[StatusUpdate]:
    return [
        StatusUpdate(e.decoded.device_id, e.decoded.online, e.decoded.battery, e.delivery.received_at)
        for e in entries
        if isinstance(e.decoded, StatusMessage)
    ]


def last_seen(entries: Sequence[Entry]) -> dict[str, datetime]:
    """The latest arrival per device that named itself in a valid topic, accepted or not."""
    seen: dict[str, datetime] = {}
    for e in entries:
        device_id = device_of(e)
        if device_id is not None and (device_id not in seen or seen[device_id] < e.delivery.received_at):
            seen[device_id] = e.delivery.received_at
    return seen


def dead_letter(entry: Entry, rejection: Rejection) -> DeadLetter:
    d = entry.delivery
    return DeadLetter(d.received_at, d.topic, device_of(entry), rejection.reason.value, rejection.detail, d.payload)


def decode_rejections(entries: Sequence[Entry]) -> dict[int, Rejection]:
    return {seq: e.decoded.rejection for seq, e in enumerate(entries) if isinstance(e.decoded, RejectedMessage)}


def unknown_status_devices(entries: Sequence[Entry], unknown: set[str]) -> dict[int, Rejection]:
    rejection = Rejection(Reason.UNKNOWN_DEVICE, "status from a device that is not registered")
    return {
        seq: rejection
        for seq, e in enumerate(entries)
        if isinstance(e.decoded, StatusMessage) and e.decoded.device_id in unknown
    }


def confirmations(entries: Sequence[Entry]) -> dict[str, list[str]]:
    """msg_ids per device that are now settled (stored or dead-lettered): the device may forget them."""
    done: dict[str, list[str]] = {}
    for e in entries:
        decoded = e.decoded
        if isinstance(decoded, ReadingsMessage | RejectedMessage) and decoded.device_id and decoded.msg_id:
            done.setdefault(decoded.device_id, []).append(decoded.msg_id)
    return done
