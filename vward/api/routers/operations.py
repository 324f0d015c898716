"""Platform operations for ops and admins: refused messages (dead letters), device clocks and the alert-burden
meter.

Neither answer carries a name, MRN or any reading: dead letters come without their raw payload (it may
hold patient data), and the burden names patients by database id only.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from rules.core.burden import DAY_AND_NIGHT, shift_of
from vward.api.deps import AppSettings, DbPool, OpsUser, RequestId
from vward.api.fields import DEVICE_ID_PATTERN, StorableText
from vward.contract.operations import (
    AlertBurden,
    DeadLetterOut,
    DeviceClockOut,
    PatientCount,
    RuleCount,
    WardShiftCount,
)
from vward.storage.alerts import openings_since
from vward.storage.audit import record_audit
from vward.storage.dead_letter import list_dead_letters
from vward.storage.devices import skewed_devices

router = APIRouter(prefix="/api/v1", tags=["operations"])

MAX_OPENINGS = 200_000  # a week of a very noisy 1,000-bed ward; the meter counts, it never lists
PLATFORM = "platform"  # the "ward" of alerts about the platform itself


@router.get("/dead-letters", response_model=list[DeadLetterOut])
async def dead_letters(
    pool: DbPool,
    _: OpsUser,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    reason: Annotated[StorableText | None, Query(max_length=64)] = None,
    device_id: Annotated[str | None, Query(pattern=DEVICE_ID_PATTERN)] = None,
) -> list[DeadLetterOut]:
    """Newest first, optionally for one reason code or one device; the raw payload is never returned."""
    letters = await list_dead_letters(pool, limit=limit, offset=offset, reason=reason, device_id=device_id)
    return [
        DeadLetterOut(
            id=d.id,
            received_at=d.received_at,
            topic=d.topic,
            device_id=d.device_id,
            reason=d.reason,
            detail=d.detail,
            payload_size=d.payload_size,
        )
        for d in letters
    ]


@router.get("/device-clocks", response_model=list[DeviceClockOut])
async def device_clocks(pool: DbPool, _: OpsUser) -> list[DeviceClockOut]:
    """Devices whose clock runs ahead (their times are corrected) or behind (their readings look old),
    furthest off first: the devices to set right."""
    async with pool.acquire() as conn:
        rows = await skewed_devices(conn)
    return [
        DeviceClockOut(
            device_id=r["id"],
            kind=r["kind"],
            offset_seconds=None if r["clock_estimate_ms"] is None else r["clock_estimate_ms"] / 1000,
            corrected_seconds=r["clock_correction_ms"] / 1000,
            estimated_at=r["clock_estimated_at"],
            last_seen_at=r["last_seen_at"],
        )
        for r in rows
    ]


@router.get("/alert-burden", response_model=AlertBurden)
async def alert_burden(
    pool: DbPool,
    principal: OpsUser,
    settings: AppSettings,
    request_id: RequestId,
    days: Annotated[int, Query(ge=1, le=31)] = 7,
    top: Annotated[int, Query(ge=1, le=50)] = 5,
) -> AlertBurden:
    """Alerts opened per ward and nurse shift (ward time), the noisiest rules and patients (ids only)."""
    since = datetime.now(UTC) - timedelta(days=days)
    tz = ZoneInfo(settings.timezone)
    async with pool.acquire() as conn, conn.transaction():
        rows = await openings_since(conn, since, list(principal.wards) or None, MAX_OPENINGS)
        await record_audit(
            conn,
            principal=principal,
            action="alerts.burden",
            request_id=request_id,
            object_type="alert_burden",
            detail={"days": days, "alerts": len(rows)},
        )
    per_ward_shift: Counter[tuple[str, date, str]] = Counter()
    rules: Counter[str] = Counter()
    patients: Counter[int] = Counter()
    for row in rows:
        shift_start, shift = shift_of(row["opened_at"].astimezone(tz), DAY_AND_NIGHT)
        per_ward_shift[(row["ward"] or PLATFORM, shift_start, shift)] += 1
        rules[row["rule_id"]] += 1
        if row["patient_id"] is not None:
            patients[row["patient_id"]] += 1
    return AlertBurden(
        since=since,
        total=len(rows),
        per_ward_shift=[
            WardShiftCount(ward=w, shift_start=d, shift=s, alerts=n) for (w, d, s), n in sorted(per_ward_shift.items())
        ],
        noisiest_rules=[RuleCount(rule_id=r, alerts=n) for r, n in rules.most_common(top)],
        noisiest_patients=[PatientCount(patient_id=p, alerts=n) for p, n in patients.most_common(top)],
    )
