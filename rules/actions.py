"""Apply a lifecycle request (acknowledge, escalate, resolve, snooze, reopen) to a stored alert: the pure
core decides, this persists the new state, the alert event and the audit row in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rules.core.escalation import EscalationStep
from rules.core.lifecycle import Rejection, Request, Transition, apply
from rules.core.model import AlertSnapshot
from rules.escalations import by_hand, record_transition
from rules.notifications import latest_tier, notify
from vward.domain.alerts import AlertState
from vward.domain.users import Principal
from vward.storage import alerts as store
from vward.storage.alerts import StoredAlert
from vward.storage.pool import Conn


def snapshot(alert: StoredAlert) -> AlertSnapshot:
    """The stored alert as the pure core sees it."""
    return AlertSnapshot(
        id=alert.id,
        patient_id=alert.patient_id or 0,
        rule_id=alert.rule_id,
        severity=alert.severity,
        state=alert.state,
        opened_at=alert.opened_at,
        snoozed_until=alert.snoozed_until,
        auto_resolve=alert.auto_resolve,
        escalation_tier=alert.escalation_tier,
        next_escalation_at=alert.next_escalation_at,
        cleared=alert.cleared_at is not None,
        muted=alert.muted_by is not None,
        absent_since=alert.absent_since,
        title=alert.title,
    )


def _changes(alert: StoredAlert, move: Transition) -> tuple[dict[str, Any], EscalationStep | None]:
    """The columns a transition sets and, for a hand escalation, who to tell; leaving `snoozed` clears it."""
    changes: dict[str, Any] = {"state": move.to_state}
    if move.to_state is not AlertState.SNOOZED:
        changes |= {"snoozed_until": None, "snooze_reason": None}
    if move.to_state is AlertState.ACKNOWLEDGED:
        changes |= {"acknowledged_at": move.at, "acknowledged_by": move.actor, "next_escalation_at": None}
    elif move.to_state is AlertState.RESOLVED:
        changes |= {
            "resolved_at": move.at,
            "resolved_by": move.actor,
            "outcome": move.detail.get("outcome"),
            "outcome_code": move.detail.get("outcome_code"),
            "next_escalation_at": None,
        }
    elif move.to_state is AlertState.SNOOZED:
        changes |= {"snoozed_until": move.snoozed_until, "snooze_reason": move.detail.get("reason")}
    elif move.to_state is AlertState.OPEN:  # reopened after a snooze: the timer loop picks it up now
        changes["next_escalation_at"] = move.at
    elif move.to_state is AlertState.ESCALATED:
        step = by_hand(alert, move.at)
        changes |= {"escalation_tier": step.tier, "next_escalation_at": step.next_due_at}
        return changes, step
    return changes, None


async def act(
    conn: Conn,
    alert: StoredAlert,
    request: Request,
    now: datetime,
    *,
    principal: Principal,
    request_id: str | None,
    notify_enabled: bool,
) -> StoredAlert | Rejection:
    """Apply `request` to `alert` (locked by the caller); a refusal changes nothing and is returned."""
    move = apply(snapshot(alert), request, now)
    if isinstance(move, Rejection):
        return move
    changes, step = _changes(alert, move)
    updated = await store.update_alert(conn, alert.id, now, changes)
    if notify_enabled and updated.muted_by is None:
        if step is not None:
            await notify(conn, updated, "escalated", step.notify, now)
        elif move.to_state is AlertState.OPEN:
            await notify(conn, updated, "reopened", [latest_tier(updated)], now)
    detail = move.detail | {"tier": updated.escalation_tier}
    await record_transition(
        conn,
        alert,
        updated,
        at=now,
        kind=move.event,
        principal=principal,
        from_state=move.from_state,
        detail=detail,
        request_id=request_id,
        audit_action=str(request.action),
        audit_detail={"rule_id": alert.rule_id, "from": move.from_state, "to": move.to_state, **move.detail},
    )
    return updated
