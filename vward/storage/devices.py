"""What devices say about themselves: last seen, online state and battery."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from vward.storage.pool import Conn


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A status or Last-Will message; `received_at` orders them (a Will carries its connect-time clock)."""

    device_id: str
    online: bool
    battery: int | None
    received_at: datetime


async def touch_devices(conn: Conn, seen: Mapping[str, datetime]) -> None:
    """Move each device's last_seen_at forward (never back), in id order so concurrent writers don't deadlock."""
    if not seen:
        return
    ids = sorted(seen)
    await conn.execute(
        "WITH locked AS (SELECT id FROM devices WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE)"
        " UPDATE devices d SET last_seen_at = v.at FROM unnest($1::text[], $2::timestamptz[]) v(id, at)"
        " WHERE d.id = v.id AND d.id IN (SELECT id FROM locked)"
        " AND (d.last_seen_at IS NULL OR d.last_seen_at < v.at)",
        ids,
        [seen[i] for i in ids],
    )


async def apply_statuses(conn: Conn, updates: Sequence[StatusUpdate]) -> set[str]:
    """Apply the latest update per device (older ones are ignored); returns the ids of unknown devices."""
    latest: dict[str, StatusUpdate] = {}
    for u in updates:
        if u.device_id not in latest or latest[u.device_id].received_at <= u.received_at:
            latest[u.device_id] = u
    if not latest:
        return set()
    ordered = [latest[i] for i in sorted(latest)]
    rows = await conn.fetch(
        "WITH v AS (SELECT * FROM unnest($1::text[], $2::boolean[], $3::smallint[], $4::timestamptz[])"
        " AS v(id, online, battery, at)),"
        " upd AS (UPDATE devices d SET online = v.online, battery = coalesce(v.battery, d.battery), status_at = v.at,"
        " last_seen_at = greatest(d.last_seen_at, v.at)"
        " FROM v WHERE d.id = v.id AND (d.status_at IS NULL OR d.status_at <= v.at))"
        " SELECT v.id FROM v WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.id = v.id)",
        [u.device_id for u in ordered],
        [u.online for u in ordered],
        [u.battery for u in ordered],
        [u.received_at for u in ordered],
    )
    return {r["id"] for r in rows}
