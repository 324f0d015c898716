"""Persist a reconcile Decision for one patient: alerts, alert events, audit rows and outbox rows, in the
caller's transaction. An insert that meets the one-open-alert index (another worker won) becomes a worsen
or a keep, never an error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rules.core.model import AlertChange, Decision, Finding
from rules.escalations import opening
from rules.notifications import latest_tier, notify
from vward.domain.alerts import AlertState, Severity
from vward.domain.users import Principal
from vward.storage import alerts as store
from vward.storage.alerts import NewAlert, StoredAlert
from vward.storage.audit import record_audit
from vward.storage.pool import Conn


@dataclass(frozen=True, slots=True)
class Origin:
    """Who decides and under which rule set version; `notify` is False when no channel is configured."""

    actor: Principal
    rule_set_name: str
    rule_set_version: int
    notify: bool


async def apply_decision(
    conn: Conn, patient_id: int | None, decision: Decision, alerts: list[StoredAlert], origin: Origin, now: datetime
) -> None:
    """Apply every change in order; `alerts` are the patient's unresolved alerts, locked by the caller."""
    by_rule = {a.rule_id: a for a in alerts}
    for change in decision.changes:
        alert = by_rule.get(change.rule_id)
        if change.kind == "open":
            assert change.finding is not None
            by_rule[change.rule_id] = await _open(conn, patient_id, change.finding, origin, now)
        elif alert is not None:
            by_rule[change.rule_id] = await _change(conn, alert, change, by_rule, origin, now)


async def _open(conn: Conn, patient_id: int | None, finding: Finding, origin: Origin, now: datetime) -> StoredAlert:
    step = opening(finding.escalation_policy, now)
    new = NewAlert(
        patient_id=patient_id,
        rule_id=finding.rule_id,
        rule_set_name=origin.rule_set_name,
        rule_set_version=origin.rule_set_version,
        severity=finding.severity,
        title=finding.title,
        reason=finding.reason,
        escalation_policy=finding.escalation_policy,
        escalation_tier=step.tier,
        next_escalation_at=step.next_due_at,
        auto_resolve=finding.auto_resolve,
    )
    alert = await store.insert_alert(conn, new, now)
    if alert is None:
        existing = await store.open_alert_for_rule(conn, patient_id, finding.rule_id)
        assert existing is not None, "the conflicting alert resolved within our transaction"
        if finding.severity <= existing.severity:
            return existing
        change = AlertChange("worsen", finding.rule_id, finding, existing.id, finding.severity, "raced: worse")
        return await _change(conn, existing, change, {}, origin, now)
    await _record(conn, alert, "opened", origin, now, None, AlertState.OPEN, {"reason": "rule fires"})
    if origin.notify:
        await notify(conn, alert, "opened", step.notify, now)
    return alert


# The condition went away (kept, not yet cleared), came back within the episode (counted as a waver), or
# reads otherwise at the same severity (the title and reason follow what is true now).
_QUIET: dict[str, Callable[[StoredAlert, AlertChange, datetime], dict[str, Any]]] = {
    "absent": lambda alert, change, now: {"absent_since": now},
    "present": lambda alert, change, now: {"absent_since": None, "wavers": alert.wavers + 1},
    "retitle": lambda alert, change, now: {} if change.finding is None else _retitled(change.finding),
}


def _retitled(finding: Finding) -> dict[str, Any]:
    return {"title": finding.title, "reason": finding.reason}


def _columns(
    alert: StoredAlert, change: AlertChange, by_rule: dict[str, StoredAlert], origin: Origin, now: datetime
) -> tuple[str, dict[str, Any]] | None:
    """The event name and the columns a change sets, or None when it changes nothing."""
    finding = change.finding
    if change.kind == "worsen" and finding is not None and finding.severity > alert.severity:
        columns = {"severity": finding.severity, "title": finding.title, "reason": finding.reason}
        if finding.escalation_policy != alert.escalation_policy:
            # Worse means the stricter policy of the new severity, timed from the opening: a medium alert
            # that turns high must not wait out the medium policy's doctor delay.
            columns |= {"escalation_policy": finding.escalation_policy, "next_escalation_at": now}
        return "worsened", columns
    if change.kind == "returned":
        return "returned", {"cleared_at": None, "absent_since": None}
    if change.kind == "clear_pending":
        return "cleared", {"cleared_at": now, "absent_since": None}
    if change.kind == "reopen" and alert.state is AlertState.SNOOZED:
        return "reopened", {
            "state": AlertState.OPEN,
            "snoozed_until": None,
            "snooze_reason": None,
            "next_escalation_at": now,
        }
    if change.kind == "resolve_by_rule":
        return "resolved", {
            "state": AlertState.RESOLVED,
            "resolved_at": now,
            "resolved_by": origin.actor.username,
            "outcome": f"auto-resolved: {change.reason}",
            "next_escalation_at": None,
        }
    if change.kind == "mute" and change.muted_by_rule in by_rule:
        return "muted", {"muted_by": by_rule[change.muted_by_rule].id}
    if change.kind == "unmute":
        return "unmuted", {"muted_by": None}
    return None


async def _change(
    conn: Conn, alert: StoredAlert, change: AlertChange, by_rule: dict[str, StoredAlert], origin: Origin, now: datetime
) -> StoredAlert:
    if change.kind in _QUIET:  # bookkeeping of one episode: no event, no audit row, no notification
        return await store.update_alert(conn, alert.id, now, _QUIET[change.kind](alert, change, now))
    columns = _columns(alert, change, by_rule, origin, now)
    if columns is None:
        return alert
    event, values = columns
    updated = await store.update_alert(conn, alert.id, now, values)
    await _record(conn, updated, event, origin, now, alert.state, updated.state, {"reason": change.reason})
    # A condition back within its episode is not news: the tier that was told has been told (issue 12).
    if origin.notify and event in ("worsened", "reopened") and updated.muted_by is None:
        await notify(conn, updated, event, [latest_tier(updated)], now)
    return updated


async def _record(
    conn: Conn,
    alert: StoredAlert,
    event: str,
    origin: Origin,
    now: datetime,
    from_state: AlertState | None,
    to_state: AlertState,
    detail: dict[str, Any],
) -> None:
    """The alert event and its audit row: who (the worker) did what to which alert, and why."""
    await store.add_event(
        conn,
        alert_id=alert.id,
        at=now,
        kind=event,
        actor=origin.actor.username,
        from_state=from_state,
        to_state=to_state,
        severity=alert.severity,
        detail=detail,
    )
    await record_audit(
        conn,
        principal=origin.actor,
        action=f"alert.{event}",
        request_id=None,
        patient_id=alert.patient_id,
        object_type="alert",
        object_id=str(alert.id),
        detail={"rule_id": alert.rule_id, "severity": Severity(alert.severity).name.lower(), **detail},
    )
