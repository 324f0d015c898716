"""One patient's NEWS2 observation chart, scored on the server by the rules core (`assess`) with the rule
set's freshness windows; a stream's cell is the summary of its window, as the worker scores it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, cast

from fastapi import APIRouter, HTTPException, Query, Request, status

from ingest.core.skew import FUTURE
from rules.core.news2 import PARAMETERS, ParameterScore, applicability
from rules.core.observation_chart import ChartColumn, chart_columns
from rules.service import RuleSetCache
from vward.api.chart_axes import score_bands
from vward.api.deps import DbPool, ReaderUser, RequestId
from vward.api.fields import DbId, WardTime
from vward.api.scope import ensure_in_scope
from vward.contract.patients import ChartCell, News2Chart, ParameterStatus
from vward.contract.patients import ChartColumn as ChartColumnOut
from vward.domain.metrics import Metric
from vward.domain.readings import Observation
from vward.storage import patients as patient_store
from vward.storage import ward as ward_store
from vward.storage.audit import record_audit
from vward.storage.evaluation import observation_value

router = APIRouter(prefix="/api/v1", tags=["patients"])

MAX_COLUMNS = 400  # a week of hourly columns and then some; more would not fit on any screen


@router.get(
    "/patients/{patient_id}/news2-chart",
    response_model=News2Chart,
    responses={
        404: {"description": "No such patient in your wards"},
        422: {"description": "Too many columns"},
        409: {"description": "No rule set is published yet"},
    },
)
async def news2_chart(
    patient_id: DbId,
    request: Request,
    pool: DbPool,
    principal: ReaderUser,
    request_id: RequestId,
    since: WardTime | None = None,
    until: WardTime | None = None,
    step_minutes: Annotated[int, Query(ge=1, le=24 * 60)] = 60,
) -> News2Chart:
    """Columns of `step_minutes` (default: hourly over the last 24 hours), each with every parameter's value,
    score and age as of the column's last reading: what the rules worker would have scored then."""
    end = until or datetime.now(UTC)
    start = since or end - timedelta(hours=24)
    step = timedelta(minutes=step_minutes)
    if start >= end or (end - start) / step > MAX_COLUMNS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"give a window of 1 to {MAX_COLUMNS} columns")
    cache: RuleSetCache = request.app.state.rulesets
    async with pool.acquire() as conn, conn.transaction():
        await ensure_in_scope(conn, principal, patient_id)
        patient = await patient_store.load_patient(conn, patient_id)
        try:
            live = await cache.current(conn)
        except LookupError:
            raise HTTPException(status.HTTP_409_CONFLICT, "No rule set is published yet") from None
        rows = await ward_store.chart_readings(conn, patient_id, start, end, step, [str(m) for m in PARAMETERS], FUTURE)
        streams = live.published.rules.news2.streams
        windows = {str(m): timedelta(seconds=s.window_seconds) for m, s in streams.items()}
        samples = await ward_store.stream_windows(conn, patient_id, start, end, step, windows, FUTURE)
        await record_audit(
            conn,
            principal=principal,
            action="news2_chart.read",
            request_id=request_id,
            patient_id=patient_id,
            object_type="readings",
            detail={"since": start.isoformat(), "until": end.isoformat(), "rows": len(rows)},
        )
    if patient is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such patient")
    observations = [
        Observation(Metric(r["metric"]), value, r["measured_at"])
        for r in rows
        if (value := observation_value(r["metric"], r["value"], r["value_text"])) is not None
    ]
    reason = applicability(patient, end)
    series: dict[str, list[tuple[datetime, float]]] = {}
    for r in samples:
        series.setdefault(r["metric"], []).append((r["measured_at"], r["value"]))
    columns = chart_columns(
        observations,
        start=start,
        step=step,
        scale=patient.spo2_scale,
        freshness=live.published.rules.news2.freshness(),
        not_applicable_reason=reason,
        streams=streams,
        samples={m: sorted(set(points)) for m, points in series.items()},
    )
    return News2Chart(
        scale=patient.spo2_scale,
        applicable=reason is None,
        reason=reason,
        rule_set=f"{live.published.record.name} v{live.published.record.version}",
        columns=[column_out(c) for c in columns],
        ranges=score_bands(patient.spo2_scale),
    )


def column_out(column: ChartColumn) -> ChartColumnOut:
    """A scored column in the contract's shape, a cell per parameter in chart order."""
    result = column.result
    return ChartColumnOut(
        start=column.start,
        at=column.at,
        score=result.score,
        band=None if result.band is None else str(result.band),
        complete=result.complete,
        lower_bound=result.lower_bound,
        red_score=result.red_score,
        cells=[_cell(str(m), result.parameters.get(str(m)), column.measured) for m in PARAMETERS],
    )


def _cell(parameter: str, scored: ParameterScore | None, measured: frozenset[str]) -> ChartCell:
    if scored is None:
        return ChartCell(
            parameter=parameter,
            value=None,
            score=None,
            status="missing",
            measured_at=None,
            age_minutes=None,
            carried=False,
        )
    return ChartCell(
        parameter=parameter,
        value=scored.value,
        score=scored.score,
        status=cast(ParameterStatus, str(scored.status)),
        measured_at=scored.measured_at,
        age_minutes=None if scored.age_minutes is None else round(scored.age_minutes, 1),
        carried=scored.value is not None and parameter not in measured,
    )
