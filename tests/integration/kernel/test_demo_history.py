"""The demo's past month goes in through the storage calls the API uses: once per database, and the
population view then has admissions, readmissions, escalations and lengths of stay to show. While it runs,
stable patients are discharged with their kit collected and readmitted with it reissued, never one with an
alert still to deal with."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from itertools import islice

import asyncpg
import pytest

from device_sims.core.census import live_turns, past_stays
from device_sims.ward import ScenarioMix, plan_ward
from tests.support.servers import create_migrated_database, drop_database
from tests.support.waiting import finishes
from vward.demo import provision_history, provision_ward, run_census
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


class KitRoom:
    """The simulated ward as the census sees it: a clock running 600 times real time, and its kit."""

    speed = 600.0

    def __init__(self, start: datetime) -> None:
        self.start, self.t0 = start, time.monotonic()
        self.collected: list[list[str]] = []
        self.reissued: list[list[str]] = []

    def sim_time(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * self.speed)

    def collect(self, device_ids: list[str]) -> None:
        self.collected.append(device_ids)

    def reissue(self, device_ids: list[str]) -> None:
        self.reissued.append(device_ids)


async def test_the_live_ward_discharges_and_readmits_with_the_same_kit_but_not_while_an_alert_is_open() -> None:
    name, dsn = await create_migrated_database()
    pool: asyncpg.Pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        now = datetime.now(UTC)
        plan = plan_ward(6, 3, scenario_mix=ScenarioMix.parse("stable=1,sepsis=1"), start=now)
        await provision_ward(pool, plan, now)
        minute = timedelta(minutes=1)
        turns = list(islice(live_turns(plan, 3, first=minute, every=3 * minute, away=minute), 3))
        alerted = turns[1].patient
        await pool.execute(
            "INSERT INTO alerts (patient_id, rule_id, rule_set_name, rule_set_version, severity, state, title,"
            " opened_at, updated_at) SELECT id, 'news2', 'default', 1, 2, 'acknowledged', 'NEWS2', $2, $2"
            " FROM patients WHERE mrn = $1",
            alerted.mrn,
            now,
        )
        ward = KitRoom(now)
        census = run_census(pool, ward, iter(turns), asyncio.Event())  # type: ignore[arg-type]
        await finishes(census, within=180, what="the census's discharges and readmissions")
        stays = await pool.fetch(
            "SELECT p.mrn, e.outcome, e.discharged_at, e.admitted_at FROM episodes e JOIN patients p"
            " ON p.id = e.patient_id ORDER BY p.mrn, e.admitted_at"
        )
        bound = await pool.fetch(
            "SELECT b.device_id, p.mrn, count(*) AS bindings, bool_or(upper_inf(b.valid)) AS open"
            " FROM device_bindings b JOIN patients p ON p.id = b.patient_id GROUP BY b.device_id, p.mrn"
        )
        events = await pool.fetch(
            "SELECT p.mrn, array_agg(v.kind ORDER BY v.at, v.id) AS kinds FROM episode_events v"
            " JOIN patients p ON p.id = v.patient_id GROUP BY p.mrn"
        )
    finally:
        await pool.close()
        await drop_database(name)
    turned = {turns[0].patient.mrn, turns[2].patient.mrn}
    assert alerted.mrn not in turned
    by_mrn: dict[str, list[asyncpg.Record]] = {}
    for s in stays:
        by_mrn.setdefault(s["mrn"], []).append(s)
    for mrn, own in by_mrn.items():
        if mrn in turned:  # discharged, completed, then a new stay that is open
            assert [s["outcome"] for s in own] == ["completed", None]
            assert own[0]["discharged_at"] < own[1]["admitted_at"]
        else:  # the alerted patient, and those never turned over
            assert [s["outcome"] for s in own] == [None]
    kit = {d.device_id for t in (turns[0], turns[2]) for d in t.patient.devices}
    assert {b["device_id"] for b in bound if b["bindings"] == 2} == kit  # ended at discharge, bound again
    assert all(b["open"] for b in bound)
    assert {e["mrn"]: e["kinds"] for e in events if e["mrn"] in turned} == {
        mrn: ["admitted", "discharged", "admitted"] for mrn in turned
    }
    assert ward.collected == ward.reissued == [turns[0].device_ids, turns[2].device_ids]
