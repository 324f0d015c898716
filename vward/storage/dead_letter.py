"""Refused messages, kept with their reason, topic, bounded raw bytes and arrival time for ops to inspect."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from vward.storage.pool import Conn

# Payloads are at most 64 KiB on the wire; a quarter is plenty to diagnose, and bounds the table.
MAX_STORED_PAYLOAD = 16 * 1024
_COLUMNS = ("received_at", "topic", "device_id", "reason", "detail", "payload", "payload_size")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    received_at: datetime
    topic: str
    device_id: str | None
    reason: str
    detail: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class StoredDeadLetter:
    id: int
    received_at: datetime
    topic: str
    device_id: str | None
    reason: str
    detail: str
    payload: bytes  # the first MAX_STORED_PAYLOAD bytes
    payload_size: int


def _text(value: str, limit: int) -> str:
    """Text PostgreSQL accepts (no NUL, no lone surrogates), bounded."""
    return value[:limit].encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


async def insert_dead_letters(conn: Conn, letters: Sequence[DeadLetter]) -> None:
    if not letters:
        return
    records = [
        (
            d.received_at,
            _text(d.topic, 1024),
            d.device_id,
            d.reason,
            _text(d.detail, 500),
            d.payload[:MAX_STORED_PAYLOAD],
            len(d.payload),
        )
        for d in letters
    ]
    await conn.copy_records_to_table("dead_letter", records=records, columns=_COLUMNS)


async def list_dead_letters(
    conn: Conn, *, limit: int, offset: int = 0, reason: str | None = None, device_id: str | None = None
) -> list[StoredDeadLetter]:
    """Newest first, optionally for one reason code or one device."""
    rows = await conn.fetch(
        "SELECT id, received_at, topic, device_id, reason, detail, payload, payload_size FROM dead_letter"
        " WHERE ($1::text IS NULL OR reason = $1) AND ($2::text IS NULL OR device_id = $2)"
        " ORDER BY received_at DESC, id DESC LIMIT $3 OFFSET $4",
        reason,
        device_id,
        limit,
        offset,
    )
    return [StoredDeadLetter(**dict(r)) for r in rows]
