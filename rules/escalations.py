"""Escalation on stored alerts, timed by the pure `rules.core.escalation.plan` over the alert's own policy
snapshot: the first tier when an alert opens, later tiers and reminders when the timer loop finds them due,
and the next tier at once when a person escalates by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rules.core.escalation import EscalationStep, Notification, plan
from rules.notifications import notify
from vward.domain.alerts import AlertState
from vward.domain.users import Principal
from vward.storage import alerts as store
from vward.storage.alerts import StoredAlert
from vward.storage.audit import record_audit
from vward.storage.pool import Conn


def opening(policy: dict[str, Any], now: datetime) -> EscalationStep:
    """What a new alert notifies at once (tier 0) and when it next falls due."""
    return plan(policy, opened_at=now, tier=0, next_due_at=None, acknowledged=False, now=now)


def due(alert: StoredAlert, now: datetime) -> EscalationStep:
    return plan(
        alert.escalation_policy,
        opened_at=alert.opened_at,
        tier=alert.escalation_tier,
        next_due_at=alert.next_escalation_at,
        acknowledged=alert.state is AlertState.ACKNOWLEDGED,
        now=now,
    )


def by_hand(alert: StoredAlert, now: datetime) -> EscalationStep:
    """A person escalates: the next tier is told now (the last one again once all were told)."""
    policy = alert.escalation_policy
    tiers = policy["tiers"]
    index = min(alert.escalation_tier, len(tiers) - 1)
    reached = min(alert.escalation_tier + 1, len(tiers))
    if reached < len(tiers):
        next_due: datetime | None = max(now, alert.opened_at + timedelta(minutes=tiers[reached]["after_minutes"]))
    else:
        renotify = policy.get("renotify_minutes")
        next_due = None if renotify is None else now + timedelta(minutes=renotify)
    again = reached == alert.escalation_tier
    note = Notification(index, tiers[index]["target"], tiers[index]["channel"], renotify=again)
    return EscalationStep((note,), reached, next_due, True)


async def record_transition(
    conn: Conn,
    alert: StoredAlert,
    updated: StoredAlert,
    *,
    at: datetime,
    kind: str,
    principal: Principal,
    from_state: AlertState | None,
    detail: dict[str, Any],
    request_id: str | None = None,
    audit_action: str | None = None,
    audit_detail: dict[str, Any] | None = None,
) -> None:
    """An alert's move is written twice, as an alert event (the timeline) and an audit row (who and when)."""
    await store.add_event(
        conn,
        alert_id=alert.id,
        at=at,
        kind=kind,
        actor=principal.username,
        from_state=from_state,
        to_state=updated.state,
        severity=updated.severity,
        detail=detail,
    )
    await record_audit(
        conn,
        principal=principal,
        action=f"alert.{audit_action or kind}",
        request_id=request_id,
        patient_id=alert.patient_id,
        object_type="alert",
        object_id=str(alert.id),
        detail=audit_detail if audit_detail is not None else detail,
    )


async def advance(conn: Conn, alert: StoredAlert, now: datetime, *, actor: Principal, notify_enabled: bool) -> None:
    """Notify whatever tiers are due, move the alert to `escalated` past the first, and set its next timer."""
    step = due(alert, now)
    changes: dict[str, Any] = {"escalation_tier": step.tier, "next_escalation_at": step.next_due_at}
    if step.escalated and alert.state is AlertState.OPEN:
        changes["state"] = AlertState.ESCALATED
    updated = await store.update_alert(conn, alert.id, now, changes)
    if not step.notify:
        return
    event = "renotified" if all(n.renotify for n in step.notify) else "escalated"
    detail = {"tiers": [n.tier for n in step.notify], "targets": [n.target for n in step.notify]}
    await record_transition(
        conn, alert, updated, at=now, kind=event, principal=actor, from_state=alert.state, detail=detail
    )
    if notify_enabled and updated.muted_by is None:
        await notify(conn, updated, event, step.notify, now)
