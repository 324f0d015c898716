"""Patients: the triage list, one patient's detail and readings, their stays (admission, transfer, discharge)
and devices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from vward.api.deps import ClinicalUser, DbPool, ReaderUser, RequestId
from vward.api.fields import DbId, DevicePathId, StorableText, WardTime
from vward.api.scope import ensure_in_scope, ensure_may_act
from vward.api.worklist import TREND_WINDOW, summary_from_row, worst_first
from vward.contract.episodes import Episode, EpisodeEvent, PatientEpisodes
from vward.contract.patients import Device, Observation, PatientDetail, PatientSummary, Reading
from vward.domain.episodes import Outcome, Source
from vward.domain.metrics import Metric
from vward.domain.patients import DeviceKind, Pathway
from vward.domain.users import Principal
from vward.storage import episodes as episode_store
from vward.storage import patients as patient_store
from vward.storage import ward as ward_store
from vward.storage.audit import record_audit
from vward.storage.episodes import AlreadyAdmitted, EpisodeRefused, Identity, Stay
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
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such patient")
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


Team = Annotated[StorableText, Field(min_length=1, max_length=100)]
NhsNumber = Annotated[str, Field(pattern=r"^[0-9]{10}$", description="10 digits, NHS-number style")]


class Admission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mrn: StorableText = Field(min_length=1, max_length=64)
    display_name: StorableText = Field(min_length=1, max_length=200)
    ward: StorableText = Field(min_length=1, max_length=100)
    team: Team | None = None
    source: Literal[Source.COMMUNITY, Source.STEP_DOWN] = Field(
        default=Source.COMMUNITY, description="community (admission avoided) or step_down (from an acute bed)"
    )
    pathway: Pathway = Pathway.GENERAL
    spo2_scale: int = Field(default=1, ge=1, le=2)
    date_of_birth: date | None = None
    nhs_number: NhsNumber | None = None
    pregnant: bool = False
    monitoring_plan: MonitoringPlan = Field(default_factory=dict, description="metric -> expected every N hours")
    admitted_at: datetime | None = None


class Admitted(BaseModel):
    id: int = Field(description="the patient's id, the same across their stays")
    episode_id: int
    readmission: bool = Field(description="the MRN was known: a new stay of an existing patient")


_ADMIT_REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "The ward is not yours to admit to"},
    409: {
        "description": "The MRN has an open stay, its stored identity differs from the one given, or the ward is"
        " an existing ward written differently (case, spacing)"
    },
}


def _refused(error: EpisodeRefused, principal: Principal) -> HTTPException:
    """409 saying why; an open stay on a ward the user cannot see is named by ward only."""
    if isinstance(error, AlreadyAdmitted) and not principal.may_see_ward(error.ward):
        return HTTPException(status.HTTP_409_CONFLICT, f"MRN is already admitted, on ward {error.ward}")
    return HTTPException(status.HTTP_409_CONFLICT, str(error))


@router.post("/patients", response_model=Admitted, status_code=status.HTTP_201_CREATED, responses=_ADMIT_REFUSALS)
async def admit(body: Admission, pool: DbPool, principal: ClinicalUser, request_id: RequestId) -> Admitted:
    """Admit a new patient, or readmit a known MRN whose last stay has ended (a new episode; the old ones and
    their record stay). Never changes a stored identity: a different name or date of birth is refused."""
    if not principal.holds_ward(body.ward):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "That ward is outside your scope")
    identity = Identity(body.mrn, body.display_name, body.date_of_birth, body.nhs_number)
    stay = Stay(
        body.ward, body.pathway, body.spo2_scale, body.pregnant,
        {str(m): h for m, h in body.monitoring_plan.items()}, body.team, Source(body.source),
    )  # fmt: skip
    async with pool.acquire() as conn, conn.transaction():
        try:
            admitted = await episode_store.admit(
                conn, identity, stay, body.admitted_at or datetime.now(UTC), principal.username
            )
        except EpisodeRefused as e:
            raise _refused(e, principal) from None
        await record_audit(
            conn,
            principal=principal,
            action="patient.readmit" if admitted.readmission else "patient.admit",
            request_id=request_id,
            patient_id=admitted.patient_id,
            object_type="episode",
            object_id=str(admitted.episode_id),
            detail={"ward": body.ward, "source": body.source},
        )
    return Admitted(id=admitted.patient_id, episode_id=admitted.episode_id, readmission=admitted.readmission)


class IdentityChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: StorableText | None = Field(default=None, min_length=1, max_length=200)
    date_of_birth: date | None = None
    nhs_number: NhsNumber | None = None
    reason: StorableText = Field(min_length=1, max_length=500, description="why the demographics change (audited)")


@router.patch(
    "/patients/{patient_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_NOT_FOUND, 409: {"description": "The NHS number belongs to another patient"}},
)
async def change_identity(
    patient_id: DbId, body: IdentityChange, pool: DbPool, principal: ClinicalUser, request_id: RequestId
) -> None:
    """An explicit demographic change (fields given are set), audited with before, after and why."""
    changes = body.model_dump(exclude_unset=True, exclude={"reason"})
    if changes.get("display_name", "") is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "display_name cannot be emptied")
    async with pool.acquire() as conn, conn.transaction():
        await ensure_may_act(conn, principal, patient_id)
        try:
            changed = await episode_store.update_identity(conn, patient_id, changes)
        except EpisodeRefused as e:
            raise _refused(e, principal) from None
        await record_audit(
            conn,
            principal=principal,
            action="patient.identity_change",
            request_id=request_id,
            patient_id=patient_id,
            object_type="patient",
            object_id=str(patient_id),
            detail={"fields": changed, "reason": body.reason},
        )


@router.get("/patients/{patient_id}/episodes", response_model=PatientEpisodes, responses=_NOT_FOUND)
async def list_episodes(
    patient_id: DbId, pool: DbPool, principal: ReaderUser, request_id: RequestId
) -> PatientEpisodes:
    """Every stay of the patient (this ward's and earlier ones) and their events, for the record's timeline."""
    async with pool.acquire() as conn, conn.transaction():
        await ensure_in_scope(conn, principal, patient_id)
        episodes = await episode_store.episodes_of(conn, patient_id)
        events = await episode_store.events_of(conn, patient_id)
        await record_audit(
            conn,
            principal=principal,
            action="episodes.read",
            request_id=request_id,
            patient_id=patient_id,
            object_type="episodes",
            object_id=str(patient_id),
        )
    return PatientEpisodes(
        patient_id=patient_id,
        episodes=[Episode(**dict(e)) for e in episodes],
        events=[EpisodeEvent(**dict(e)) for e in events],
    )


@router.put(
    "/patients/{patient_id}/monitoring-plan",
    response_model=PlanChange,
    responses={**_NOT_FOUND, 409: {"description": "The patient has no open stay"}},
)
async def change_plan(
    patient_id: DbId, body: PlanChange, pool: DbPool, principal: ClinicalUser, request_id: RequestId
) -> PlanChange:
    """Replace the open stay's monitoring plan; the change (before, after, why) is audited and the patient is
    evaluated again at once, so a shorter interval can make a measurement overdue now."""
    async with pool.acquire() as conn, conn.transaction():
        await ensure_may_act(conn, principal, patient_id)
        before = await patient_store.monitoring_plan(conn, patient_id)
        plan = {str(m): h for m, h in body.monitoring_plan.items()}
        try:
            await episode_store.set_monitoring_plan(conn, patient_id, plan)
        except EpisodeRefused as e:
            raise _refused(e, principal) from None
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


Reason = Annotated[StorableText, Field(min_length=1, max_length=500)]


class Discharge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime | None = None
    outcome: Literal[Outcome.COMPLETED, Outcome.ESCALATED_TO_HOSPITAL, Outcome.DIED, Outcome.SELF_DISCHARGED] = Field(
        description="how the stay ended; escalated_to_hospital is the step-up to an acute bed"
    )
    reason: Reason | None = None


@router.post(
    "/patients/{patient_id}/discharge",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_NOT_FOUND, 409: {"description": "No open stay, or the time is before the admission"}},
)
async def discharge(
    patient_id: DbId, body: Discharge, pool: DbPool, principal: ClinicalUser, request_id: RequestId
) -> None:
    """End the stay with a coded outcome (a step-up is `escalated_to_hospital`); devices are unbound then."""
    async with pool.acquire() as conn, conn.transaction():
        await ensure_may_act(conn, principal, patient_id)
        try:
            episode_id = await episode_store.discharge(
                conn, patient_id, body.at or datetime.now(UTC), Outcome(body.outcome), body.reason, principal.username
            )
        except EpisodeRefused as e:
            raise _refused(e, principal) from None
        await record_audit(
            conn,
            principal=principal,
            action="patient.step_up" if body.outcome == Outcome.ESCALATED_TO_HOSPITAL else "patient.discharge",
            request_id=request_id,
            patient_id=patient_id,
            object_type="episode",
            object_id=str(episode_id),
            detail={"outcome": body.outcome},
        )


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ward: StorableText = Field(min_length=1, max_length=100)
    team: Team | None = None
    at: datetime | None = None
    reason: Reason | None = None


@router.post(
    "/patients/{patient_id}/transfer",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **_NOT_FOUND,
        403: {"description": "The ward moved to (or from) is not yours"},
        409: {
            "description": "No open stay, already there, the time is before the stay began, or the ward is an"
            " existing ward written differently"
        },
    },
)
async def transfer(
    patient_id: DbId, body: Transfer, pool: DbPool, principal: ClinicalUser, request_id: RequestId
) -> None:
    """Move the stay to another ward (needs both wards) or team; the devices stay bound."""
    if not principal.holds_ward(body.ward):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "The ward moved to is outside your scope")
    async with pool.acquire() as conn, conn.transaction():
        await ensure_may_act(conn, principal, patient_id)
        try:
            came_from, episode_id = await episode_store.transfer(
                conn, patient_id, body.at or datetime.now(UTC), body.ward, body.team, body.reason, principal.username
            )
        except EpisodeRefused as e:
            raise _refused(e, principal) from None
        await record_audit(
            conn,
            principal=principal,
            action="patient.transfer",
            request_id=request_id,
            patient_id=patient_id,
            object_type="episode",
            object_id=str(episode_id),
            detail={"from_ward": came_from, "to_ward": body.ward},
        )
        await requeue(conn, [patient_id], "transfer")


class Binding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    kind: DeviceKind | None = Field(default=None, description="needed for a new device; a known one keeps its kind")
    valid_from: datetime | None = None
    transfer: bool = Field(default=False, description="move the device from the patient it is bound to now")


class Bound(BaseModel):
    binding_id: int
    moved_from: int | None = Field(description="the patient the device was transferred from")


@router.post(
    "/patients/{patient_id}/devices",
    response_model=Bound,
    status_code=status.HTTP_201_CREATED,
    responses={
        **_NOT_FOUND,
        409: {"description": "Bound to another patient (ask for transfer), or registered as another kind"},
        422: {"description": "A new device needs its kind"},
    },
)
async def bind(patient_id: DbId, body: Binding, pool: DbPool, principal: ClinicalUser, request_id: RequestId) -> Bound:
    """Bind a device to the patient. One bound elsewhere moves only with `transfer` (its old binding ends at
    that instant, and the other patient's ward must be yours too); a binding never changes the device's kind."""
    async with pool.acquire() as conn, conn.transaction():
        await ensure_may_act(conn, principal, patient_id)
        known = await patient_store.device_kind(conn, body.device_id)
        if known is None and body.kind is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "A new device needs its kind")
        if known is not None and body.kind is not None and body.kind is not known:
            raise HTTPException(status.HTTP_409_CONFLICT, f"The device is registered as a {known.value}")
        if known is None and body.kind is not None:
            await patient_store.register_device(conn, body.device_id, body.kind)
        valid_from = body.valid_from or datetime.now(UTC)
        holder = await patient_store.device_holder(conn, body.device_id)
        if holder is not None and holder != patient_id:
            if not body.transfer:
                raise HTTPException(
                    status.HTTP_409_CONFLICT, "The device is bound to another patient: bind it with transfer to move it"
                )
            await ensure_may_act(conn, principal, holder)
        try:
            binding_id, moved_from = await patient_store.bind_device(
                conn, body.device_id, patient_id, valid_from, transfer=body.transfer
            )
        except asyncpg.ExclusionViolationError:
            raise HTTPException(status.HTTP_409_CONFLICT, "The device is bound to another patient then") from None
        await record_audit(
            conn,
            principal=principal,
            action="device.transfer" if moved_from is not None else "device.bind",
            request_id=request_id,
            patient_id=patient_id,
            object_type="device",
            object_id=body.device_id,
            detail=None if moved_from is None else {"from_patient": moved_from},
        )
    return Bound(binding_id=binding_id, moved_from=moved_from)


@router.delete(
    "/patients/{patient_id}/devices/{device_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND
)
async def unbind(
    patient_id: DbId, device_id: DevicePathId, pool: DbPool, principal: ClinicalUser, request_id: RequestId
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await ensure_may_act(conn, principal, patient_id)
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
