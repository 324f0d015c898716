"""One patient's unresolved alerts kept in memory, changed exactly as the service changes them in PostgreSQL.

Golden tests and replay step time with `findings = evaluate(..., active=book.active())` then
`book.apply(reconcile(book.alerts(), findings, now), now)`. Every alert is also kept as an `Episode` (when it
opened and closed, the events the rules wrote on it), which the preview's burden is counted from.

With `staff` (replay, the preview and the clinical evaluation) a clinical alert stays open until a person
would close it: once its condition has cleared, and not before `staff.resolve_after` its opening severity
after it opened (the preview observes those times from the alerts table). A nurse does not close an alert
whose condition persists; it stays open, acknowledged, and counts in the hours alerts are open. Without
`staff` (golden tests) only the rules close alerts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from rules.core.model import AlertSnapshot, Decision, Finding
from vward.domain.alerts import AlertState, Severity

# The kinds of change the service records as an alert event (rules.decisions); the rest are bookkeeping.
EVENT_KINDS = frozenset({"worsen", "returned", "clear_pending", "reopen", "resolve_by_rule", "mute", "unmute"})


@dataclass(frozen=True, slots=True)
class Opening:
    """An alert that opened: what a backtest counts."""

    patient_id: int
    rule_id: str
    severity: Severity
    at: datetime


@dataclass(frozen=True, slots=True)
class StaffResponse:
    """How long, per severity, staff take to acknowledge an alert and to close one the rules do not close."""

    acknowledge_after: Mapping[Severity, timedelta]
    resolve_after: Mapping[Severity, timedelta]
    source: str = "assumed"


# The RCP's response times for NEWS2 bands (high: emergency assessment; medium: urgent review within the
# hour; low: assessment by a registered nurse), used where the ward has not closed enough alerts to observe.
ASSUMED_RESPONSE = StaffResponse(
    acknowledge_after={
        Severity.HIGH: timedelta(minutes=10),
        Severity.MEDIUM: timedelta(minutes=30),
        Severity.LOW: timedelta(hours=1),
        Severity.INFO: timedelta(hours=1),
    },
    resolve_after={
        Severity.HIGH: timedelta(minutes=30),
        Severity.MEDIUM: timedelta(hours=1),
        Severity.LOW: timedelta(hours=4),
        Severity.INFO: timedelta(hours=4),
    },
)


OBSERVED_AT_LEAST = 5  # closed alerts of a severity before their times replace the assumed ones


def observed_response(samples: Mapping[Severity, tuple[int, timedelta | None, timedelta | None]]) -> StaffResponse:
    """Staff response from the ward's own alerts: per severity (alerts closed by a person, median time to
    acknowledge, median time to close); a severity with fewer than OBSERVED_AT_LEAST keeps the assumed times."""
    acknowledge, resolve = dict(ASSUMED_RESPONSE.acknowledge_after), dict(ASSUMED_RESPONSE.resolve_after)
    observed = []
    for severity, (count, to_acknowledge, to_close) in samples.items():
        if count < OBSERVED_AT_LEAST or to_close is None:
            continue
        resolve[severity] = to_close
        acknowledge[severity] = min(to_acknowledge or to_close, to_close)
        observed.append(f"{severity.name.lower()} ({count})")
    source = f"observed: {', '.join(observed)}; assumed otherwise" if observed else "assumed"
    return StaffResponse(acknowledge, resolve, source)


@dataclass(slots=True)
class Episode:
    """One alert from opening to closing (None: still open at the end); `severity` is the highest it reached,
    `opened_as` what it opened with (staff's response time follows it: a deadline fixed at opening)."""

    patient_id: int
    rule_id: str
    severity: Severity
    opened_as: Severity
    opened_at: datetime
    policy: Mapping[str, Any]
    auto_resolve: bool
    closed_at: datetime | None = None
    closed_by_staff: bool = False
    cleared_at: datetime | None = None  # its condition gone for the episode's clear_after, waiting for a person
    events: int = 0  # written by the rules: worsened, cleared, returned, resolved ...
    worsened: int = 0  # each notifies the tier told last


class AlertBook:
    def __init__(self, patient_id: int, *, staff: StaffResponse | None = None) -> None:
        self.patient_id = patient_id
        self.staff = staff
        self.open: dict[str, AlertSnapshot] = {}
        self.episodes: list[Episode] = []
        self._episode: dict[str, Episode] = {}

    @property
    def openings(self) -> list[Opening]:
        """Every alert as it opened, oldest first: what a backtest counts."""
        return [Opening(e.patient_id, e.rule_id, e.opened_as, e.opened_at) for e in self.episodes]

    def alerts(self) -> list[AlertSnapshot]:
        return list(self.open.values())

    def active(self) -> frozenset[str]:
        """Rule ids whose condition still holds: what evaluate() needs for hysteresis."""
        return frozenset(rule_id for rule_id, alert in self.open.items() if not alert.cleared)

    def apply(self, decision: Decision, now: datetime) -> None:
        for change in decision.changes:
            alert = self.open.get(change.rule_id)
            if change.kind == "open" and change.finding is not None:
                self._open(change.finding.rule_id, change.finding, now)
                continue
            if alert is None:
                continue
            episode = self._episode[change.rule_id]
            episode.events += change.kind in EVENT_KINDS
            if change.kind == "resolve_by_rule":
                self._close(change.rule_id, now)
                continue
            updated = _changed(alert, change.kind, change.severity, now)
            if updated.severity > episode.severity:
                episode.severity, episode.worsened = updated.severity, episode.worsened + 1
            if change.kind in ("clear_pending", "returned"):
                episode.cleared_at = now if change.kind == "clear_pending" else None
            self.open[change.rule_id] = updated
        self.close_due(now)

    def close_due(self, now: datetime) -> None:
        """Close every alert a person would have closed by `now` (with `staff`; the rules close the others)."""
        for rule_id in [r for r, due in self._closings() if due <= now]:
            self._close(rule_id, now, by_staff=True)

    def closing_times(self) -> list[datetime]:
        """When staff will close the open alerts: deadlines for a replay that evaluates only when due."""
        return [due for _, due in self._closings()]

    def _closings(self) -> list[tuple[str, datetime]]:
        if self.staff is None:
            return []
        after = self.staff.resolve_after
        episodes = [(rule_id, self._episode[rule_id]) for rule_id, alert in self.open.items() if not alert.auto_resolve]
        return [
            (rule_id, max(e.opened_at + after[e.opened_as], e.cleared_at))
            for rule_id, e in episodes
            if e.cleared_at is not None
        ]

    def _open(self, rule_id: str, finding: Finding, now: datetime) -> None:
        self.open[rule_id] = AlertSnapshot(
            len(self.episodes) + 1,
            self.patient_id,
            rule_id,
            finding.severity,
            AlertState.OPEN,
            now,
            auto_resolve=finding.auto_resolve,
        )
        severity = finding.severity
        episode = Episode(
            self.patient_id, rule_id, severity, severity, now, finding.escalation_policy, finding.auto_resolve
        )
        self.episodes.append(episode)
        self._episode[rule_id] = episode

    def _close(self, rule_id: str, now: datetime, *, by_staff: bool = False) -> None:
        del self.open[rule_id]
        episode = self._episode.pop(rule_id)
        episode.closed_at, episode.closed_by_staff = now, by_staff


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
