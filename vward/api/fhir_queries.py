"""The reads behind the FHIR endpoints: readings grouped into Observations, open alerts, devices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from vward.api.fhir_mapping import ObservationGroup
from vward.domain.metrics import Metric
from vward.storage.pool import Conn

# One group per message and metric, except that a message's systolic and diastolic pressures form one
# blood pressure panel. Ordered by time with the group key as tie-break, so pages never overlap.
_GROUPS = """
WITH g AS (
    SELECT device_id, msg_id, measured_at, min(received_at) AS received_at, jsonb_object_agg(metric, value) AS vals,
           CASE WHEN metric IN ('systolic_bp', 'diastolic_bp') THEN 'bp' ELSE metric END AS grp
    FROM readings
    WHERE patient_id = $1 AND metric = ANY($2::text[]) AND value IS NOT NULL
      AND ($3::timestamptz IS NULL OR measured_at >= $3) AND ($4::timestamptz IS NULL OR measured_at < $4)
    GROUP BY device_id, msg_id, measured_at, grp
)
"""


async def observation_groups(
    conn: Conn,
    patient_id: int,
    metrics: set[Metric],
    start: datetime | None,
    end: datetime | None,
    *,
    limit: int,
    offset: int,
) -> tuple[list[ObservationGroup], int]:
    """One page of the patient's Observations and how many match in all."""
    args = (patient_id, sorted(m.value for m in metrics), start, end)
    total: int = await conn.fetchval(f"{_GROUPS} SELECT count(*) FROM g", *args)
    rows = await conn.fetch(
        f"{_GROUPS} SELECT * FROM g ORDER BY measured_at, device_id, msg_id, grp LIMIT $5 OFFSET $6",
        *args,
        limit,
        offset,
    )
    groups = [
        ObservationGroup(
            patient_id=patient_id,
            device_id=r["device_id"],
            msg_id=r["msg_id"],
            measured_at=r["measured_at"],
            received_at=r["received_at"],
            values={Metric(k): float(v) for k, v in r["vals"].items()},
        )
        for r in rows
    ]
    return groups, total


_OPEN_ALERTS = (
    " FROM alerts a JOIN patients p ON p.id = a.patient_id WHERE a.state <> 'resolved'"
    " AND ($1::bigint IS NULL OR a.patient_id = $1) AND ($2::text[] IS NULL OR p.ward = ANY($2::text[]))"
)


async def open_alerts(
    conn: Conn, patient_id: int | None, wards: list[str] | None, *, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    """A page of open patient alerts (system alerts have no patient, so no Flag) within `wards`."""
    total: int = await conn.fetchval(f"SELECT count(*){_OPEN_ALERTS}", patient_id, wards)
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT a.id, a.patient_id, a.title, a.severity, a.opened_at{_OPEN_ALERTS}"
        " ORDER BY a.opened_at, a.id LIMIT $3 OFFSET $4",
        patient_id,
        wards,
        limit,
        offset,
    )
    return rows, total


@dataclass(frozen=True, slots=True)
class DeviceRow:
    id: str
    kind: str
    online: bool | None
    patient_id: int | None
    ward: str | None


async def device_by_fhir_id(conn: Conn, resource_id: str) -> DeviceRow | None:
    """The device whose id, or whose id's SHA-256 (see fhir_id), is `resource_id`, with its current patient."""
    row = await conn.fetchrow(
        "SELECT d.id, d.kind, d.online, b.patient_id, p.ward FROM devices d"
        " LEFT JOIN device_bindings b ON b.device_id = d.id AND upper_inf(b.valid)"
        " LEFT JOIN patients p ON p.id = b.patient_id"
        " WHERE d.id = $1 OR encode(sha256(convert_to(d.id, 'UTF8')), 'hex') = $1 LIMIT 1",
        resource_id,
    )
    return None if row is None else DeviceRow(**dict(row))
