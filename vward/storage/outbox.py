"""The notification outbox: rows written in the alert's own transaction, delivered at least once.

A sender leases due rows (bumping `attempts` and pushing `next_attempt_at` past the lease) in a short
transaction, sends outside it, then marks each sent or failed. A sender that dies mid-send only delays
its rows until the lease expires: they are sent again, and the idempotency key lets receivers de-duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vward.storage.pool import Conn

_COLUMNS = "id, alert_id, idempotency_key, channel, target, payload, attempts, created_at"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    alert_id: int | None
    idempotency_key: str
    channel: str
    target: str
    payload: dict[str, Any]
    attempts: int  # including the attempt this lease is for
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxHealth:
    """What ops watch: a queue nobody drains is a hazard."""

    pending: int
    failing: int  # pending rows that have failed at least once
    oldest_pending_at: datetime | None
    sent: int
    failed_attempts: int  # every failed attempt ever, sent or not
    last_error: str | None


async def enqueue(
    conn: Conn, *, alert_id: int | None, idempotency_key: str, channel: str, target: str, payload: dict[str, Any]
) -> bool:
    """Queue one notification; a key already queued is a duplicate and is not queued twice."""
    status = await conn.execute(
        "INSERT INTO notification_outbox (alert_id, idempotency_key, channel, target, payload)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING",
        alert_id,
        idempotency_key,
        channel,
        target,
        payload,
    )
    return bool(status.endswith(" 1"))


async def lease_due(conn: Conn, now: datetime, *, limit: int, lease: timedelta) -> list[OutboxItem]:
    """Claim up to `limit` due rows for `lease`; concurrent senders skip each other's rows."""
    rows = await conn.fetch(
        "UPDATE notification_outbox SET attempts = attempts + 1, next_attempt_at = $2"
        " WHERE id IN (SELECT id FROM notification_outbox WHERE sent_at IS NULL AND next_attempt_at <= $1"
        " ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)"
        f" RETURNING {_COLUMNS}",
        now,
        now + lease,
        limit,
    )
    return [OutboxItem(**dict(r)) for r in rows]


async def mark_sent(conn: Conn, item_id: int, at: datetime) -> None:
    await conn.execute(
        "UPDATE notification_outbox SET sent_at = $2, last_error = NULL WHERE id = $1 AND sent_at IS NULL",
        item_id,
        at,
    )


async def mark_failed(conn: Conn, item_id: int, error: str, retry_at: datetime) -> None:
    await conn.execute(
        "UPDATE notification_outbox SET last_error = $2, next_attempt_at = $3 WHERE id = $1 AND sent_at IS NULL",
        item_id,
        error[:500],
        retry_at,
    )


async def outbox_health(conn: Conn) -> OutboxHealth:
    row = await conn.fetchrow(
        "SELECT count(*) FILTER (WHERE sent_at IS NULL) AS pending,"
        " count(*) FILTER (WHERE sent_at IS NULL AND last_error IS NOT NULL) AS failing,"
        " min(created_at) FILTER (WHERE sent_at IS NULL) AS oldest_pending_at,"
        " count(*) FILTER (WHERE sent_at IS NOT NULL) AS sent,"
        " coalesce(sum(attempts - (sent_at IS NOT NULL)::int)"
        "   FILTER (WHERE sent_at IS NOT NULL OR last_error IS NOT NULL), 0) AS failed_attempts,"
        " (SELECT last_error FROM notification_outbox WHERE last_error IS NOT NULL"
        "   ORDER BY next_attempt_at DESC LIMIT 1) AS last_error"
        " FROM notification_outbox"
    )
    return OutboxHealth(**dict(row))
