"""Migrations are idempotent, safe from several processes at once, and refuse edited history;
readings partitions are created ahead and take over rows parked in the default partition."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests.support.servers import create_database, drop_database
from vward.storage.migrate import Migration, MigrationError, bundled_migrations, migrate
from vward.storage.partitions import ensure_partitions, partition_name

pytestmark = pytest.mark.integration


async def test_concurrent_migrations_apply_each_version_once() -> None:
    name, dsn = await create_database()
    try:
        conns = [await asyncpg.connect(dsn) for _ in range(3)]
        results = await asyncio.gather(*(migrate(c) for c in conns))
        applied = sorted(v for r in results for v in r)
        assert applied == sorted(m.version for m in bundled_migrations())
        assert await migrate(conns[0]) == []
        for c in conns:
            await c.close()
    finally:
        await drop_database(name)


async def test_edited_migration_is_refused(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        first = bundled_migrations()[0]
        with pytest.raises(MigrationError, match=first.version):
            await migrate(conn, [Migration(first.version, first.sql + "\n-- edited")])
    finally:
        await conn.close()


async def test_partitions_cover_the_week_and_adopt_parked_rows(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        far = datetime.now(UTC) + timedelta(days=40)
        await conn.execute(
            "INSERT INTO readings (device_id, msg_id, metric, value, measured_at, received_at, patient_id)"
            " VALUES ('part-dev', 'm1', 'spo2', 95, $1, now(), 0)",
            far,
        )
        assert await conn.fetchval("SELECT count(*) FROM readings_default WHERE device_id = 'part-dev'") == 1

        created = await ensure_partitions(conn, far)
        assert partition_name(far.date()) in created
        where = "FROM {} WHERE device_id = 'part-dev'"
        assert await conn.fetchval("SELECT count(*) " + where.format("readings_default")) == 0
        assert await conn.fetchval("SELECT count(*) " + where.format(partition_name(far.date()))) == 1
        assert await ensure_partitions(conn, far) == []
    finally:
        await conn.close()
