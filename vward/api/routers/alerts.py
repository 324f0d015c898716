"""Alerts: the filtered, paged list, one alert with its event trail, and the clinical actions
(acknowledge, escalate, resolve with an outcome, snooze with a reason and an expiry)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel

from rules.actions import act
from rules.core.lifecycle import Action, Rejection, Request, allowed_actions
from vward.api.deps import CLINICAL_ROLES, AppSettings, ClinicalUser, DbPool, OpsUser, ReaderUser, RequestId
from vward.api.fields import MAX_ID, DbId
from vward.contract.alerts import AlertDetail, AlertEvent, AlertOut, AlertPage, Note, PatientRef, Resolution, Snooze
from vward.domain.alerts import AlertState, Severity
from vward.domain.patients import age_on
from vward.domain.users import Principal
from vward.storage import alerts as store
from vward.storage import ward as ward_store
from vward.storage.alerts import AlertFilter, StoredAlert
from vward.storage.audit import record_audit
from vward.storage.outbox import outbox_health
from vward.storage.pool import Conn

router = APIRouter(prefix="/api/v1", tags=["alerts"])

MAX_PAGE_SIZE = 200
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such alert in your wards"}}
_REFUSED: dict[int | str, dict[str, Any]] = {
    **_NOT_FOUND,
    409: {"description": "The action does not fit the alert's state or severity; `detail` says why"},
}
# Refusals about the request's content rather than the alert's state.
_INVALID_REQUEST = frozenset(
    {
        "outcome_required",
        "outcome_text_required",
        "reason_required",
        "until_required",
        "until_in_past",
        "snooze_too_long",
    }
)


def _out(alert: StoredAlert, principal: Principal, patients: dict[int, PatientRef]) -> AlertOut:
    """The stored alert as served: who it is about and what this caller may do with it next."""
    values = {k: getattr(alert, k) for k in StoredAlert.__dataclass_fields__ if k in AlertOut.model_fields}
    may_act = principal.role in CLINICAL_ROLES
    return AlertOut(
        **values,
        severity_name=alert.severity.name.lower(),
        patient=None if alert.patient_id is None else patients.get(alert.patient_id),
        allowed_actions=[str(a) for a in allowed_actions(alert.state, alert.severity)] if may_act else [],
    )


async def _patients_of(conn: Conn, alerts: list[StoredAlert]) -> dict[int, PatientRef]:
    ids = sorted({a.patient_id for a in alerts if a.patient_id is not None})
    today = datetime.now(UTC).date()
    return {
        r["id"]: PatientRef(
            id=r["id"],
            display_name=r["display_name"],
            mrn=r["mrn"],
            date_of_birth=r["date_of_birth"],
            age_years=None if r["date_of_birth"] is None else age_on(r["date_of_birth"], today),
        )
        for r in await ward_store.patient_refs(conn, ids)
    }


async def _in_scope(conn: Conn, principal: Principal, alert_id: int, *, acting: bool = False) -> StoredAlert:
    """The alert if the principal may see its patient's ward; 404 otherwise, so ids cannot be probed. To act
    on it (locked for the update) the ward must be theirs: 403 when they see it only by emergency access."""
    alert = await store.get_alert(conn, alert_id, for_update=acting)
    if alert is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such alert")
    if alert.patient_id is not None:
        ward = await ward_store.patient_ward(conn, alert.patient_id)
        if ward is None or not principal.may_see_ward(ward):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such alert")
        if acting and not principal.holds_ward(ward):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "Emergency access reads only: that ward is not yours to act in"
            )
    return alert


@router.get("/alerts", response_model=AlertPage)
async def list_alerts(
    pool: DbPool,
    principal: ReaderUser,
    request_id: RequestId,
    state: Annotated[list[AlertState] | None, Query(max_length=5)] = None,
    severity: Annotated[Severity | None, Query(description="minimum severity, 0 (info) to 3 (high)")] = None,
    patient_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> AlertPage:
    """The inbox's order: worst severity first, then whoever has waited longest, then id (stable across
    pages); by default every state. System alerts (no patient) are listed for all."""
    where = AlertFilter(tuple(state or ()), severity, patient_id, principal.wards)
    async with pool.acquire() as conn, conn.transaction():
        alerts, total = await store.list_alerts(conn, where, limit=page_size, offset=(page - 1) * page_size)
        await record_audit(
            conn,
            principal=principal,
            action="alerts.list",
            request_id=request_id,
            patient_id=patient_id,
            object_type="alerts",
            detail={"returned": len(alerts), "total": total, "page": page},
        )
        patients = await _patients_of(conn, alerts)
    items = [_out(a, principal, patients) for a in alerts]
    return AlertPage(items=items, total=total, page=page, page_size=page_size)


@router.get("/alerts/{alert_id}", response_model=AlertDetail, responses=_NOT_FOUND)
async def get_alert(alert_id: DbId, pool: DbPool, principal: ReaderUser, request_id: RequestId) -> AlertDetail:
    async with pool.acquire() as conn, conn.transaction():
        alert = await _in_scope(conn, principal, alert_id)
        events = await store.events_of(conn, alert_id)
        patients = await _patients_of(conn, [alert])
        await record_audit(
            conn,
            principal=principal,
            action="alert.read",
            request_id=request_id,
            patient_id=alert.patient_id,
            object_type="alert",
            object_id=str(alert_id),
        )
    out = _out(alert, principal, patients)
    return AlertDetail(**dict(out), events=[AlertEvent(**dict(e)) for e in events])


class OutboxStatus(BaseModel):
    """Undelivered notifications are a hazard: ops watch these numbers (and alarm on `failing`)."""

    pending: int
    failing: int
    oldest_pending_at: datetime | None
    sent: int
    failed_attempts: int
    last_error: str | None


@router.get("/notifications/outbox", response_model=OutboxStatus)
async def outbox_status(pool: DbPool, _: OpsUser) -> OutboxStatus:
    """The notification outbox: queued, failing and sent notifications, failed attempts, the last error."""
    async with pool.acquire() as conn:
        health = await outbox_health(conn)
    return OutboxStatus(**asdict(health))


@dataclass(frozen=True, slots=True)
class Acting:
    """Everything an alert action needs besides its body: who acts, where, and whether to notify."""

    pool: asyncpg.Pool
    principal: Principal
    request_id: str
    notify_enabled: bool


def _acting(pool: DbPool, settings: AppSettings, principal: ClinicalUser, request_id: RequestId) -> Acting:
    return Acting(pool, principal, request_id, bool(settings.notify_webhook_url))


ActingUser = Annotated[Acting, Depends(_acting)]


async def _act(acting: Acting, alert_id: int, request: Request, note: str | None) -> AlertOut:
    async with acting.pool.acquire() as conn, conn.transaction():
        alert = await _in_scope(conn, acting.principal, alert_id, acting=True)
        result = await act(
            conn,
            alert,
            request,
            datetime.now(UTC),
            principal=acting.principal,
            request_id=acting.request_id,
            notify_enabled=acting.notify_enabled,
        )
        if isinstance(result, Rejection):
            invalid = result.code in _INVALID_REQUEST
            code = status.HTTP_422_UNPROCESSABLE_CONTENT if invalid else status.HTTP_409_CONFLICT
            raise HTTPException(code, detail=f"{result.message} ({result.code})")
        if note:
            await store.add_event(
                conn,
                alert_id=alert_id,
                at=result.updated_at,
                kind="note",
                actor=acting.principal.username,
                from_state=None,
                to_state=None,
                severity=None,
                detail={"note": note},
            )
        patients = await _patients_of(conn, [result])
    return _out(result, acting.principal, patients)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut, responses=_REFUSED)
async def acknowledge(alert_id: DbId, acting: ActingUser, body: Note | None = None) -> AlertOut:
    """I have seen it and I am on it: stops escalation to the next tier."""
    request = Request(Action.ACKNOWLEDGE, acting.principal.username)
    return await _act(acting, alert_id, request, body.note if body else None)


@router.post("/alerts/{alert_id}/escalate", response_model=AlertOut, responses=_REFUSED)
async def escalate(alert_id: DbId, acting: ActingUser, body: Note | None = None) -> AlertOut:
    """Tell the next tier of the alert's escalation policy now."""
    request = Request(Action.ESCALATE, acting.principal.username)
    return await _act(acting, alert_id, request, body.note if body else None)


@router.post("/alerts/{alert_id}/resolve", response_model=AlertOut, responses=_REFUSED)
async def resolve(alert_id: DbId, body: Resolution, acting: ActingUser) -> AlertOut:
    """Close the alert with a coded outcome (and free text, required for 'other'): a person, not the rule,
    ends a clinical alert."""
    request = Request(Action.RESOLVE, acting.principal.username, outcome=body.outcome, outcome_code=body.outcome_code)
    return await _act(acting, alert_id, request, body.note)


@router.post("/alerts/{alert_id}/snooze", response_model=AlertOut, responses=_REFUSED)
async def snooze(alert_id: DbId, body: Snooze, acting: ActingUser) -> AlertOut:
    """Silence every channel until `until`; refused (409) for high-severity alerts."""
    request = Request(Action.SNOOZE, acting.principal.username, reason=body.reason, until=body.until)
    return await _act(acting, alert_id, request, body.note)
