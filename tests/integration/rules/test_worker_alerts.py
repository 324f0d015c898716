"""Findings become alerts with their events, audit rows and policy snapshot; two workers never duplicate."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from rules.worker import RulesWorker
from tests.integration.rules.helpers import NEWS2_HIGH, NEWS2_ZERO, admitted_patient, record_readings
from vward.domain.metrics import Metric
from vward.domain.readings import ReadingValue
from vward.settings import Settings

pytestmark = pytest.mark.integration


async def _open_alerts(pool: asyncpg.Pool, patient_id: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await pool.fetch(
        "SELECT * FROM alerts WHERE patient_id = $1 AND state <> 'resolved' ORDER BY rule_id", patient_id
    )
    return rows


async def test_a_high_news2_opens_one_alert_with_its_policy_events_and_audit(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    now = datetime.now(UTC)
    patient_id, device_id = await admitted_patient(db_pool, now - timedelta(hours=1))
    worker = RulesWorker(settings, db_pool, clock=lambda: now)
    await record_readings(db_pool, patient_id, device_id, NEWS2_HIGH, now)
    await worker.drain()
    await record_readings(db_pool, patient_id, device_id, NEWS2_HIGH, now)
    await worker.drain()

    alerts = {a["rule_id"]: a for a in await _open_alerts(db_pool, patient_id)}
    news2 = alerts["news2"]
    assert news2["severity"] == 3
    assert news2["state"] == "open"
    assert news2["rule_set_name"] == "default"
    assert news2["escalation_policy"]["name"] == "urgent"
    assert news2["next_escalation_at"] == now + timedelta(minutes=10)
    assert news2["reason"]["score"] >= 7
    events = await db_pool.fetch("SELECT kind, actor FROM alert_events WHERE alert_id = $1", news2["id"])
    assert [(e["kind"], e["actor"]) for e in events] == [("opened", "rules-worker")]
    audit = await db_pool.fetch(
        "SELECT action FROM audit_log WHERE object_type = 'alert' AND object_id = $1", str(news2["id"])
    )
    assert [a["action"] for a in audit] == ["alert.opened"]


async def test_a_cleared_clinical_alert_stays_open_until_a_person_closes_it(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    """One episode: the condition goes and comes back within the rule set's clear_after_minutes (15) and it
    is the same alert, counted as a waver, with no event or notification; gone for 15 minutes, it clears
    and stays open for a person to close (the demo's alert went cleared/returned ~200 times in 40 min)."""
    start = datetime.now(UTC)
    clock = [start]
    patient_id, device_id = await admitted_patient(db_pool, start - timedelta(hours=1))
    worker = RulesWorker(settings, db_pool, clock=lambda: clock[0])

    async def reading(values: dict[Metric, ReadingValue], minutes: float) -> None:
        clock[0] = start + timedelta(minutes=minutes)
        await record_readings(db_pool, patient_id, device_id, values, clock[0])
        await worker.drain()

    async def news2() -> asyncpg.Record:
        return next(a for a in await _open_alerts(db_pool, patient_id) if a["rule_id"] == "news2")

    await reading(NEWS2_HIGH, 0)
    await reading(NEWS2_ZERO, 0.02)
    await reading(NEWS2_HIGH, 2)
    await reading(NEWS2_ZERO, 3)
    await reading(NEWS2_ZERO, 17.9)
    alert = await news2()
    assert (alert["cleared_at"], alert["wavers"]) == (None, 1)
    assert alert["absent_since"] == start + timedelta(minutes=3)
    await reading(NEWS2_ZERO, 18)
    alert = await news2()
    assert alert["state"] == "open"
    assert alert["cleared_at"] == start + timedelta(minutes=18)
    events = await db_pool.fetch("SELECT kind FROM alert_events WHERE alert_id = $1 ORDER BY id", alert["id"])
    assert [e["kind"] for e in events] == ["opened", "cleared"]
    alerts = await db_pool.fetchval(
        "SELECT count(*) FROM alerts WHERE patient_id = $1 AND rule_id = 'news2'", patient_id
    )
    assert alerts == 1


async def test_two_workers_on_bursts_of_triggers_keep_one_open_alert_per_rule(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    now = datetime.now(UTC)
    patients = [await admitted_patient(db_pool, now - timedelta(hours=1)) for _ in range(5)]
    workers = [RulesWorker(settings.model_copy(update={"rules_batch_size": 2}), db_pool) for _ in range(2)]
    for burst in range(10):
        at = now + timedelta(milliseconds=burst)
        await asyncio.gather(
            *(record_readings(db_pool, pid, dev, NEWS2_HIGH, at) for pid, dev in patients),
            *(w.drain() for w in workers),
        )
    await asyncio.gather(*(w.drain() for w in workers))
    for patient_id, _ in patients:
        rows = await db_pool.fetch(
            "SELECT rule_id, count(*) AS n FROM alerts WHERE patient_id = $1 GROUP BY rule_id", patient_id
        )
        assert rows, "the burst raised no alert"
        assert all(r["n"] == 1 for r in rows), [dict(r) for r in rows]


async def test_the_patients_monitoring_plan_drives_an_overdue_alert(settings: Settings, db_pool: asyncpg.Pool) -> None:
    """Blood pressure every 4 h, last measured 6.5 h ago: overdue by the plan entered at admission."""
    now = datetime.now(UTC)
    patient_id, device_id = await admitted_patient(db_pool, now - timedelta(hours=8))
    await db_pool.execute(
        "UPDATE episodes SET monitoring_plan = '{\"systolic_bp\": 4}' WHERE patient_id = $1 AND discharged_at IS NULL",
        patient_id,
    )
    await record_readings(db_pool, patient_id, device_id, NEWS2_ZERO, now - timedelta(hours=6.5))
    await record_readings(db_pool, patient_id, device_id, {Metric.HEART_RATE: 72.0}, now)
    await RulesWorker(settings, db_pool, clock=lambda: now).drain()
    rules = {a["rule_id"] for a in await _open_alerts(db_pool, patient_id)}
    assert "overdue:plan_systolic_bp" in rules
