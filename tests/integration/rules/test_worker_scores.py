"""The walking skeleton: readings committed by ingest -> the rules worker -> the patient's NEWS2 row."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from rules.worker import RulesWorker
from tests.integration.rules.helpers import (
    NEWS2_HIGH,
    NEWS2_SIX,
    NEWS2_ZERO,
    admitted_patient,
    record_readings,
)
from tests.support.waiting import eventually, finishes
from vward.domain.metrics import Metric
from vward.domain.readings import ReadingValue
from vward.settings import Settings
from vward.storage.pool import create_pool

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def running(worker: RulesWorker) -> AsyncIterator[RulesWorker]:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await finishes(task, within=30, what="the rules worker's stop")


async def test_committed_readings_become_a_news2_score_and_history(settings: Settings, db_pool: asyncpg.Pool) -> None:
    now = datetime.now(UTC)
    patient_id, device_id = await admitted_patient(db_pool, now - timedelta(hours=1))
    async with running(RulesWorker(settings, db_pool)):
        await record_readings(db_pool, patient_id, device_id, NEWS2_SIX, now)
        score = await eventually(
            lambda: db_pool.fetchrow("SELECT * FROM patient_scores WHERE patient_id = $1", patient_id),
            within=30,
            what="a NEWS2 score",
        )
        assert (score["score"], score["band"], score["complete"]) == (6, "medium", True)
        assert score["parameters"]["respiratory_rate"]["score"] == 2
        assert score["rule_set_version"] >= 1

        await record_readings(db_pool, patient_id, device_id, NEWS2_ZERO, now + timedelta(seconds=1))
        await eventually(
            lambda: db_pool.fetchval("SELECT score = 0 FROM patient_scores WHERE patient_id = $1", patient_id),
            within=30,
            what="the score back to 0",
        )
    history = await db_pool.fetch(
        "SELECT score FROM score_history WHERE patient_id = $1 ORDER BY computed_at", patient_id
    )
    assert [h["score"] for h in history] == [6, 0]


async def test_a_missing_parameter_is_incomplete_not_zero(settings: Settings, db_pool: asyncpg.Pool) -> None:
    now = datetime.now(UTC)
    patient_id, device_id = await admitted_patient(db_pool, now - timedelta(hours=1))
    values: dict[Metric, ReadingValue] = {m: v for m, v in NEWS2_ZERO.items() if m != Metric.CONSCIOUSNESS}
    async with running(RulesWorker(settings, db_pool)):
        await record_readings(db_pool, patient_id, device_id, values, now)
        score = await eventually(
            lambda: db_pool.fetchrow("SELECT * FROM patient_scores WHERE patient_id = $1", patient_id),
            within=30,
            what="an incomplete score",
        )
    assert score["score"] is None
    assert score["complete"] is False
    assert list(score["missing"]) == ["consciousness"]


async def test_the_worker_rides_out_lost_database_connections(settings: Settings, db_pool: asyncpg.Pool) -> None:
    assert settings.database_url is not None
    tagged = settings.model_copy(update={"database_url": f"{settings.database_url}?application_name=rules-outage"})
    assert tagged.database_url is not None
    pool = await create_pool(tagged.database_url, min_size=1, max_size=3)
    now = datetime.now(UTC)
    patient_id, device_id = await admitted_patient(db_pool, now - timedelta(hours=1))
    try:
        async with running(RulesWorker(tagged, pool)):
            await record_readings(db_pool, patient_id, device_id, NEWS2_SIX, now)
            await eventually(
                lambda: db_pool.fetchval("SELECT score FROM patient_scores WHERE patient_id = $1", patient_id),
                within=30,
                what="a score from the worker",
            )
            killed = await db_pool.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'rules-outage'"
            )
            assert killed >= 2  # the pool's connection(s) and the LISTEN connection
            await record_readings(db_pool, patient_id, device_id, NEWS2_ZERO, now + timedelta(seconds=1))
            await eventually(
                lambda: db_pool.fetchval("SELECT score = 0 FROM patient_scores WHERE patient_id = $1", patient_id),
                within=30,
                what="the score back to 0 after the outage",
            )
    finally:
        await pool.close()


async def test_re_evaluating_unchanged_readings_later_adds_no_history_row(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    """Only the values' ages changed (a timer re-evaluation): the chart's history keeps one row."""
    now = datetime.now(UTC)
    patient_id, device_id = await admitted_patient(db_pool, now - timedelta(hours=1))
    await record_readings(db_pool, patient_id, device_id, NEWS2_SIX, now, notify=False)
    clock = [now]
    worker = RulesWorker(settings, db_pool, clock=lambda: clock[0])
    await worker.drain()
    for minutes in (1, 2):
        clock[0] = now + timedelta(minutes=minutes)
        await db_pool.execute("INSERT INTO eval_queue (patient_id, reason) VALUES ($1, 'tick')", patient_id)
        await worker.drain()
    ages = await db_pool.fetchval(
        "SELECT parameters -> 'heart_rate' ->> 'age_minutes' FROM patient_scores WHERE patient_id = $1", patient_id
    )
    assert float(ages) == 2.0  # the latest score is current
    history = await db_pool.fetch("SELECT score FROM score_history WHERE patient_id = $1", patient_id)
    assert [h["score"] for h in history] == [6]


async def test_a_score_the_database_refuses_costs_only_that_patients_score(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    """Scores are written for the whole batch at once; when that fails, each is retried alone, and every
    patient's alerts are still applied in the same committed batch."""
    now = datetime.now(UTC)
    admitted = [await admitted_patient(db_pool, now - timedelta(hours=1)) for _ in range(3)]
    patients = [patient_id for patient_id, _ in admitted]
    refused = patients[0]
    await db_pool.execute(
        "CREATE FUNCTION refuse_one_score() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF NEW.patient_id = {refused} THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$;"
        " CREATE TRIGGER refuse_one_score BEFORE INSERT ON patient_scores"
        " FOR EACH ROW EXECUTE FUNCTION refuse_one_score()"
    )
    try:
        patients = [refused] + [(await admitted_patient(db_pool, now - timedelta(hours=1)))[0] for _ in range(2)]
        for patient_id in patients:
            device_id = await db_pool.fetchval(
                "SELECT device_id FROM device_bindings WHERE patient_id = $1", patient_id
            )
            await record_readings(db_pool, patient_id, device_id, NEWS2_HIGH, now, notify=False)
        assert await RulesWorker(settings, db_pool, clock=lambda: now).drain() == 3
    finally:
        await db_pool.execute("DROP TRIGGER refuse_one_score ON patient_scores; DROP FUNCTION refuse_one_score()")
    scored = await db_pool.fetch("SELECT patient_id, score FROM patient_scores WHERE patient_id = ANY($1)", patients)
    assert {(r["patient_id"], r["score"] >= 7) for r in scored} == {(p, True) for p in patients[1:]}
    alerted = await db_pool.fetch(
        "SELECT patient_id FROM alerts WHERE patient_id = ANY($1) AND rule_id = 'news2' AND state = 'open'", patients
    )
    assert sorted(r["patient_id"] for r in alerted) == sorted(patients)
    assert await db_pool.fetchval("SELECT count(*) FROM eval_queue WHERE patient_id = ANY($1)", patients) == 0
