"""The simulated ward against the real ingest: every message is accepted, confirmed end to end and stored
once, even with duplicates, reordering and payloads damaged in transit (the intact resend gets through)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg
import pytest

from device_sims.core.faults import FaultRates
from device_sims.publisher import SimulatedWard
from device_sims.ward import WardPlan, plan_ward
from tests.integration.ingest.support import running_ingest
from tests.support.waiting import finishes
from vward.demo import provision_ward
from vward.settings import Settings

pytestmark = pytest.mark.integration


def _unique(plan: WardPlan, tag: str) -> WardPlan:
    """The same ward under ids no other test uses (the test database is shared)."""
    patients = tuple(
        replace(
            p,
            mrn=f"{p.mrn}-{tag}",
            devices=tuple(replace(d, device_id=f"{d.device_id}-{tag}") for d in p.devices),
            silent_device=None if p.silent_device is None else f"{p.silent_device}-{tag}",
        )
        for p in plan.patients
    )
    return replace(plan, patients=patients)


async def test_the_platform_confirms_everything_the_ward_sends(settings: Settings, db_pool: asyncpg.Pool) -> None:
    plan = _unique(plan_ward(3, seed=5, start=datetime.now(UTC)), uuid.uuid4().hex[:8])
    await provision_ward(db_pool, plan, plan.start)
    faults = FaultRates(duplicates=0.3, out_of_order=0.2, malformed=0.2)
    assert settings.mqtt_url is not None
    # 4x for 8 s: 32 simulated seconds. A faster or longer run puts the devices' clocks (simulated time) over
    # 30 s ahead of the platform's, which then corrects their times (ingest.core.clock), and a damaged early
    # message resent after that lands before the admission.
    ward = SimulatedWard(plan, settings.mqtt_url, settings.mqtt_topic_prefix, 4.0, faults, seed=2, resend_after_s=1.0)
    stop = asyncio.Event()
    async with running_ingest(settings, db_pool):
        run = asyncio.create_task(ward.run(stop))
        await asyncio.sleep(8.0)  # the run's length: see above
        stop.set()
        await finishes(run, within=30, what="the ward's clean stop")

    stats = ward.stats
    assert stats.sent > 20
    assert stats.duplicates > 0
    assert stats.resent > 0  # the damaged first transmissions went again
    in_flight = stats.sent - stats.confirmed  # the last second's messages: sent, not yet confirmed at the stop
    assert 0 <= in_flight <= 10
    ids = [d.device_id for d in plan.devices]
    stored = await db_pool.fetchval(
        "SELECT count(DISTINCT (device_id, msg_id)) FROM readings WHERE device_id = ANY($1)", ids
    )
    assert stats.confirmed <= stored <= stats.sent  # each message stored once, duplicates and resends included
    rejected = await db_pool.fetch("SELECT DISTINCT reason FROM dead_letter WHERE device_id = ANY($1)", ids)
    assert {r["reason"] for r in rejected} == {"bad_json"}  # only the damaged transmissions
