"""The alert lifecycle as an explicit transition table; each action is a pure function of alert, request, now.

Public API: `apply(alert, request, now) -> Transition | Rejection`, `TRANSITIONS` (the table), `Action`,
`Request`, `allowed_actions(state, severity)` (what a person may do next, for the screens).
States: open -> acknowledged -> escalated -> resolved, plus snoozed. Rules beyond the table: resolve needs
a coded outcome, "other" with words (a person closes a clinical alert); snooze needs a reason and an expiry
in the future no further than `max_snooze` ahead, and is refused at HIGH severity; reopen (snooze expiry)
only once the snooze has run out. A rejection carries a stable reason code for the API and the audit log.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rules.core.model import AlertSnapshot
from vward.domain.alerts import AlertState, ResolveOutcome, Severity

MAX_SNOOZE = timedelta(hours=24)  # silences always expire; a day covers "review at tomorrow's round"


class Action(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ESCALATE = "escalate"
    RESOLVE = "resolve"
    SNOOZE = "snooze"
    REOPEN = "reopen"


@dataclass(frozen=True, slots=True)
class Request:
    """Who asks for what; `outcome_code` (and `outcome`, its free text) for resolve, `reason` and `until` for
    snooze."""

    action: Action
    actor: str
    outcome: str | None = None
    outcome_code: ResolveOutcome | None = None
    reason: str | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """The new state and the alert event to record."""

    from_state: AlertState
    to_state: AlertState
    event: str
    actor: str
    at: datetime
    snoozed_until: datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rejection:
    code: str
    message: str


_O, _A, _E, _S, _R = (
    AlertState.OPEN,
    AlertState.ACKNOWLEDGED,
    AlertState.ESCALATED,
    AlertState.SNOOZED,
    AlertState.RESOLVED,
)
# (state, action) -> the state it leads to, or the rejection code. Every pair is listed.
TRANSITIONS: dict[tuple[AlertState, Action], AlertState | str] = {
    (_O, Action.ACKNOWLEDGE): _A,
    (_O, Action.ESCALATE): _E,
    (_O, Action.RESOLVE): _R,
    (_O, Action.SNOOZE): _S,
    (_O, Action.REOPEN): "not_snoozed",
    (_A, Action.ACKNOWLEDGE): "already_acknowledged",
    (_A, Action.ESCALATE): _E,
    (_A, Action.RESOLVE): _R,
    (_A, Action.SNOOZE): _S,
    (_A, Action.REOPEN): "not_snoozed",
    (_E, Action.ACKNOWLEDGE): _A,
    (_E, Action.ESCALATE): _E,
    (_E, Action.RESOLVE): _R,
    (_E, Action.SNOOZE): _S,
    (_E, Action.REOPEN): "not_snoozed",
    (_S, Action.ACKNOWLEDGE): _A,
    (_S, Action.ESCALATE): "snoozed",
    (_S, Action.RESOLVE): _R,
    (_S, Action.SNOOZE): _S,
    (_S, Action.REOPEN): _O,
    (_R, Action.ACKNOWLEDGE): "resolved",
    (_R, Action.ESCALATE): "resolved",
    (_R, Action.RESOLVE): "resolved",
    (_R, Action.SNOOZE): "resolved",
    (_R, Action.REOPEN): "resolved",
}

_MESSAGES = {
    "not_snoozed": "only a snoozed alert reopens",
    "already_acknowledged": "the alert is already acknowledged",
    "snoozed": "a snoozed alert does not escalate; reopen or acknowledge it first",
    "resolved": "the alert is resolved",
    "outcome_required": "resolving needs an outcome code",
    "outcome_text_required": "an 'other' outcome needs a few words saying what it was",
    "reason_required": "snoozing needs a reason",
    "until_required": "snoozing needs an expiry time",
    "until_in_past": "the snooze must end in the future",
    "snooze_too_long": "the snooze may last at most {max}",
    "high_cannot_snooze": "a high-severity alert cannot be snoozed",
    "snooze_not_expired": "the snooze runs until {until}",
}


def _reject(code: str, **values: object) -> Rejection:
    return Rejection(code, _MESSAGES[code].format(**values))


def _precondition(alert: AlertSnapshot, request: Request, now: datetime, max_snooze: timedelta) -> Rejection | None:
    """The checks that depend on the request and time, not on the state alone."""
    if request.action is Action.RESOLVE and request.outcome_code is None:
        return _reject("outcome_required")
    if request.outcome_code is ResolveOutcome.OTHER and not (request.outcome or "").strip():
        return _reject("outcome_text_required")
    if request.action is Action.REOPEN and alert.snoozed_until is not None and alert.snoozed_until > now:
        return _reject("snooze_not_expired", until=alert.snoozed_until.isoformat())
    if request.action is not Action.SNOOZE:
        return None
    if alert.severity >= Severity.HIGH:
        return _reject("high_cannot_snooze")
    if not (request.reason or "").strip():
        return _reject("reason_required")
    if request.until is None:
        return _reject("until_required")
    if request.until <= now:
        return _reject("until_in_past")
    if request.until - now > max_snooze:
        return _reject("snooze_too_long", max=max_snooze)
    return None


# What a person may ask for (a reopen is the timer's, when a snooze runs out).
PERSON_ACTIONS = (Action.ACKNOWLEDGE, Action.ESCALATE, Action.RESOLVE, Action.SNOOZE)


def allowed_actions(state: AlertState, severity: Severity) -> list[Action]:
    """The actions the table allows from `state`, less a snooze at high severity: what the screens offer."""
    return [
        action
        for action in PERSON_ACTIONS
        if isinstance(TRANSITIONS[(state, action)], AlertState)
        and not (action is Action.SNOOZE and severity >= Severity.HIGH)
    ]


def apply(
    alert: AlertSnapshot, request: Request, now: datetime, *, max_snooze: timedelta = MAX_SNOOZE
) -> Transition | Rejection:
    """The transition `request` makes on `alert` at `now`, or why it is refused."""
    target = TRANSITIONS[(alert.state, request.action)]
    if not isinstance(target, AlertState):
        return _reject(target)
    refused = _precondition(alert, request, now, max_snooze)
    if refused is not None:
        return refused
    detail: dict[str, Any] = {}
    if request.outcome_code is not None:
        detail["outcome_code"] = str(request.outcome_code)
    if request.outcome:
        detail["outcome"] = request.outcome
    if request.action is Action.SNOOZE:
        detail |= {"reason": request.reason, "until": request.until.isoformat() if request.until else None}
    snoozed_until = request.until if target is AlertState.SNOOZED else None
    event = {Action.REOPEN: "reopened"}.get(request.action, str(target))
    return Transition(alert.state, target, event, request.actor, now, snoozed_until, detail)
