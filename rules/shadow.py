"""Shadow evaluation: a draft rule set runs on live data through the same evaluate and reconcile, and its
would-be alerts are recorded (never notified, never shown as alerts) so its burden can be judged."""

from __future__ import annotations

from datetime import datetime

from rules.core.evaluate import evaluate
from rules.core.model import AlertSnapshot, EvaluationContext
from rules.core.reconcile import reconcile
from rules.core.ruleset import RuleSet
from vward.domain.alerts import AlertState
from vward.storage import shadow as store
from vward.storage.pool import Conn


async def evaluate_shadow(
    conn: Conn, context: EvaluationContext, rule_set_id: int, rules: RuleSet, now: datetime
) -> None:
    patient_id = context.patient.id
    open_alerts = await store.open_shadow_alerts(conn, rule_set_id, patient_id)
    # Would-be alerts close when their condition does: nobody acknowledges a shadow alert.
    snapshots = [
        AlertSnapshot(a.id, patient_id, a.rule_id, a.severity, AlertState.OPEN, a.opened_at, auto_resolve=True)
        for a in open_alerts
    ]
    findings = evaluate(context, rules, now, active=frozenset(a.rule_id for a in open_alerts))
    for change in reconcile(snapshots, findings, now, clear_after=rules.clear_after()).changes:
        if change.kind == "open" and change.finding is not None:
            finding = change.finding
            await store.open_shadow_alert(
                conn,
                rule_set_id=rule_set_id,
                patient_id=patient_id,
                rule_id=finding.rule_id,
                severity=finding.severity,
                title=finding.title,
                reason=finding.reason,
                at=now,
            )
        elif change.kind == "worsen" and change.alert_id is not None and change.severity is not None:
            await store.worsen_shadow_alert(conn, change.alert_id, change.severity, now)
        elif change.kind == "resolve_by_rule" and change.alert_id is not None:
            await store.close_shadow_alert(conn, change.alert_id, now)
