"""Platform operations for ops and admins: refused messages (dead letters), device clocks and the alert-burden
meter.

Neither answer carries a name, MRN or any reading: dead letters come without their raw payload (it may
hold patient data), and the burden names patients by database id only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from rules.core.burden import DAY_AND_NIGHT, hours_by_shift, shift_of
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
from vward.storage.alerts import changes_by_hour, open_spans, openings_since
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
    nurses: Annotated[int, Query(ge=1, le=100, description="nurses on each ward per shift")] = 2,
) -> AlertBurden:
    """Per ward and nurse shift (ward time): alerts opened, their state changes and notifications, and the
    alerts open on average per nurse on shift; the noisiest rules and patients (ids only)."""
    now = datetime.now(UTC)
    since = now - timedelta(days=days)
    tz = ZoneInfo(settings.timezone)
    wards = list(principal.wards) or None
    async with pool.acquire() as conn, conn.transaction():
        rows = await openings_since(conn, since, wards, MAX_OPENINGS)
        changes = await changes_by_hour(conn, since, wards, settings.timezone)
        spans = await open_spans(conn, since, now, wards)
        await record_audit(
            conn,
            principal=principal,
            action="alerts.burden",
            request_id=request_id,
            object_type="alert_burden",
            detail={"days": days, "alerts": len(rows)},
        )
    opened: Counter[tuple[str, date, str]] = Counter()
    rules: Counter[str] = Counter()
    patients: Counter[int] = Counter()
    for row in rows:
        opened[(row["ward"] or PLATFORM, *shift_of(row["opened_at"].astimezone(tz), DAY_AND_NIGHT))] += 1
        rules[row["rule_id"]] += 1
        if row["patient_id"] is not None:
            patients[row["patient_id"]] += 1
    counted: dict[str, Counter[tuple[str, date, str]]] = {"change": Counter(), "notification": Counter()}
    for row in changes:
        counted[row["what"]][(row["ward"] or PLATFORM, *shift_of(row["hour"], DAY_AND_NIGHT))] += row["n"]
    open_hours: defaultdict[tuple[str, date, str], float] = defaultdict(float)
    for span in spans:
        for (day, shift), hours in hours_by_shift(span["start"], span["until"], tz=tz).items():
            open_hours[(span["ward"] or PLATFORM, day, shift)] += hours
    staffed = hours_by_shift(since, now, tz=tz)
    keys = sorted(set(opened) | set(counted["change"]) | set(counted["notification"]) | set(open_hours))
    total_hours = sum(open_hours.values())
    return AlertBurden(
        since=since,
        total=len(rows),
        state_changes=sum(counted["change"].values()),
        notifications=sum(counted["notification"].values()),
        wavers=sum(s["wavers"] for s in spans),
        open_alert_hours=round(total_hours, 2),
        state_changes_per_alert_hour=round(sum(counted["change"].values()) / total_hours, 2) if total_hours else 0,
        nurses_per_shift=nurses,
        notifications_on=bool(settings.notify_webhook_url),
        per_ward_shift=[
            WardShiftCount(
                ward=w,
                shift_start=d,
                shift=s,
                alerts=opened[(w, d, s)],
                state_changes=counted["change"][(w, d, s)],
                notifications=counted["notification"][(w, d, s)],
                open_alert_hours=round(open_hours[(w, d, s)], 2),
                open_per_nurse=round(open_hours[(w, d, s)] / (nurses * staffed[(d, s)]), 2)
                if staffed.get((d, s))
                else 0,
            )
            for w, d, s in keys
        ],
        noisiest_rules=[RuleCount(rule_id=r, alerts=n) for r, n in rules.most_common(top)],
        noisiest_patients=[PatientCount(patient_id=p, alerts=n) for p, n in patients.most_common(top)],
    )
