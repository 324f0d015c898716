"""A patient's numeric vitals summarised per time bucket, for the trend charts: however dense the stream
(a wearable every 5 s is 17,280 readings a day per vital), the answer is a few hundred buckets, each with
its minimum and maximum, so that the chart draws fast and no extreme is hidden."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from ingest.core.skew import FUTURE
from vward.api.chart_axes import score_bands
from vward.api.deps import DbPool, ReaderUser, RequestId
from vward.api.fields import DbId, StorableText, WardTime
from vward.api.scope import ensure_in_scope
from vward.contract.patients import VitalBucket, VitalSeries
from vward.storage import patients as patient_store
from vward.storage import ward as ward_store
from vward.storage.audit import record_audit

router = APIRouter(prefix="/api/v1", tags=["patients"])

MAX_BUCKETS = 2_000  # per metric: more points than any screen has pixels for


@router.get(
    "/patients/{patient_id}/vital-series",
    response_model=VitalSeries,
    responses={404: {"description": "No such patient in your wards"}, 422: {"description": "Too many buckets"}},
)
async def vital_series(
    patient_id: DbId,
    pool: DbPool,
    principal: ReaderUser,
    request_id: RequestId,
    metric: Annotated[list[StorableText], Query(min_length=1, max_length=20)],
    since: WardTime | None = None,
    until: WardTime | None = None,
    step_minutes: Annotated[int, Query(ge=1, le=24 * 60)] = 5,
) -> VitalSeries:
    """Buckets of `step_minutes` (default 5) over the window (default: the last 24 hours), oldest first;
    readings from a clock too far ahead are left out, as the rules leave them out."""
    end = until or datetime.now(UTC)
    start = since or end - timedelta(hours=24)
    step = timedelta(minutes=step_minutes)
    if start >= end or (end - start) / step > MAX_BUCKETS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"give a window of 1 to {MAX_BUCKETS} buckets")
    async with pool.acquire() as conn, conn.transaction():
        await ensure_in_scope(conn, principal, patient_id)
        patient = await patient_store.load_patient(conn, patient_id)
        rows = await ward_store.vital_buckets(conn, patient_id, start, end, step, list(metric), FUTURE)
        await record_audit(
            conn,
            principal=principal,
            action="vital_series.read",
            request_id=request_id,
            patient_id=patient_id,
            object_type="readings",
            detail={"since": start.isoformat(), "until": end.isoformat(), "buckets": len(rows)},
        )
    if patient is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such patient")
    series: dict[str, list[VitalBucket]] = {m: [] for m in metric}
    for r in rows:
        series[r["metric"]].append(
            VitalBucket(
                start=r["bucket"],
                minimum=r["minimum"],
                maximum=r["maximum"],
                median=r["median"],
                readings=r["readings"],
            )
        )
    return VitalSeries(step_minutes=step_minutes, series=series, ranges=score_bands(patient.spo2_scale))
