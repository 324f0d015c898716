"""Clinicians' free-text notes on a patient's record: written by clinicians and admins, read by reader roles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from vward.api.deps import ClinicalUser, DbPool, ReaderUser, RequestId
from vward.api.fields import DbId
from vward.api.scope import ensure_in_scope, ensure_may_act
from vward.contract.notes import NewNote, Note
from vward.storage import notes as store
from vward.storage.audit import record_audit

router = APIRouter(prefix="/api/v1", tags=["patients"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such patient in your wards"}}


@router.post(
    "/patients/{patient_id}/notes", response_model=Note, status_code=status.HTTP_201_CREATED, responses=_NOT_FOUND
)
async def add_note(
    patient_id: DbId, body: NewNote, pool: DbPool, principal: ClinicalUser, request_id: RequestId
) -> Note:
    async with pool.acquire() as conn, conn.transaction():
        await ensure_may_act(conn, principal, patient_id)
        row = await store.add_note(conn, patient_id, principal.username, body.text)
        await record_audit(
            conn,
            principal=principal,
            action="note.add",
            request_id=request_id,
            patient_id=patient_id,
            object_type="note",
            object_id=str(row["id"]),
        )
    return Note(id=row["id"], at=row["at"], author=principal.username, text=body.text)


@router.get("/patients/{patient_id}/notes", response_model=list[Note], responses=_NOT_FOUND)
async def list_notes(
    patient_id: DbId,
    pool: DbPool,
    principal: ReaderUser,
    request_id: RequestId,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Note]:
    """Newest first."""
    async with pool.acquire() as conn, conn.transaction():
        await ensure_in_scope(conn, principal, patient_id)
        rows = await store.list_notes(conn, patient_id, limit)
        await record_audit(
            conn,
            principal=principal,
            action="notes.read",
            request_id=request_id,
            patient_id=patient_id,
            object_type="notes",
            detail={"rows": len(rows)},
        )
    return [Note(**dict(r)) for r in rows]
