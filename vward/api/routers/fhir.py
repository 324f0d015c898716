"""FHIR R4 at /fhir/r4: CapabilityStatement, Patient, Observation search, Device and Flag (open alerts).

The same scoping and audit as the ward API: outside your wards a patient does not exist (404), and
every read of patient data writes one audit row in the read's transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

import vward
from vward.api import fhir_mapping as fhir
from vward.api import fhir_queries as queries
from vward.api.deps import DbPool, ReaderUser, RequestId
from vward.api.fields import DbId, DevicePathId
from vward.storage import patients as patient_store
from vward.storage.audit import record_audit

MAX_PAGE = 100
_FHIR_JSON = "application/fhir+json"


class FhirResponse(JSONResponse):
    media_type = _FHIR_JSON


# Bodies are FHIR resources, validated against the FHIR specification rather than an OpenAPI schema.
_FHIR_BODY: dict[str, Any] = {"content": {_FHIR_JSON: {"schema": {"type": "object"}}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {"description": "A FHIR R4 resource", **_FHIR_BODY},
    400: {"description": "A search parameter that cannot be read (OperationOutcome)", **_FHIR_BODY},
    404: {"description": "No such resource in your wards (OperationOutcome)", **_FHIR_BODY},
}

router = APIRouter(prefix="/fhir/r4", tags=["fhir"], default_response_class=FhirResponse, responses=_ERRORS)

_PATIENT_REF = r"^(Patient/)?[1-9][0-9]{0,17}$"  # 18 digits: always within bigint
Count = Annotated[int, Query(alias="_count", ge=1, le=MAX_PAGE, description=f"page size, at most {MAX_PAGE}")]
Offset = Annotated[int, Query(alias="_offset", ge=0, le=1_000_000, description="entries to skip")]


def _outcome(status_code: int, code: str, diagnostics: str) -> FhirResponse:
    return FhirResponse(fhir.operation_outcome(code, diagnostics), status_code=status_code)


def _patient_id(reference: str) -> int:
    return int(reference.removeprefix("Patient/"))


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + router.prefix


def _page_links(request: Request, offset: int, count: int, total: int) -> dict[str, str]:
    links = {"self": str(request.url)}
    if offset + count < total:
        links["next"] = str(request.url.include_query_params(_offset=offset + count, _count=count))
    if offset > 0:
        links["previous"] = str(request.url.include_query_params(_offset=max(0, offset - count), _count=count))
    return links


@router.get("/metadata")
async def metadata() -> FhirResponse:
    """The CapabilityStatement: public, as FHIR clients read it before they sign in."""
    return FhirResponse(fhir.capability_statement(datetime.now(UTC), vward.__version__))


@router.get("/Patient/{patient_id}")
async def read_patient(patient_id: DbId, pool: DbPool, principal: ReaderUser, request_id: RequestId) -> FhirResponse:
    async with pool.acquire() as conn, conn.transaction():
        patient = await patient_store.load_patient(conn, patient_id)
        if patient is None or not principal.may_see_ward(patient.ward):
            return _outcome(404, "not-found", "No such patient")
        await record_audit(
            conn,
            principal=principal,
            action="fhir.patient.read",
            request_id=request_id,
            patient_id=patient_id,
            object_type="patient",
            object_id=str(patient_id),
        )
    return FhirResponse(fhir.patient_resource(patient))


@router.get("/Observation")
async def search_observations(
    request: Request,
    pool: DbPool,
    principal: ReaderUser,
    request_id: RequestId,
    patient: Annotated[str, Query(pattern=_PATIENT_REF, description="the patient: 123 or Patient/123 (required)")],
    code: Annotated[list[str] | None, Query(max_length=10, description="LOINC codes, OR-ed")] = None,
    date: Annotated[list[str] | None, Query(max_length=2, description="e.g. ge2026-11-01&date=lt2026-11-02")] = None,
    count: Count = 50,
    offset: Offset = 0,
) -> FhirResponse:
    """Vital-signs Observations of one patient as a searchset Bundle, oldest first, paged."""
    try:
        start, end = fhir.date_bounds(date or [])
    except fhir.BadSearch as exc:
        return _outcome(400, "invalid", str(exc))
    tokens = [t for value in code or [] for t in value.split(",")]
    metrics = fhir.metrics_for_codes(tokens) if tokens else set(fhir.OBSERVED)
    patient_id = _patient_id(patient)
    async with pool.acquire() as conn, conn.transaction():
        patient_row = await patient_store.load_patient(conn, patient_id)
        if patient_row is None or not principal.may_see_ward(patient_row.ward):
            return _outcome(404, "not-found", "No such patient")
        groups, total = await queries.observation_groups(
            conn, patient_id, metrics, start, end, limit=count, offset=offset
        )
        await record_audit(
            conn,
            principal=principal,
            action="fhir.observation.search",
            request_id=request_id,
            patient_id=patient_id,
            object_type="readings",
            detail={"returned": len(groups), "total": total},
        )
    resources = [fhir.observation_resource(g) for g in groups]
    return FhirResponse(fhir.searchset(_base(request), resources, total, _page_links(request, offset, count, total)))


@router.get("/Device/{device_id}")
async def read_device(
    device_id: DevicePathId, pool: DbPool, principal: ReaderUser, request_id: RequestId
) -> FhirResponse:
    """A device and the patient it is bound to now; unbound devices only for users of every ward."""
    async with pool.acquire() as conn, conn.transaction():
        device = await queries.device_by_fhir_id(conn, device_id)
        visible = device is not None and (
            principal.may_see_ward(device.ward) if device.ward is not None else not principal.wards
        )
        if device is None or not visible:
            return _outcome(404, "not-found", "No such device")
        await record_audit(
            conn,
            principal=principal,
            action="fhir.device.read",
            request_id=request_id,
            patient_id=device.patient_id,
            object_type="device",
            object_id=device.id,
        )
    return FhirResponse(fhir.device_resource(device.id, device.kind, device.patient_id, device.online))


@router.get("/Flag")
async def search_flags(
    request: Request,
    pool: DbPool,
    principal: ReaderUser,
    request_id: RequestId,
    patient: Annotated[
        str | None, Query(pattern=_PATIENT_REF, description="the patient (123 or Patient/123); default: all yours")
    ] = None,
    count: Count = 50,
    offset: Offset = 0,
) -> FhirResponse:
    """Open alerts as Flags, oldest first, paged."""
    patient_id = None if patient is None else _patient_id(patient)
    async with pool.acquire() as conn, conn.transaction():
        if patient_id is not None:
            patient_row = await patient_store.load_patient(conn, patient_id)
            if patient_row is None or not principal.may_see_ward(patient_row.ward):
                return _outcome(404, "not-found", "No such patient")
        wards = None if patient_id is not None or not principal.wards else list(principal.wards)
        rows, total = await queries.open_alerts(conn, patient_id, wards, limit=count, offset=offset)
        await record_audit(
            conn,
            principal=principal,
            action="fhir.flag.search",
            request_id=request_id,
            patient_id=patient_id,
            object_type="alerts",
            detail={"returned": len(rows), "total": total},
        )
    resources = [fhir.flag_resource(r["id"], r["patient_id"], r["title"], r["severity"], r["opened_at"]) for r in rows]
    return FhirResponse(fhir.searchset(_base(request), resources, total, _page_links(request, offset, count, total)))
