"""The demo's past month goes in through the storage calls the API uses: once per database, and the
population view then has admissions, readmissions, escalations and lengths of stay to show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from device_sims.core.census import past_stays
from device_sims.ward import plan_ward
from tests.support.servers import create_migrated_database, drop_database
from vward.demo import provision_history, provision_ward
from vward.storage.pool import create_pool
from vward.storage.population import ward_figures

pytestmark = pytest.mark.integration


async def test_the_demo_ward_has_a_past_and_its_readmissions_count() -> None:
    name, dsn = await create_migrated_database()
    pool: asyncpg.Pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        now = datetime.now(UTC)
        plan = plan_ward(12, 3, start=now)
        stays = past_stays(plan, now, seed=3)
        assert await provision_history(pool, stays) == len(stays)
        await provision_ward(pool, plan, now)
        assert await provision_history(pool, stays) == 0  # a re-run on the same data directory adds nothing
        await provision_ward(pool, plan, now)
        figures = await ward_figures(pool, now - timedelta(days=30), now + timedelta(minutes=1), None)
        open_stays = await pool.fetchval("SELECT count(*) FROM episodes WHERE discharged_at IS NULL")
    finally:
        await pool.close()
        await drop_database(name)
    assert open_stays == 12
    in_period = [s for s in stays if s.admitted_at >= now - timedelta(days=30)]
    assert sum(f["admissions"] for f in figures) == 12 + len(in_period)  # every stay, the live ward's too
    assert sum(f["readmissions_30d"] for f in figures) > 0
    assert sum(f["escalations"] for f in figures) > 0
    assert all(f["los_days"] is not None for f in figures)
