"""A device's status (Last Will, battery) is judged at once: the status write queues its patient as urgent, so
the offline alert does not wait for the periodic re-evaluation of quiet patients (rules_reeval_s, 60 s)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from rules.service import INGEST_STALLED_RULE
from rules.worker import RulesWorker
from tests.integration.rules.helpers import admitted_patient
from vward.domain.episodes import Outcome
from vward.settings import Settings
from vward.storage.devices import StatusUpdate, apply_statuses
from vward.storage.episodes import discharge

pytestmark = pytest.mark.integration


async def _status(pool: asyncpg.Pool, device_id: str, online: bool, battery: int | None, at: datetime) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await apply_statuses(conn, [StatusUpdate(device_id, online, battery, at)])


async def _ingest_flowing(pool: asyncpg.Pool) -> None:
    """While ingest is stalled one system alert speaks for every patient and no device alert opens (by
    design); another test's stall alert, left open in the shared database, must not stand in for ours."""
    await pool.execute(
        "UPDATE alerts SET state = 'resolved', resolved_at = now(), resolved_by = 'test', updated_at = now()"
        " WHERE patient_id IS NULL AND rule_id = $1 AND state <> 'resolved'",
        INGEST_STALLED_RULE,
    )


async def _queued(pool: asyncpg.Pool, patient_id: int) -> str | None:
    reason: str | None = await pool.fetchval("SELECT reason FROM eval_queue WHERE patient_id = $1", patient_id)
    return reason


async def test_a_last_will_queues_the_patient_at_once_and_opens_the_offline_alert(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    now = datetime.now(UTC)
    await _ingest_flowing(db_pool)
    patient_id, device_id = await admitted_patient(db_pool, now - timedelta(hours=1))
    worker = RulesWorker(settings, db_pool, clock=lambda: now)
    await _status(db_pool, device_id, True, 80, now - timedelta(seconds=30))
    await worker.drain()
    assert await _queued(db_pool, patient_id) is None

    await _status(db_pool, device_id, False, None, now)  # the broker publishes the Will
    assert await _queued(db_pool, patient_id) == "urgent"
    await worker.drain()
    rules = await db_pool.fetch("SELECT rule_id FROM alerts WHERE patient_id = $1 AND state = 'open'", patient_id)
    assert f"device_offline:{device_id}" in {r["rule_id"] for r in rules}


async def test_only_a_change_queues_and_only_for_an_admitted_patient(settings: Settings, db_pool: asyncpg.Pool) -> None:
    now = datetime.now(UTC)
    patient_id, device_id = await admitted_patient(db_pool, now - timedelta(hours=1))
    worker = RulesWorker(settings, db_pool, clock=lambda: now)
    await _status(db_pool, device_id, True, 80, now - timedelta(seconds=30))
    await worker.drain()

    await _status(db_pool, device_id, True, 80, now - timedelta(seconds=20))  # a repeat says nothing new
    assert await _queued(db_pool, patient_id) is None
    await _status(db_pool, device_id, True, None, now - timedelta(seconds=15))  # no battery: the level is kept
    assert await _queued(db_pool, patient_id) is None
    await _status(db_pool, device_id, True, 15, now - timedelta(seconds=10))  # battery falls
    assert await _queued(db_pool, patient_id) == "urgent"
    await worker.drain()

    async with db_pool.acquire() as conn, conn.transaction():
        await discharge(conn, patient_id, now - timedelta(seconds=5), Outcome.COMPLETED, None, "test")
    await _status(db_pool, device_id, False, None, now)
    assert await _queued(db_pool, patient_id) is None
