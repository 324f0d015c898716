"""The timer loop: escalation tiers by the alert's own policy, snoozes that run out, one stalled-ingest alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from rules.actions import act
from rules.core.lifecycle import Action, Request
from rules.service import INGEST_STALLED_RULE, RULES_ACTOR
from rules.timers import TimerLoop
from rules.worker import RulesWorker
from tests.integration.rules.helpers import NEWS2_HIGH, NEWS2_SIX, admitted_patient, record_readings
from vward.domain.metrics import Metric
from vward.settings import Settings
from vward.storage.alerts import get_alert

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _notifying(settings: Settings) -> Settings:
    return settings.model_copy(update={"notify_webhook_url": "http://127.0.0.1:9/unused"})


async def _fire_all_due(timers: TimerLoop, now: datetime) -> None:
    """Work off every due alert: the database is shared, so other tests' alerts may fill a batch first."""
    for _ in range(1000):
        if await timers.fire_due(now) == 0:
            return
    raise AssertionError("due alerts never ran out")


async def _news2_alert(pool: asyncpg.Pool, patient_id: int) -> asyncpg.Record:
    row: asyncpg.Record = await pool.fetchrow(
        "SELECT * FROM alerts WHERE patient_id = $1 AND rule_id = 'news2' AND state <> 'resolved'", patient_id
    )
    return row


