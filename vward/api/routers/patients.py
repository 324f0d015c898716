"""Patients: the triage list, one patient's detail and readings, admissions, discharges and devices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from vward.api.deps import ClinicalUser, DbPool, ReaderUser, RequestId
from vward.api.fields import DbId, DevicePathId, StorableText, WardTime
from vward.api.scope import ensure_in_scope
from vward.api.worklist import TREND_WINDOW, summary_from_row, worst_first
from vward.contract.patients import Device, Observation, PatientDetail, PatientSummary, Reading
from vward.domain.metrics import Metric
from vward.domain.patients import DeviceKind, Pathway
from vward.storage import patients as patient_store
from vward.storage import ward as ward_store
from vward.storage.audit import record_audit
from vward.storage.evaluation import observation_value, requeue

router = APIRouter(prefix="/api/v1", tags=["patients"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such patient in your wards"}}


SUMMARIES = TypeAdapter(list[PatientSummary])
JSON = "application/json"


@router.get("/patients", response_model=list[PatientSummary])
async def list_patients(
    pool: DbPool,
    principal: ReaderUser,
    request_id: RequestId,
    ward: Annotated[StorableText | None, Query(max_length=100)] = None,
) -> Response:
    """The ward's patients in the documented clinical order (docs/clinical-rules.md, "The worklist order"):
    NEWS2 band with red score and lower bound, score, top alert severity, longest wait, then id."""
    wards = list(principal.wards) or None
    if ward is not None:
        wards = [w for w in (wards or [ward]) if w == ward]
    async with pool.acquire() as conn, conn.transaction():
        rows = await ward_store.worklist(conn, wards, TREND_WINDOW)
        await record_audit(
            conn,
            principal=principal,
            action="patients.list",
            request_id=request_id,
            object_type="worklist",
            detail={"patients": len(rows), "ward": ward},
        )
    now = datetime.now(UTC)
    # Serialised once by the model's own adapter: FastAPI would validate the 1,000 summaries again first.
    return Response(SUMMARIES.dump_json(worst_first(summary_from_row(r, now) for r in rows)), media_type=JSON)


@router.get("/patients/{patient_id}", response_model=PatientDetail, responses=_NOT_FOUND)
async def get_patient(patient_id: DbId, pool: DbPool, principal: ReaderUser, request_id: RequestId) -> PatientDetail:
    async with pool.acquire() as conn, conn.transaction():
        ward = await ensure_in_scope(conn, principal, patient_id)
        rows = await ward_store.worklist(conn, [ward], TREND_WINDOW, patient_id)
        patient = await patient_store.load_patient(conn, patient_id)
        observations = await ward_store.latest_observations(conn, patient_id)
        devices = await ward_store.patient_devices(conn, patient_id)
        plan = await patient_store.monitoring_plan(conn, patient_id)
        await record_audit(
            conn,
            principal=principal,
            action="patient.read",
            request_id=request_id,
            patient_id=patient_id,
            object_type="patient",
            object_id=str(patient_id),
        )
    if not rows or patient is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such patient (discharged?)")
    return PatientDetail(
        summary=summary_from_row(rows[0], datetime.now(UTC)),
        news2_parameters=rows[0]["parameters"] or {},
        observations=[
            Observation(
                metric=o["metric"],
                value=observation_value(o["metric"], o["value"], o["value_text"]),
                measured_at=o["measured_at"],
                device_id=o["device_id"],
            )
            for o in observations
        ],
        devices=[Device(**dict(d)) for d in devices],
        monitoring_plan=plan,
    )


@router.get("/patients/{patient_id}/readings", response_model=list[Reading], responses=_NOT_FOUND)
async def get_readings(
    patient_id: DbId,
    pool: DbPool,
    principal: ReaderUser,
    request_id: RequestId,
    since: WardTime | None = None,
    until: WardTime | None = None,
    metric: Annotated[list[StorableText] | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 10_000,
) -> list[Reading]:
    """Readings by measured time (default: the last 24 hours), oldest first."""
    end = until or datetime.now(UTC)
    start = since or end - timedelta(hours=24)
    async with pool.acquire() as conn, conn.transaction():
        await ensure_in_scope(conn, principal, patient_id)
        rows = await ward_store.readings_between(conn, patient_id, start, end, metric, limit)
        await record_audit(
            conn,
            principal=principal,
            action="readings.read",
            request_id=request_id,
            patient_id=patient_id,
            object_type="readings",
            detail={"since": start.isoformat(), "until": end.isoformat(), "rows": len(rows)},
        )
    return [
        Reading(
            metric=r["metric"],
            value=observation_value(r["metric"], r["value"], r["value_text"]),
            measured_at=r["measured_at"],
            received_at=r["received_at"],
            device_id=r["device_id"],
            flags=list(r["flags"]),
        )
        for r in rows
    ]


# Metric -> expected every N hours (up to four weeks): the rules raise `overdue:plan_<metric>` after it.
MonitoringPlan = dict[Metric, Annotated[float, Field(gt=0, le=24 * 28, allow_inf_nan=False)]]


class PlanChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    monitoring_plan: MonitoringPlan = Field(description="the whole new plan; an empty one stops plan alerts")
    reason: StorableText = Field(min_length=1, max_length=500, description="why the plan changes (audited)")


class Admission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mrn: StorableText = Field(min_length=1, max_length=64)
    display_name: StorableText = Field(min_length=1, max_length=200)
    ward: StorableText = Field(min_length=1, max_length=100)
    pathway: Pathway = Pathway.GENERAL
    spo2_scale: int = Field(default=1, ge=1, le=2)
    date_of_birth: date | None = None
    pregnant: bool = False
    monitoring_plan: MonitoringPlan = Field(default_factory=dict, description="metric -> expected every N hours")
    admitted_at: datetime | None = None


class Admitted(BaseModel):
    id: int


@router.post("/patients", response_model=Admitted, status_code=status.HTTP_201_CREATED)
async def admit(body: Admission, pool: DbPool, principal: ClinicalUser, request_id: RequestId) -> Admitted:
    if not principal.may_see_ward(body.ward):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "That ward is outside your scope")
    async with pool.acquire() as conn, conn.transaction():
        patient_id = await patient_store.admit_patient(
            conn,
            mrn=body.mrn,
            display_name=body.display_name,
            ward=body.ward,
            admitted_at=body.admitted_at or datetime.now(UTC),
            pathway=body.pathway,
            spo2_scale=body.spo2_scale,
            date_of_birth=body.date_of_birth,
            pregnant=body.pregnant,
            monitoring_plan={str(m): h for m, h in body.monitoring_plan.items()},
        )
        await record_audit(
            conn,
            principal=principal,
            action="patient.admit",
            request_id=request_id,
            patient_id=patient_id,
            object_type="patient",
            object_id=str(patient_id),
        )
    return Admitted(id=patient_id)


@router.put(
    "/patients/{patient_id}/monitoring-plan",
    response_model=PlanChange,
    responses=_NOT_FOUND,
)
async def change_plan(
    patient_id: DbId, body: PlanChange, pool: DbPool, principal: ClinicalUser, request_id: RequestId
) -> PlanChange:
    """Replace the patient's monitoring plan; the change (before, after, why) is audited and the patient is
    evaluated again at once, so a shorter interval can make a measurement overdue now."""
    async with pool.acquire() as conn, conn.transaction():
        await ensure_in_scope(conn, principal, patient_id)
        before = await patient_store.monitoring_plan(conn, patient_id)
        plan = {str(m): h for m, h in body.monitoring_plan.items()}
        await patient_store.set_monitoring_plan(conn, patient_id, plan)
        await record_audit(
            conn,
            principal=principal,
            action="patient.plan_change",
            request_id=request_id,
            patient_id=patient_id,
            object_type="patient",
            object_id=str(patient_id),
            detail={"before": before, "after": plan, "reason": body.reason},
        )
        await requeue(conn, [patient_id], "plan")
    return body


class Discharge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime | None = None


@router.post(
    "/patients/{patient_id}/discharge",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_NOT_FOUND, 409: {"description": "Already discharged, or the time is before the admission"}},
)
async def discharge(
    patient_id: DbId, body: Discharge, pool: DbPool, principal: ClinicalUser, request_id: RequestId
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await ensure_in_scope(conn, principal, patient_id)
        try:
            discharged = await patient_store.discharge_patient(conn, patient_id, body.at or datetime.now(UTC))
        except asyncpg.CheckViolationError:
            raise HTTPException(status.HTTP_409_CONFLICT, "Discharge time is before the admission") from None
        if not discharged:
            raise HTTPException(status.HTTP_409_CONFLICT, "Patient is already discharged")
        await record_audit(
            conn,
            principal=principal,
            action="patient.discharge",
            request_id=request_id,
            patient_id=patient_id,
            object_type="patient",
            object_id=str(patient_id),
        )


class Binding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    kind: DeviceKind
    valid_from: datetime | None = None


class Bound(BaseModel):
    binding_id: int


@router.post(
    "/patients/{patient_id}/devices",
    response_model=Bound,
    status_code=status.HTTP_201_CREATED,
    responses={**_NOT_FOUND, 409: {"description": "The device is bound to another patient during that time"}},
)
async def bind(patient_id: DbId, body: Binding, pool: DbPool, principal: ClinicalUser, request_id: RequestId) -> Bound:
    """Register the device if new and bind it to the patient (ending any earlier binding)."""
    async with pool.acquire() as conn, conn.transaction():
        await ensure_in_scope(conn, principal, patient_id)
        await patient_store.register_device(conn, body.device_id, body.kind)
        valid_from = body.valid_from or datetime.now(UTC)
        try:
            binding_id = await patient_store.bind_device(conn, body.device_id, patient_id, valid_from)
        except asyncpg.ExclusionViolationError:
            raise HTTPException(status.HTTP_409_CONFLICT, "The device is bound to another patient then") from None
        await record_audit(
            conn,
            principal=principal,
            action="device.bind",
            request_id=request_id,
            patient_id=patient_id,
            object_type="device",
            object_id=body.device_id,
        )
    return Bound(binding_id=binding_id)


@router.delete(
    "/patients/{patient_id}/devices/{device_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND
)
async def unbind(
    patient_id: DbId, device_id: DevicePathId, pool: DbPool, principal: ClinicalUser, request_id: RequestId
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await ensure_in_scope(conn, principal, patient_id)
        if not await patient_store.unbind_device(conn, device_id, patient_id, datetime.now(UTC)):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "That device is not bound")
        await record_audit(
            conn,
            principal=principal,
            action="device.unbind",
            request_id=request_id,
            patient_id=patient_id,
            object_type="device",
            object_id=device_id,
        )
