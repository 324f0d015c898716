"""Observations a clinician enters at the bedside (ACVPU, oxygen, any metric), stored as readings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from ingest.core.plausibility import check_value
from ingest.core.rejections import Rejection
from ingest.core.skew import FUTURE, FUTURE_TOLERANCE, skew_flags
from vward.api.deps import ClinicalUser, DbPool, RequestId
from vward.api.fields import DbId, StorableText
from vward.api.scope import ensure_may_act
from vward.domain.metrics import METRIC_SPECS, Metric
from vward.domain.readings import Reading
from vward.storage import patients as patient_store
from vward.storage.audit import record_audit
from vward.storage.readings import insert_for_patient

router = APIRouter(prefix="/api/v1", tags=["patients"])

MAX_READINGS = 20
_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such patient in your wards"},
    409: {"description": "The patient is discharged, or the time is before the admission"},
}


class EnteredValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: Metric
    value: bool | float | StorableText = Field(
        description="a number in the metric's plausible range, true/false for on_oxygen and patient_concern, "
        "one of A, C, V, P, U for consciousness"
    )

    @model_validator(mode="after")
    def plausible(self) -> EnteredValue:
        """Bedside values pass the same checks as a device's, so both kinds of reading mean the same."""
        checked = check_value(METRIC_SPECS[self.metric], self.value)
        if isinstance(checked, Rejection):
            raise ValueError(checked.detail)
        self.value = checked
        return self


class ObservationEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    readings: list[EnteredValue] = Field(min_length=1, max_length=MAX_READINGS)
    measured_at: AwareDatetime | None = Field(default=None, description="when observed; default: now")

    @model_validator(mode="after")
    def one_value_per_metric(self) -> ObservationEntry:
        """Two values of one metric at one time would contradict each other (and collide in storage)."""
        metrics = [r.metric for r in self.readings]
        if len(set(metrics)) != len(metrics):
            raise ValueError("each metric may appear once")
        return self


class Recorded(BaseModel):
    stored: int
    measured_at: datetime


@router.post(
    "/patients/{patient_id}/observations",
    response_model=Recorded,
    status_code=status.HTTP_201_CREATED,
    responses=_RESPONSES,
)
async def record_observations(
    patient_id: DbId, body: ObservationEntry, pool: DbPool, principal: ClinicalUser, request_id: RequestId
) -> Recorded:
    """Stored like a device's readings (device `clinician:<username>`), so NEWS2 and the rules see them at once."""
    now = datetime.now(UTC)
    measured_at = body.measured_at or now
    if measured_at > now + FUTURE_TOLERANCE:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "measured_at is in the future")
    source = f"clinician:{principal.username}"
    msg_id = str(uuid.uuid4())
    flags = skew_flags(measured_at, now)
    readings = [
        Reading(source, msg_id, r.metric, r.value, measured_at, received_at=now, flags=flags) for r in body.readings
    ]
    async with pool.acquire() as conn, conn.transaction():
        await ensure_may_act(conn, principal, patient_id)
        patient = await patient_store.load_patient(conn, patient_id)
        if patient is None or patient.discharged_at is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, "The patient is discharged")
        if measured_at < patient.admitted_at:
            raise HTTPException(status.HTTP_409_CONFLICT, "measured_at is before the admission")
        stored = await insert_for_patient(conn, patient_id, readings, not_latest_flag=FUTURE)
        await record_audit(
            conn,
            principal=principal,
            action="observations.record",
            request_id=request_id,
            patient_id=patient_id,
            object_type="readings",
            object_id=msg_id,
            detail={"metrics": [str(r.metric) for r in readings]},
        )
    return Recorded(stored=stored, measured_at=measured_at)
