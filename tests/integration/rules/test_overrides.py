"""Threshold overrides: a clinician's per-patient bound, with reason and expiry, that the worker applies."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from rules.worker import RulesWorker
from tests.integration.rules.api import rules_api
from tests.integration.rules.helpers import NEWS2_ZERO, admitted_patient, record_readings
from vward.domain.alerts import Role
from vward.domain.metrics import Metric
from vward.settings import Settings

pytestmark = pytest.mark.integration


async def _spo2_89_for_15_minutes(pool: asyncpg.Pool, patient_id: int, device_id: str, now: datetime) -> None:
    for minute in range(0, 16, 3):
        await record_readings(
            pool, patient_id, device_id, NEWS2_ZERO | {Metric.SPO2: 89}, now - timedelta(minutes=15 - minute)
        )


async def test_an_override_moves_the_patients_spo2_bound(settings: Settings, db_pool: asyncpg.Pool) -> None:
    ward = f"OverrideWard-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    overridden, device_a = await admitted_patient(db_pool, now - timedelta(hours=2), ward=ward)
    usual, device_b = await admitted_patient(db_pool, now - timedelta(hours=2), ward=ward)
    expires = (now + timedelta(days=7)).isoformat()
    async with rules_api(settings, db_pool, Role.CLINICIAN, (ward,)) as api:
        created = await api.post(
            f"/api/v1/patients/{overridden}/threshold-overrides",
            json={
                "metric": "spo2",
                "low": 86,
                "reason": "COPD, target 88-92% per respiratory team",
                "expires_at": expires,
            },
        )
        assert created.status_code == 201, created.text
        no_bound = await api.post(
            f"/api/v1/patients/{overridden}/threshold-overrides",
            json={"metric": "spo2", "reason": "none given", "expires_at": expires},
        )
        past = await api.post(
            f"/api/v1/patients/{overridden}/threshold-overrides",
            json={"metric": "spo2", "low": 86, "reason": "already over", "expires_at": now.isoformat()},
        )
        listed = (await api.get(f"/api/v1/patients/{overridden}/threshold-overrides")).json()
    assert no_bound.status_code == 422
    assert past.status_code == 422
    assert [(o["metric"], o["low"]) for o in listed] == [("spo2", 86.0)]

    for patient_id, device_id in ((overridden, device_a), (usual, device_b)):
        await _spo2_89_for_15_minutes(db_pool, patient_id, device_id, now)
    await RulesWorker(settings, db_pool).drain()
    rules = {
        pid: {r["rule_id"] for r in await db_pool.fetch("SELECT rule_id FROM alerts WHERE patient_id = $1", pid)}
        for pid in (overridden, usual)
    }
    assert "threshold:spo2:low" in rules[usual]
    assert "threshold:spo2:low" not in rules[overridden]
    audit = await db_pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'override.set' AND patient_id = $1", overridden
    )
    assert audit == 1
