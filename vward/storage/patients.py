"""Patients as the rules read them, devices and device-to-patient bindings (stays: vward.storage.episodes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from vward.domain.metrics import Metric
from vward.domain.patients import DeviceKind, Pathway, Patient
from vward.storage.pool import Conn, transaction

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


class DeviceBoundElsewhere(Exception):
    """The device speaks for another patient now; moving it must be asked for (`transfer=True`)."""

    def __init__(self, patient_id: int) -> None:
        super().__init__(f"The device is bound to patient {patient_id}: bind it with transfer to move it")
        self.patient_id = patient_id


async def register_device(conn: Conn, device_id: str, kind: DeviceKind) -> DeviceKind:
    """Register a device the first time it is seen; a known device keeps its kind (a binding form's default
    must never relabel a thermometer as a patch). Returns the kind on record."""
    stored: str = await conn.fetchval(
        "WITH added AS (INSERT INTO devices (id, kind) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING kind)"
        " SELECT kind FROM added UNION ALL SELECT kind FROM devices WHERE id = $1 LIMIT 1",
        device_id,
        kind.value,
    )
    return DeviceKind(stored)


async def bind_device(
    conn: Conn, device_id: str, patient_id: int, valid_from: datetime, *, transfer: bool = False
) -> tuple[int, int | None]:
    """Bind the device to the patient from `valid_from` on. Bound to this patient already: that binding.
    Bound to another: refused (`DeviceBoundElsewhere`) unless `transfer`, which ends the other binding at
    `valid_from`. Returns the binding id and the patient it was moved from (None when it was free)."""
    async with transaction(conn) as tx:
        current = await tx.fetchrow(
            "SELECT id, patient_id FROM device_bindings WHERE device_id = $1 AND upper_inf(valid) FOR UPDATE",
            device_id,
        )
        if current is not None and current["patient_id"] == patient_id:
            return int(current["id"]), None
        if current is not None and not transfer:
            raise DeviceBoundElsewhere(current["patient_id"])
        await tx.execute(
            "UPDATE device_bindings SET valid = tstzrange(lower(valid), $2)"
            " WHERE device_id = $1 AND upper_inf(valid) AND lower(valid) < $2",
            device_id,
            valid_from,
        )
        binding_id: int = await tx.fetchval(
            "INSERT INTO device_bindings (device_id, patient_id, valid) VALUES ($1, $2, tstzrange($3, NULL))"
            " RETURNING id",
            device_id,
            patient_id,
            valid_from,
        )
    return binding_id, None if current is None else int(current["patient_id"])


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


async def monitoring_plan(conn: Conn, patient_id: int) -> dict[str, float]:
    """Metric -> expected every N hours, as recorded at admission (empty when none was)."""
    plan: dict[str, float] | None = await conn.fetchval(
        "SELECT monitoring_plan FROM patients WHERE id = $1", patient_id
    )
    return plan or {}


async def device_kind(conn: Conn, device_id: str) -> DeviceKind | None:
    kind: str | None = await conn.fetchval("SELECT kind FROM devices WHERE id = $1", device_id)
    return None if kind is None else DeviceKind(kind)


async def device_holder(conn: Conn, device_id: str) -> int | None:
    """The patient the device is bound to now, if any."""
    holder: int | None = await conn.fetchval(
        "SELECT patient_id FROM device_bindings WHERE device_id = $1 AND upper_inf(valid)", device_id
    )
    return holder
