"""`reconcile(open_alerts, findings, now, clear_after=...) -> Decision`: what to change in one patient's alerts.

Changes (AlertChange.kind), in the order the service should apply them:
- "open": a finding with no unresolved alert of its rule (carries the finding, with its policy snapshot).
- "worsen": the finding is more severe than the alert; severity rises in place, never falls.
- "retitle": the finding holds at the same severity but says it otherwise now ("NEWS2 at least 9
  (Respiratory rate missing)" became "NEWS2 15 (high)"): title and reason follow (no event, no notification).
- "returned": a cleared clinical alert's condition is back.
- "reopen": a snoozed alert whose snooze has expired, or whose finding is now HIGH (HIGH is never snoozed).
- "resolve_by_rule": the finding is gone and the alert's rule may auto-resolve (devices, no-data).
- "absent": the finding of a clinical alert is gone, for the first time in this episode: the time is kept
  (no event, no notification). Only once it has stayed gone for `clear_after` does the alert clear.
- "present": the finding is back before `clear_after` ran out: the same episode goes on; the alert counts
  that it wavered (no event, no notification, its acknowledgement kept).
- "clear_pending": the finding of a clinical alert has been gone for `clear_after`; it stays open until a
  person closes it with an outcome (never resolved silently). Emitted once: the alert is then `cleared`.
- "mute" / "unmute": an open or new HIGH news2 alert mutes the patient's lower-severity alerts (shown as
  muted, not hidden); they unmute when it is gone or they reach HIGH. `alert_id` is None for an alert
  opened in the same decision (match it by rule_id).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from rules.core.model import AlertChange, AlertSnapshot, Decision, Finding
from vward.domain.alerts import AlertState, Severity

INHIBITOR_RULE = "news2"


def _worst_per_rule(findings: Sequence[Finding]) -> dict[str, Finding]:
    by_rule: dict[str, Finding] = {}
    for finding in findings:
        known = by_rule.get(finding.rule_id)
        if known is None or finding.severity > known.severity:
            by_rule[finding.rule_id] = finding
    return by_rule


def _still_firing(alert: AlertSnapshot, finding: Finding, now: datetime) -> list[AlertChange]:
    changes = []
    if finding.severity > alert.severity:
        reason = f"severity {alert.severity.name.lower()} -> {finding.severity.name.lower()}"
        changes.append(AlertChange("worsen", alert.rule_id, finding, alert.id, finding.severity, reason))
    elif finding.severity == alert.severity and alert.title and finding.title != alert.title:
        # a lower finding keeps the title of the worst: a HIGH alert never reads "at or above 38" (medium)
        changes.append(AlertChange("retitle", alert.rule_id, finding, alert.id, reason="the finding reads otherwise"))
    if alert.cleared:
        changes.append(AlertChange("returned", alert.rule_id, finding, alert.id, reason="condition is back"))
    elif alert.absent_since is not None:
        reason = "condition back before it cleared: the same episode"
        changes.append(AlertChange("present", alert.rule_id, finding, alert.id, reason=reason))
    if alert.state is AlertState.SNOOZED:
        if finding.severity >= Severity.HIGH:
            changes.append(AlertChange("reopen", alert.rule_id, finding, alert.id, reason="worsened to high"))
        elif alert.snoozed_until is not None and alert.snoozed_until <= now:
            changes.append(AlertChange("reopen", alert.rule_id, finding, alert.id, reason="snooze expired"))
    return changes


def _gone(alert: AlertSnapshot, now: datetime, clear_after: timedelta) -> list[AlertChange]:
    if alert.auto_resolve:
        return [AlertChange("resolve_by_rule", alert.rule_id, alert_id=alert.id, reason="condition gone")]
    changes = []
    if not alert.cleared and clear_after and alert.absent_since is None:
        changes.append(AlertChange("absent", alert.rule_id, alert_id=alert.id, reason="condition gone"))
    elif not alert.cleared and (alert.absent_since is None or now - alert.absent_since >= clear_after):
        reason = "condition gone; a person closes it with an outcome"
        changes.append(AlertChange("clear_pending", alert.rule_id, alert_id=alert.id, reason=reason))
    if alert.state is AlertState.SNOOZED and alert.snoozed_until is not None and alert.snoozed_until <= now:
        changes.append(AlertChange("reopen", alert.rule_id, alert_id=alert.id, reason="snooze expired"))
    return changes


def _inhibition(alerts: dict[str, AlertSnapshot], severities: dict[str, Severity]) -> list[AlertChange]:
    """Mute what a HIGH news2 alert outranks; unmute what it no longer does."""
    inhibiting = severities.get(INHIBITOR_RULE, Severity.INFO) >= Severity.HIGH
    changes = []
    for rule_id, severity in sorted(severities.items()):
        if rule_id == INHIBITOR_RULE:
            continue
        should_mute = inhibiting and severity < Severity.HIGH
        alert = alerts.get(rule_id)
        is_muted = alert is not None and alert.muted
        alert_id = None if alert is None else alert.id
        if should_mute and not is_muted:
            reason = "a high news2 alert is open for this patient"
            changes.append(AlertChange("mute", rule_id, alert_id=alert_id, reason=reason, muted_by_rule=INHIBITOR_RULE))
        elif is_muted and not should_mute:
            changes.append(AlertChange("unmute", rule_id, alert_id=alert_id, reason="no higher alert mutes it"))
    return changes


def reconcile(
    open_alerts: Sequence[AlertSnapshot],
    findings: Sequence[Finding],
    now: datetime,
    *,
    clear_after: timedelta = timedelta(0),
) -> Decision:
    """Compare the patient's unresolved alerts with what the rules find now. A clinical alert clears only
    once its condition has been gone for `clear_after` (the rule set's episode re-arm time)."""
    alerts = {a.rule_id: a for a in open_alerts if a.state is not AlertState.RESOLVED}
    by_rule = _worst_per_rule(findings)
    changes: list[AlertChange] = []
    severities: dict[str, Severity] = {}
    for rule_id, finding in sorted(by_rule.items()):
        alert = alerts.get(rule_id)
        if alert is None:
            changes.append(AlertChange("open", rule_id, finding, None, finding.severity, "rule fires"))
            severities[rule_id] = finding.severity
        else:
            changes.extend(_still_firing(alert, finding, now))
            severities[rule_id] = max(alert.severity, finding.severity)
    for rule_id, alert in sorted(alerts.items()):
        if rule_id not in by_rule:
            gone = _gone(alert, now, clear_after)
            changes.extend(gone)
            if not (gone and gone[0].kind == "resolve_by_rule"):
                severities[rule_id] = alert.severity
    changes.extend(_inhibition(alerts, severities))
    return Decision(tuple(changes))
