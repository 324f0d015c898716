"""Ward scoping shared by every router that opens one patient's record."""

from __future__ import annotations

from fastapi import HTTPException, status

from vward.domain.users import Principal
from vward.storage import ward as ward_store
from vward.storage.pool import Conn


async def ensure_in_scope(conn: Conn, principal: Principal, patient_id: int) -> str:
    """The patient's ward; 404 (not 403) outside the principal's scope, so ids cannot be probed."""
    ward = await ward_store.patient_ward(conn, patient_id)
    if ward is None or not principal.may_see_ward(ward):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such patient")
    return ward
