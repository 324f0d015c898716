"""Urgent readings first: the worker shares the published rule set's quiet ranges, ingest's insert queues a
patient as 'urgent' exactly when the Python ranges say a reading is unusual, a queue row only moves up,
and workers claim urgent patients before others."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from ingest.core.skew import FUTURE
from rules.core.urgency import QuietRange
from rules.worker import RulesWorker
from tests.integration.rules.helpers import admitted_patient
from vward.domain.metrics import Metric
from vward.domain.readings import Reading, ReadingValue
from vward.settings import Settings
from vward.storage.evaluation import claim_queued
from vward.storage.readings import insert_for_patient

pytestmark = pytest.mark.integration


async def shared_ranges(settings: Settings, pool: asyncpg.Pool) -> dict[Metric, QuietRange]:
    await RulesWorker(settings, pool).share_quiet_ranges()
    rows = await pool.fetch("SELECT metric, above, up_to, usual_text FROM quiet_ranges")
    return {
        Metric(r["metric"]): QuietRange(
            Metric(r["metric"]), r["above"], r["up_to"], None if r["usual_text"] is None else tuple(r["usual_text"])
        )
        for r in rows
    }


async def queue_reason(pool: asyncpg.Pool, values: dict[Metric, ReadingValue]) -> tuple[int, str]:
    """A new patient's readings through ingest's insert path; returns (patient id, their queue row's reason)."""
    now = datetime.now(UTC)
    patient_id, device_id = await admitted_patient(pool, now - timedelta(hours=1))
    await record(pool, patient_id, device_id, values, now)
    return patient_id, await pool.fetchval("SELECT reason FROM eval_queue WHERE patient_id = $1", patient_id)


async def record(
    pool: asyncpg.Pool, patient_id: int, device_id: str, values: dict[Metric, ReadingValue], at: datetime
) -> None:
    msg_id = uuid.uuid4().hex[:16]
    readings = [Reading(device_id, msg_id, m, v, at, at) for m, v in values.items()]
    async with pool.acquire() as conn, conn.transaction():
        await insert_for_patient(conn, patient_id, readings, not_latest_flag=FUTURE)


async def test_the_worker_shares_the_published_ranges_once_per_version(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    ranges = await shared_ranges(settings, db_pool)
    assert ranges[Metric.RESPIRATORY_RATE].is_unusual(21)
    assert not ranges[Metric.RESPIRATORY_RATE].is_unusual(16)
    assert ranges[Metric.CONSCIOUSNESS].usual_text == ("A",)
    versions = await db_pool.fetch("SELECT DISTINCT rule_set, version FROM quiet_ranges")
    assert len(versions) == 1
    assert await shared_ranges(settings, db_pool) == ranges


async def test_ingest_queues_a_patient_as_urgent_exactly_when_a_reading_is_unusual(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    ranges = await shared_ranges(settings, db_pool)
    cases: list[tuple[Metric, ReadingValue]] = [(Metric.CONSCIOUSNESS, level) for level in ("A", "V")]
    cases += [(Metric.ON_OXYGEN, False), (Metric.ON_OXYGEN, True), (Metric.PATIENT_CONCERN, True)]
    for metric, quiet in ranges.items():
        edges = [e for e in (quiet.above, quiet.up_to) if e is not None]
        cases += [(metric, value) for e in edges for value in (e, math.nextafter(e, math.inf))]
    assert len(cases) > 20
    for metric, value in cases:
        _, reason = await queue_reason(db_pool, {metric: value})
        expected = "urgent" if ranges[metric].is_unusual(value) else "readings"
        assert reason == expected, (metric, value)


async def test_a_queue_row_only_moves_up(settings: Settings, db_pool: asyncpg.Pool) -> None:
    await shared_ranges(settings, db_pool)
    patient_id, reason = await queue_reason(db_pool, {Metric.HEART_RATE: 70})
    assert reason == "readings"
    device_id = f"rt-{uuid.uuid4().hex[:10]}"
    later = datetime.now(UTC) + timedelta(seconds=1)
    await record(db_pool, patient_id, device_id, {Metric.HEART_RATE: 140}, later)
    reason_query = "SELECT reason FROM eval_queue WHERE patient_id = $1"
    assert await db_pool.fetchval(reason_query, patient_id) == "urgent"
    await record(db_pool, patient_id, device_id, {Metric.HEART_RATE: 72}, later + timedelta(seconds=1))
    assert await db_pool.fetchval(reason_query, patient_id) == "urgent"


async def test_urgent_patients_are_claimed_before_earlier_normal_ones(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    await shared_ranges(settings, db_pool)
    normal, _ = await queue_reason(db_pool, {Metric.SPO2: 98})
    urgent, _ = await queue_reason(db_pool, {Metric.SPO2: 88})
    async with db_pool.acquire() as conn:
        claim = conn.transaction()
        await claim.start()
        try:
            first = await claim_queued(conn, 1000)
        finally:
            await claim.rollback()  # leave the queue as it was for other tests
    assert urgent in first
    assert normal not in first
