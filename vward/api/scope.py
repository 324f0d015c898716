"""Ward scoping shared by every router that opens one patient's record: reads may use emergency access,
writes need the ward held."""

from __future__ import annotations

from fastapi import HTTPException, status

from vward.domain.users import Principal
from vward.storage import ward as ward_store
from vward.storage.pool import Conn

EMERGENCY_READS_ONLY = "Emergency access reads only: that ward is not yours to act in"


async def ensure_in_scope(conn: Conn, principal: Principal, patient_id: int) -> str:
    """The patient's ward; 404 (not 403) outside the principal's scope, so ids cannot be probed."""
    ward = await ward_store.patient_ward(conn, patient_id)
    if ward is None or not principal.may_see_ward(ward):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such patient")
    return ward


async def ensure_may_act(conn: Conn, principal: Principal, patient_id: int) -> str:
    """As `ensure_in_scope`, for a write: 403 when the ward is visible only through emergency access."""
    ward = await ensure_in_scope(conn, principal, patient_id)
    if not principal.holds_ward(ward):
        raise HTTPException(status.HTTP_403_FORBIDDEN, EMERGENCY_READS_ONLY)
    return ward
