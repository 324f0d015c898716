"""Daily range partitions of `readings` on plain PostgreSQL, created ahead of time.

With TimescaleDB the hypertable makes its own chunks and this is a no-op. On plain PostgreSQL a reading
whose day has no partition lands in `readings_default` (nothing is dropped); when that day's partition
is created later, its rows are moved out of the default partition in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import asyncpg

_LOCK_KEY = 0x7677617265  # serialises partition maintenance across processes


def partition_name(day: date) -> str:
    return f"readings_{day:%Y%m%d}"


def days_to_cover(now: datetime, *, behind: int = 2, ahead: int = 7) -> list[date]:
    """The days whose partitions should exist around `now`."""
    today = now.date()
    return [today + timedelta(days=d) for d in range(-behind, ahead + 1)]


async def uses_timescale(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')"))


async def ensure_partitions(conn: asyncpg.Connection, now: datetime) -> list[str]:
    """Create missing daily partitions around `now`; returns the names created."""
    if await uses_timescale(conn):
        return []
    existing = {
        r["relname"]
        for r in await conn.fetch(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'readings'::regclass"
        )
    }
    created: list[str] = []
    for day in days_to_cover(now):
        name = partition_name(day)
        if name in existing:
            continue
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
            if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", name):
                continue
            await _create_partition(conn, name, day)
        created.append(name)
    return created


async def _create_partition(conn: asyncpg.Connection, name: str, day: date) -> None:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    # Build it detached, move any rows the default partition holds for that day, then attach.
    await conn.execute(f'CREATE TABLE "{name}" (LIKE readings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
    await conn.execute(
        f"WITH moved AS (DELETE FROM readings_default WHERE measured_at >= $1::timestamptz "
        f"AND measured_at < $2::timestamptz RETURNING *) "
        f'INSERT INTO "{name}" SELECT * FROM moved',
        start,
        end,
    )
    await conn.execute(
        f'ALTER TABLE readings ATTACH PARTITION "{name}" '
        f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    )
