"""Admissions, discharges, devices and device-to-patient bindings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

from vward.domain.metrics import Metric
from vward.domain.patients import DeviceKind, Pathway, Patient
from vward.storage.pool import Conn

# What the rules know of a patient: identity, pathway, NEWS2 applicability and their monitoring plan.
PATIENT_COLUMNS = (
    "id, mrn, display_name, ward, pathway, spo2_scale, date_of_birth, pregnant, admitted_at, discharged_at,"
    " monitoring_plan"
)


def patient_from_row(row: asyncpg.Record) -> Patient:
    return Patient(
        id=row["id"],
        mrn=row["mrn"],
        display_name=row["display_name"],
        ward=row["ward"],
        pathway=Pathway(row["pathway"]),
        spo2_scale=row["spo2_scale"],
        date_of_birth=row["date_of_birth"],
        pregnant=row["pregnant"],
        admitted_at=row["admitted_at"],
        discharged_at=row["discharged_at"],
        monitoring_plan=plan_entries(row["monitoring_plan"] or {}),
    )


def plan_entries(plan: dict[str, Any]) -> tuple[tuple[Metric, float], ...]:
    """The stored plan (metric -> every N hours) as the domain keeps it; names that are no metric are left
    out (they cannot be measured, so they cannot be overdue)."""
    known = {str(m) for m in Metric}
    return tuple(sorted((Metric(m), float(h)) for m, h in plan.items() if m in known and float(h) > 0))


async def admit_patient(
    conn: Conn,
    *,
    mrn: str,
    display_name: str,
    ward: str,
    admitted_at: datetime,
    pathway: Pathway = Pathway.GENERAL,
    spo2_scale: int = 1,
    date_of_birth: date | None = None,
    pregnant: bool = False,
    monitoring_plan: dict[str, Any] | None = None,
) -> int:
    """Admit (or re-admit) a patient by MRN; returns the patient id."""
    patient_id: int = await conn.fetchval(
        "INSERT INTO patients (mrn, display_name, ward, pathway, spo2_scale, date_of_birth, pregnant,"
        " monitoring_plan, admitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (mrn) DO UPDATE SET display_name = EXCLUDED.display_name, ward = EXCLUDED.ward,"
        " pathway = EXCLUDED.pathway, spo2_scale = EXCLUDED.spo2_scale,"
        " date_of_birth = EXCLUDED.date_of_birth, pregnant = EXCLUDED.pregnant,"
        " monitoring_plan = EXCLUDED.monitoring_plan, admitted_at = EXCLUDED.admitted_at, discharged_at = NULL"
        " RETURNING id",
        mrn,
        display_name,
        ward,
        pathway.value,
        spo2_scale,
        date_of_birth,
        pregnant,
        monitoring_plan or {},
        admitted_at,
    )
    return patient_id


async def discharge_patient(conn: Conn, patient_id: int, at: datetime) -> bool:
    """Discharge and end every open device binding at the same instant."""
    status = await conn.execute(
        "UPDATE patients SET discharged_at = $2 WHERE id = $1 AND discharged_at IS NULL", patient_id, at
    )
    await conn.execute(
        "UPDATE device_bindings SET valid = tstzrange(lower(valid), $2)"
        " WHERE patient_id = $1 AND upper_inf(valid) AND lower(valid) < $2",
        patient_id,
        at,
    )
    return bool(status.endswith(" 1"))


async def register_device(conn: Conn, device_id: str, kind: DeviceKind) -> None:
    await conn.execute(
        "INSERT INTO devices (id, kind) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind",
        device_id,
        kind.value,
    )


async def bind_device(conn: Conn, device_id: str, patient_id: int, valid_from: datetime) -> int:
    """Bind from `valid_from` on, ending any open binding of the device at that instant."""
    await conn.execute(
        "UPDATE device_bindings SET valid = tstzrange(lower(valid), $2)"
        " WHERE device_id = $1 AND upper_inf(valid) AND lower(valid) < $2",
        device_id,
        valid_from,
    )
    binding_id: int = await conn.fetchval(
        "INSERT INTO device_bindings (device_id, patient_id, valid) VALUES ($1, $2, tstzrange($3, NULL)) RETURNING id",
        device_id,
        patient_id,
        valid_from,
    )
    return binding_id


async def unbind_device(conn: Conn, device_id: str, patient_id: int, at: datetime) -> bool:
    status = await conn.execute(
        "UPDATE device_bindings SET valid = tstzrange(lower(valid), $3)"
        " WHERE device_id = $1 AND patient_id = $2 AND upper_inf(valid) AND lower(valid) < $3",
        device_id,
        patient_id,
        at,
    )
    return not status.endswith(" 0")


async def load_patient(conn: Conn, patient_id: int) -> Patient | None:
    row = await conn.fetchrow(f"SELECT {PATIENT_COLUMNS} FROM patients WHERE id = $1", patient_id)
    return None if row is None else patient_from_row(row)


async def set_monitoring_plan(conn: Conn, patient_id: int, plan: dict[str, float]) -> None:
    await conn.execute("UPDATE patients SET monitoring_plan = $2 WHERE id = $1", patient_id, plan)


async def monitoring_plan(conn: Conn, patient_id: int) -> dict[str, float]:
    """Metric -> expected every N hours, as recorded at admission (empty when none was)."""
    plan: dict[str, float] | None = await conn.fetchval(
        "SELECT monitoring_plan FROM patients WHERE id = $1", patient_id
    )
    return plan or {}