async def test_unacknowledged_alert_escalates_through_its_tiers_then_reminds(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    settings = _notifying(settings)
    clock = Clock(datetime.now(UTC))
    opened = clock.now
    patient_id, device_id = await admitted_patient(db_pool, opened - timedelta(hours=1))
    await record_readings(db_pool, patient_id, device_id, NEWS2_HIGH, opened)
    await RulesWorker(settings, db_pool, clock=clock).drain()
    timers = TimerLoop(settings, db_pool, clock=clock)

    clock.now = opened + timedelta(minutes=11)  # urgent: doctor after 10 minutes
    await _fire_all_due(timers, clock.now)
    alert = await _news2_alert(db_pool, patient_id)
    assert (alert["state"], alert["escalation_tier"]) == ("escalated", 2)
    assert alert["next_escalation_at"] == opened + timedelta(minutes=30)

    clock.now = opened + timedelta(minutes=31)  # emergency team after 30
    await _fire_all_due(timers, clock.now)
    clock.now = opened + timedelta(minutes=37)  # then the last tier again every 5 minutes
    await _fire_all_due(timers, clock.now)
    outbox = await db_pool.fetch(
        "SELECT target, payload->>'event' AS event FROM notification_outbox WHERE alert_id = $1 ORDER BY id",
        alert["id"],
    )
    assert [(o["target"], o["event"]) for o in outbox] == [
        ("ward_nurse", "opened"),
        ("doctor", "escalated"),
        ("emergency_team", "escalated"),
        ("emergency_team", "renotified"),
    ]
    events = await db_pool.fetch("SELECT kind FROM alert_events WHERE alert_id = $1 ORDER BY id", alert["id"])
    assert [e["kind"] for e in events] == ["opened", "escalated", "escalated", "renotified"]


async def test_acknowledged_alert_stops_escalating(settings: Settings, db_pool: asyncpg.Pool) -> None:
    clock = Clock(datetime.now(UTC))
    patient_id, device_id = await admitted_patient(db_pool, clock.now - timedelta(hours=1))
    await record_readings(db_pool, patient_id, device_id, NEWS2_HIGH, clock.now)
    await RulesWorker(settings, db_pool, clock=clock).drain()
    alert_id = (await _news2_alert(db_pool, patient_id))["id"]
    async with db_pool.acquire() as conn, conn.transaction():
        alert = await get_alert(conn, alert_id, for_update=True)
        assert alert is not None
        request = Request(Action.ACKNOWLEDGE, "nurse")
        await act(conn, alert, request, clock.now, principal=RULES_ACTOR, request_id=None, notify_enabled=False)
    clock.now += timedelta(hours=1)
    await _fire_all_due(TimerLoop(settings, db_pool, clock=clock), clock.now)
    alert_row = await _news2_alert(db_pool, patient_id)
    assert alert_row["state"] == "acknowledged"
    assert alert_row["escalation_tier"] == 1
    assert alert_row["next_escalation_at"] is None


async def test_a_snooze_that_runs_out_reopens_the_alert(settings: Settings, db_pool: asyncpg.Pool) -> None:
    clock = Clock(datetime.now(UTC))
    patient_id, device_id = await admitted_patient(db_pool, clock.now - timedelta(hours=1))
    await record_readings(db_pool, patient_id, device_id, NEWS2_SIX, clock.now)  # medium: may be snoozed
    await RulesWorker(settings, db_pool, clock=clock).drain()
    alert_id = (await _news2_alert(db_pool, patient_id))["id"]
    async with db_pool.acquire() as conn, conn.transaction():
        alert = await get_alert(conn, alert_id, for_update=True)
        assert alert is not None
        until = clock.now + timedelta(minutes=5)
        request = Request(Action.SNOOZE, "nurse", reason="reviewed at bedside", until=until)
        await act(conn, alert, request, clock.now, principal=RULES_ACTOR, request_id=None, notify_enabled=False)
    timers = TimerLoop(settings, db_pool, clock=clock)
    clock.now += timedelta(minutes=4)
    await _fire_all_due(timers, clock.now)
    assert (await _news2_alert(db_pool, patient_id))["state"] == "snoozed"
    clock.now += timedelta(minutes=2)
    await _fire_all_due(timers, clock.now)
    reopened = await _news2_alert(db_pool, patient_id)
    assert reopened["state"] == "open"
    assert reopened["snoozed_until"] is None
    kinds = [e["kind"] for e in await db_pool.fetch("SELECT kind FROM alert_events WHERE alert_id = $1", alert_id)]
    assert kinds[:3] == ["opened", "snoozed", "reopened"]


async def test_a_stalled_ingest_raises_one_system_alert_not_one_per_patient(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    clock = Clock(datetime.now(UTC))
    patients = [await admitted_patient(db_pool, clock.now - timedelta(hours=1)) for _ in range(3)]
    for patient_id, device_id in patients:
        await record_readings(db_pool, patient_id, device_id, NEWS2_SIX | {Metric.CONSCIOUSNESS: "A"}, clock.now)
    worker = RulesWorker(settings, db_pool, clock=clock)
    await worker.drain()
    timers = TimerLoop(settings, db_pool, clock=clock)
    try:
        clock.now += timedelta(hours=2)  # devices silent past offline_after_minutes (60)
        await timers.tick()
        await timers.tick()
        await worker.drain()
        system = await db_pool.fetch(
            "SELECT * FROM alerts WHERE patient_id IS NULL AND rule_id = $1 AND state <> 'resolved'",
            INGEST_STALLED_RULE,
        )
        assert len(system) == 1
        assert system[0]["severity"] == 3
        no_data = await db_pool.fetch(
            "SELECT rule_id FROM alerts WHERE patient_id = ANY($1::bigint[])"
            " AND (rule_id LIKE 'device_offline:%' OR rule_id LIKE 'overdue:%' OR rule_id = 'news2_incomplete')",
            [p for p, _ in patients],
        )
        assert no_data == []
    finally:
        clock.now -= timedelta(hours=2)
        await timers.watch_ingest(clock.now)
    resolved = await db_pool.fetchval("SELECT state FROM alerts WHERE id = $1", system[0]["id"])
    assert resolved == "resolved"


async def test_a_medium_alert_that_turns_high_escalates_on_the_urgent_policy(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    clock = Clock(datetime.now(UTC))
    opened = clock.now
    patient_id, device_id = await admitted_patient(db_pool, opened - timedelta(hours=1))
    worker = RulesWorker(settings, db_pool, clock=clock)
    await record_readings(db_pool, patient_id, device_id, NEWS2_SIX, opened)
    await worker.drain()
    assert (await _news2_alert(db_pool, patient_id))["escalation_policy"]["name"] == "standard"
    clock.now = opened + timedelta(minutes=15)
    await record_readings(db_pool, patient_id, device_id, NEWS2_HIGH, clock.now)
    await worker.drain()
    await _fire_all_due(TimerLoop(settings, db_pool, clock=clock), clock.now)
    alert = await _news2_alert(db_pool, patient_id)
    assert alert["escalation_policy"]["name"] == "urgent"
    assert (alert["severity"], alert["state"], alert["escalation_tier"]) == (3, "escalated", 2)
    assert alert["next_escalation_at"] == opened + timedelta(minutes=30)


async def test_readings_for_a_patient_queued_by_a_tick_jump_the_tick_backlog(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    now = datetime.now(UTC)
    patient_id, device_id = await admitted_patient(db_pool, now - timedelta(hours=1))
    await db_pool.execute("INSERT INTO eval_queue (patient_id, reason) VALUES ($1, 'tick')", patient_id)
    await record_readings(db_pool, patient_id, device_id, NEWS2_SIX, now, notify=False)  # ON CONFLICT DO NOTHING
    reason = await db_pool.fetchval("SELECT reason FROM eval_queue WHERE patient_id = $1", patient_id)
    assert reason == "readings"


async def test_a_quiet_patient_is_re_evaluated_within_the_promised_cadence(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    """docs/performance.md promises time-based rules (offline, overdue, stale) are judged at most
    rules_reeval_s + rules_tick_s after they fall due: a tick re-queues a patient once its last evaluation is
    older than rules_reeval_s, and not before."""
    clock = Clock(datetime.now(UTC))
    patient_id, device_id = await admitted_patient(db_pool, clock.now - timedelta(hours=1))
    await record_readings(db_pool, patient_id, device_id, NEWS2_SIX, clock.now)
    await RulesWorker(settings, db_pool, clock=clock).drain()
    evaluated = clock.now
    timers = TimerLoop(settings, db_pool, clock=clock)
    queued = "SELECT reason FROM eval_queue WHERE patient_id = $1"

    await timers.requeue_quiet(evaluated + timedelta(seconds=settings.rules_reeval_s - 1))
    assert await db_pool.fetchval(queued, patient_id) is None
    await timers.requeue_quiet(evaluated + timedelta(seconds=settings.rules_reeval_s + 1))
    assert await db_pool.fetchval(queued, patient_id) == "tick"
