"""The values that flow through evaluation: context in, findings out, decisions to persist.

`evaluate(context, ruleset, now) -> list[Finding]` and
`reconcile(open_alerts, findings, now) -> Decision` are the two pure steps the live worker, the
preview/backtest and the golden tests all share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from vward.domain.alerts import AlertState, Severity
from vward.domain.patients import Patient
from vward.domain.readings import Observation

# One metric's numeric values as (measured_at, value), oldest first: what thresholds and trends read.
Series = Sequence[tuple[datetime, float]]


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    device_id: str
    kind: str
    online: bool | None
    battery: int | None
    last_seen_at: datetime | None
    clock_estimate: timedelta | None = None  # how far its clock runs ahead (< 0: behind or delayed); None: in sync
    clock_correction: timedelta = timedelta(0)  # what ingest subtracts from its times (ingest.core.clock)


@dataclass(frozen=True, slots=True)
class EvaluationContext:
    """Everything a rule set may look at for one patient: latest values and the declared window."""

    patient: Patient
    latest: dict[str, Observation]
    history: tuple[Observation, ...] = ()  # ordered by measured_at, within the rule set's window
    devices: tuple[DeviceStatus, ...] = ()
    overrides: tuple[dict[str, Any], ...] = ()  # per-patient threshold overrides with reason and expiry
    # Optional numeric history per metric, oldest first, up to and including the latest value: replay passes
    # it instead of `history` so long windows cost no Observation objects. Metrics absent here use `latest`.
    series: Mapping[str, Series] | None = None
    # "I feel unwell" presses whose alert a person has closed: the press raises nothing again.
    handled_concerns: frozenset[datetime] = frozenset()


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule that fires now, and why (values, thresholds): the reason shown to the nurse."""

    rule_id: str
    severity: Severity
    title: str
    reason: dict[str, Any] = field(default_factory=dict)
    auto_resolve: bool = False
    escalation_policy: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertSnapshot:
    """An alert as reconcile needs to see it (persisted form lives in storage)."""

    id: int
    patient_id: int
    rule_id: str
    severity: Severity
    state: AlertState
    opened_at: datetime
    snoozed_until: datetime | None = None
    auto_resolve: bool = False
    escalation_tier: int = 0
    next_escalation_at: datetime | None = None
    cleared: bool = False  # its condition has gone and it waits for a person to close it
    muted: bool = False  # shown under a higher alert of the same patient (inhibition)
    absent_since: datetime | None = None  # its condition has been gone since then, not yet long enough to clear
    title: str = ""  # as shown; a finding that says it otherwise now retitles it ("retitle")


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One thing to persist: open a new alert, raise severity, resolve by rule, mute... (see rules.core.reconcile)."""

    # "open" | "worsen" | "retitle" | "resolve_by_rule" | "absent" | "present" | "clear_pending" | "returned" |
    # "reopen" | "mute" | "unmute"
    # (rules.core.reconcile documents each); alert_id is None for changes to an alert opened in this decision.
    kind: str
    rule_id: str
    finding: Finding | None = None
    alert_id: int | None = None
    severity: Severity | None = None
    reason: str = ""
    muted_by_rule: str | None = None  # for "mute": the rule of the alert that mutes (its id may be new)


@dataclass(frozen=True, slots=True)
class Decision:
    changes: tuple[AlertChange, ...] = ()
