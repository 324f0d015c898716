"""The audit trail, read back: admins see all of it, clinicians one patient in their wards at a time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from vward.api.deps import ClinicalUser, DbPool, RequestId
from vward.api.fields import MAX_ID
from vward.api.scope import ensure_in_scope
from vward.contract.audit import AuditEntry
from vward.domain.alerts import Role
from vward.storage.audit import list_audit, record_audit

router = APIRouter(prefix="/api/v1", tags=["audit"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "Your role may not read the audit trail, or a clinician gave no patient"},
    404: {"description": "No such patient in your wards"},
}


@router.get("/audit", response_model=list[AuditEntry], responses=_RESPONSES)
async def read_audit(
    pool: DbPool,
    principal: ClinicalUser,
    request_id: RequestId,
    patient_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntry]:
    """Newest first. Reading the trail is itself audited: who looked at who looked."""
    if patient_id is None and principal.role is not Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Clinicians read the audit trail of one patient at a time")
    async with pool.acquire() as conn, conn.transaction():
        if patient_id is not None:
            await ensure_in_scope(conn, principal, patient_id)
        rows = await list_audit(conn, patient_id=patient_id, limit=limit)
        await record_audit(
            conn,
            principal=principal,
            action="audit.read",
            request_id=request_id,
            patient_id=patient_id,
            object_type="audit_log",
            detail={"rows": len(rows)},
        )
    return [AuditEntry(**dict(r)) for r in rows]
