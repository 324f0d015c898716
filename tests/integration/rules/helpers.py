"""Test data the way ingest leaves it: a patient with a bound device, readings, latest values, a queue row."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TypeVar

import asyncpg

from vward.domain.metrics import Metric
from vward.domain.patients import DeviceKind
from vward.domain.readings import ReadingValue
from vward.storage.episodes import Identity, Stay, admit
from vward.storage.patients import bind_device, register_device

T = TypeVar("T")

# RR 22 (2) + SpO2 95 (1) + air (0) + SBP 105 (1) + pulse 95 (1) + Alert (0) + 38.5 C (1) = NEWS2 6, medium.
NEWS2_SIX: dict[Metric, ReadingValue] = {
    Metric.RESPIRATORY_RATE: 22,
    Metric.SPO2: 95,
    Metric.ON_OXYGEN: False,
    Metric.SYSTOLIC_BP: 105,
    Metric.HEART_RATE: 95,
    Metric.CONSCIOUSNESS: "A",
    Metric.TEMPERATURE: 38.5,
}
# NEWS2 0: every parameter normal.
NEWS2_ZERO: dict[Metric, ReadingValue] = NEWS2_SIX | {
    Metric.RESPIRATORY_RATE: 16,
    Metric.SPO2: 97,
    Metric.SYSTOLIC_BP: 120,
    Metric.HEART_RATE: 70,
    Metric.TEMPERATURE: 37.0,
}
# NEWS2 >= 7 (high): RR 26 (3) + SpO2 90 (3) + SBP 95 (2) + pulse 115 (2) + 39.5 C (2) = 12.
NEWS2_HIGH: dict[Metric, ReadingValue] = NEWS2_SIX | {
    Metric.RESPIRATORY_RATE: 26,
    Metric.SPO2: 90,
    Metric.SYSTOLIC_BP: 95,
    Metric.HEART_RATE: 115,
    Metric.TEMPERATURE: 39.5,
}


async def admitted_patient(pool: asyncpg.Pool, admitted_at: datetime, ward: str = "RulesTest") -> tuple[int, str]:
    """A new patient with one bound patch; returns (patient_id, device_id)."""
    device_id = f"rt-{uuid.uuid4().hex[:10]}"
    async with pool.acquire() as conn, conn.transaction():
        patient_id = (
            await admit(conn, Identity(f"RT-{uuid.uuid4().hex[:10]}", "Rules Test"), Stay(ward), admitted_at, "test")
        ).patient_id
        await register_device(conn, device_id, DeviceKind.PATCH)
        await bind_device(conn, device_id, patient_id, admitted_at)
    return patient_id, device_id


def _columns(value: ReadingValue) -> tuple[float | None, str | None]:
    if isinstance(value, str):
        return None, value
    return float(value), None


async def record_readings(
    pool: asyncpg.Pool,
    patient_id: int,
    device_id: str,
    values: dict[Metric, ReadingValue],
    at: datetime,
    *,
    notify: bool = True,
) -> None:
    """Readings, latest values and a queue row in one transaction, then pg_notify: what ingest commits."""
    msg_id = uuid.uuid4().hex[:16]
    rows = [(m.value, *_columns(v)) for m, v in values.items()]
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO readings (device_id, msg_id, metric, value, value_text, measured_at, received_at, patient_id)"
            " VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
            [(device_id, msg_id, metric, value, text, at, patient_id) for metric, value, text in rows],
        )
        await conn.executemany(
            "INSERT INTO latest_observations (patient_id, metric, value, value_text, measured_at, device_id)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (patient_id, metric) DO UPDATE SET value = EXCLUDED.value,"
            " value_text = EXCLUDED.value_text, measured_at = EXCLUDED.measured_at, device_id = EXCLUDED.device_id"
            " WHERE latest_observations.measured_at <= EXCLUDED.measured_at",
            [(patient_id, metric, value, text, at, device_id) for metric, value, text in rows],
        )
        await conn.execute("UPDATE devices SET last_seen_at = greatest(last_seen_at, $2) WHERE id = $1", device_id, at)
        await conn.execute("INSERT INTO eval_queue (patient_id) VALUES ($1) ON CONFLICT DO NOTHING", patient_id)
        if notify:
            await conn.execute("SELECT pg_notify('vward_eval', '')")
