"""The population view: per ward and period, admissions, occupancy, length of stay, escalations,
readmissions and the alert load, as JSON and as CSV."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from vward.api.deps import AppSettings, DbPool, RequestId, require_roles
from vward.api.fields import StorableText, WardTime
from vward.contract.population import (
    AcknowledgementTimes,
    CensusDay,
    LengthOfStay,
    Population,
    WardPopulation,
    population_csv,
)
from vward.domain.alerts import Role
from vward.domain.users import Principal
from vward.storage import population as store
from vward.storage.audit import record_audit

router = APIRouter(prefix="/api/v1", tags=["population"])

# Aggregates only, no identifiers: ops may see them too.
PopulationUser = Annotated[Principal, Depends(require_roles(Role.CLINICIAN, Role.ADMIN, Role.VIEWER, Role.OPS))]
SHIFT = timedelta(hours=12)
MAX_PERIOD = timedelta(days=366)


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 3) if whole else None


def _ward(row: asyncpg.Record, acks: list[asyncpg.Record], days: float, shifts: float, nurses: int) -> WardPopulation:
    q1, median, q3 = row["los_days"] or (None, None, None)
    bed_days = float(row["bed_days"])
    return WardPopulation(
        ward=row["ward"],
        admissions=row["admissions"],
        step_downs=row["step_downs"],
        readmissions_30d=row["readmissions_30d"],
        readmission_rate=_ratio(row["readmissions_30d"], row["admissions"]),
        bed_days=round(bed_days, 2),
        occupancy=round(bed_days / days, 2),
        discharges=row["discharges"],
        escalations=row["escalations"],
        escalation_rate=_ratio(row["escalations"], row["discharges"]),
        deaths=row["deaths"],
        self_discharges=row["self_discharges"],
        length_of_stay=LengthOfStay(
            stays=row["discharges"],
            median_days=None if median is None else round(median, 2),
            q1_days=None if q1 is None else round(q1, 2),
            q3_days=None if q3 is None else round(q3, 2),
        ),
        alerts=row["alerts"],
        alerts_per_patient_day=_ratio(row["alerts"], bed_days),
        alerts_per_nurse_shift=round(row["alerts"] / (shifts * nurses), 3),
        acknowledgement=[
            AcknowledgementTimes(
                severity=a["severity"],
                alerts=a["alerts"],
                acknowledged=a["acknowledged"],
                median_minutes=None if a["median_minutes"] is None else round(a["median_minutes"], 1),
                p90_minutes=None if a["p90_minutes"] is None else round(a["p90_minutes"], 1),
            )
            for a in acks
            if a["ward"] == row["ward"]
        ],
    )


async def _population(
    pool: DbPool, principal: Principal, settings: AppSettings, request_id: str,
    since: datetime | None, until: datetime | None, ward: str | None, nurses: int, export: str,
) -> Population:  # fmt: skip
    end = until or datetime.now(UTC)
    start = since or end - timedelta(days=30)
    if not timedelta(0) < end - start <= MAX_PERIOD:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "The period must be after its start, at most a year")
    wards = list(principal.wards) or None
    if ward is not None:
        wards = [w for w in (wards or [ward]) if w == ward]
    async with pool.acquire() as conn, conn.transaction():
        rows = await store.ward_figures(conn, start, end, wards)
        acks = await store.acknowledgement(conn, start, end, wards)
        days = await store.daily(conn, start, end, wards, settings.timezone)
        await record_audit(
            conn,
            principal=principal,
            action="population.read",
            request_id=request_id,
            object_type="population",
            detail={"since": start.isoformat(), "until": end.isoformat(), "ward": ward, "as": export},
        )
    period_days = (end - start) / timedelta(days=1)
    shifts = (end - start) / SHIFT
    return Population(
        since=start,
        until=end,
        nurses=nurses,
        shifts=round(shifts, 2),
        wards=[_ward(r, acks, period_days, shifts, nurses) for r in rows],
        daily=[
            CensusDay(
                ward=d["ward"],
                day=d["day"],
                census=round(float(d["census"]), 2),
                admissions=d["admissions"],
                discharges=d["discharges"],
            )
            for d in days
        ],
    )


Since = Annotated[WardTime | None, Query(description="period start (default: 30 days before its end)")]
Until = Annotated[WardTime | None, Query(description="period end (default: now)")]
WardFilter = Annotated[StorableText | None, Query(max_length=100)]
Nurses = Annotated[int, Query(ge=1, le=100, description="nurses on each ward per shift")]


@router.get("/population", response_model=Population)
async def population(
    pool: DbPool, principal: PopulationUser, settings: AppSettings, request_id: RequestId,
    since: Since = None, until: Until = None, ward: WardFilter = None, nurses: Nurses = 2,
) -> Population:  # fmt: skip
    """Per ward: admissions, occupancy and bed-days, length of stay, escalations, readmissions within 30
    days, alerts per patient-day and per nurse-shift, time to acknowledge by severity; and the daily census."""
    return await _population(pool, principal, settings, request_id, since, until, ward, nurses, "json")


@router.get("/population.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def export_population(
    pool: DbPool, principal: PopulationUser, settings: AppSettings, request_id: RequestId,
    since: Since = None, until: Until = None, ward: WardFilter = None, nurses: Nurses = 2,
) -> Response:  # fmt: skip
    """The same figures, one row per ward, for a spreadsheet."""
    figures = await _population(pool, principal, settings, request_id, since, until, ward, nurses, "csv")
    headers = {"Content-Disposition": 'attachment; filename="population.csv"'}
    return Response(population_csv(figures), media_type="text/csv", headers=headers)
