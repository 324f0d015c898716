"""What devices say about themselves: last seen, online state and battery; and how their clocks run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from vward.storage.evaluation import EVAL_CHANNEL
from vward.storage.pool import Conn


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A status or Last-Will message; `received_at` orders them (a Will carries its connect-time clock)."""

    device_id: str
    online: bool
    battery: int | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class ClockUpdate:
    """A device clock as ingest now judges it (ingest.core.clock); `estimate` None while in sync."""

    device_id: str
    correction: timedelta
    estimate: timedelta | None
    at: datetime


_MS = timedelta(milliseconds=1)


async def record_clocks(conn: Conn, updates: Sequence[ClockUpdate]) -> None:
    """Store each device's clock judgement unless a newer one is stored (concurrent batches), in id order."""
    if not updates:
        return
    ordered = sorted(updates, key=lambda u: u.device_id)
    await conn.execute(
        "WITH v AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::timestamptz[])"
        " AS v(id, correction, estimate, at)),"
        " locked AS (SELECT id FROM devices WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE)"
        " UPDATE devices d SET clock_correction_ms = v.correction, clock_estimate_ms = v.estimate,"
        " clock_estimated_at = v.at FROM v WHERE d.id = v.id AND d.id IN (SELECT id FROM locked)"
        " AND (d.clock_estimated_at IS NULL OR d.clock_estimated_at <= v.at)",
        [u.device_id for u in ordered],
        [u.correction // _MS for u in ordered],
        [None if u.estimate is None else u.estimate // _MS for u in ordered],
        [u.at for u in ordered],
    )


async def clock_judgements(conn: Conn) -> dict[str, tuple[timedelta, timedelta | None]]:
    """{device id: (correction, estimate)} of every device not judged in sync: where ingest resumes."""
    rows = await conn.fetch(
        "SELECT id, clock_correction_ms, clock_estimate_ms FROM devices"
        " WHERE clock_correction_ms <> 0 OR clock_estimate_ms IS NOT NULL"
    )
    return {
        r["id"]: (
            r["clock_correction_ms"] * _MS,
            None if r["clock_estimate_ms"] is None else r["clock_estimate_ms"] * _MS,
        )
        for r in rows
    }


async def skewed_devices(conn: Conn) -> list[asyncpg.Record]:
    """Devices whose clock is judged off or still corrected, furthest off first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, kind, clock_estimate_ms, clock_correction_ms, clock_estimated_at, last_seen_at FROM devices"
        " WHERE clock_correction_ms <> 0 OR clock_estimate_ms IS NOT NULL"
        " ORDER BY abs(coalesce(clock_estimate_ms, clock_correction_ms)) DESC, id"
    )
    return rows


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
    """Apply the latest update per device (older ones are ignored); returns the ids of unknown devices.

    A status that changes a device's online state or battery queues its admitted patient as 'urgent' at
    once, so a Last Will or a flat battery is judged now, not at the next periodic re-evaluation."""
    latest: dict[str, StatusUpdate] = {}
    for u in updates:
        if u.device_id not in latest or latest[u.device_id].received_at <= u.received_at:
            latest[u.device_id] = u
    if not latest:
        return set()
    ordered = [latest[i] for i in sorted(latest)]
    row = await conn.fetchrow(
        _APPLY_STATUSES,
        [u.device_id for u in ordered],
        [u.online for u in ordered],
        [u.battery for u in ordered],
        [u.received_at for u in ordered],
    )
    if row["queued"]:
        await conn.execute("SELECT pg_notify($1, '')", EVAL_CHANNEL)
    return set(row["unknown"])


# `old` reads the rows as they were before this statement, so `changed` compares before with after.
_APPLY_STATUSES = """
WITH v AS (
    SELECT * FROM unnest($1::text[], $2::boolean[], $3::smallint[], $4::timestamptz[]) AS v(id, online, battery, at)
),
upd AS (
    UPDATE devices d SET online = v.online, battery = coalesce(v.battery, d.battery), status_at = v.at,
        last_seen_at = greatest(d.last_seen_at, v.at)
    FROM v, devices old
    WHERE d.id = v.id AND old.id = d.id AND (d.status_at IS NULL OR d.status_at <= v.at)
    RETURNING d.id,
        old.online IS DISTINCT FROM v.online OR old.battery IS DISTINCT FROM coalesce(v.battery, old.battery) AS changed
), queued AS (
    INSERT INTO eval_queue (patient_id, reason)
    SELECT DISTINCT b.patient_id, 'urgent' FROM upd JOIN device_bindings b ON b.device_id = upd.id
    JOIN patients p ON p.id = b.patient_id
    WHERE upd.changed AND upper_inf(b.valid) AND p.discharged_at IS NULL
    ORDER BY b.patient_id
    ON CONFLICT DO NOTHING
    RETURNING patient_id
)
SELECT ARRAY(SELECT v.id FROM v WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.id = v.id)) AS unknown,
       (SELECT count(*) FROM queued) AS queued
"""
