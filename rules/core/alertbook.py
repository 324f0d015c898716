"""One patient's unresolved alerts kept in memory, changed exactly as the service changes them in PostgreSQL.

Golden tests and replay step time with `findings = evaluate(..., active=book.active())` then
`book.apply(reconcile(book.alerts(), findings, now), now)`. `close_cleared=True` (replay) assumes staff
close a clinical alert as soon as its condition has gone, so the rule can open again later.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from rules.core.model import AlertSnapshot, Decision
from vward.domain.alerts import AlertState, Severity


@dataclass(frozen=True, slots=True)
class Opening:
    """An alert that opened: what a backtest counts."""

    patient_id: int
    rule_id: str
    severity: Severity
    at: datetime


class AlertBook:
    def __init__(self, patient_id: int, *, close_cleared: bool = False) -> None:
        self.patient_id = patient_id
        self.close_cleared = close_cleared
        self.open: dict[str, AlertSnapshot] = {}
        self.openings: list[Opening] = []

    def alerts(self) -> list[AlertSnapshot]:
        return list(self.open.values())

    def active(self) -> frozenset[str]:
        """Rule ids whose condition still holds: what evaluate() needs for hysteresis."""
        return frozenset(rule_id for rule_id, alert in self.open.items() if not alert.cleared)

    def apply(self, decision: Decision, now: datetime) -> None:
        for change in decision.changes:
            alert = self.open.get(change.rule_id)
            if change.kind == "open" and change.finding is not None:
                finding = change.finding
                self.open[change.rule_id] = AlertSnapshot(
                    len(self.openings) + 1,
                    self.patient_id,
                    finding.rule_id,
                    finding.severity,
                    AlertState.OPEN,
                    now,
                    auto_resolve=finding.auto_resolve,
                )
                self.openings.append(Opening(self.patient_id, finding.rule_id, finding.severity, now))
            elif alert is None:
                continue
            elif change.kind == "resolve_by_rule" or (change.kind == "clear_pending" and self.close_cleared):
                del self.open[change.rule_id]
            else:
                self.open[change.rule_id] = _changed(alert, change.kind, change.severity, now)


def _changed(alert: AlertSnapshot, kind: str, severity: Severity | None, now: datetime) -> AlertSnapshot:
    match kind:
        case "worsen" if severity is not None:
            return replace(alert, severity=severity)
        case "clear_pending" | "returned":
            return replace(alert, cleared=kind == "clear_pending", absent_since=None)
        case "absent":
            return replace(alert, absent_since=now)
        case "present":
            return replace(alert, absent_since=None)
        case "reopen":
            return replace(alert, state=AlertState.OPEN, snoozed_until=None)
        case "mute" | "unmute":
            return replace(alert, muted=kind == "mute")
    return alert
