"""The alert lifecycle: every (state, action) pair, and the rules beyond the table."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from rules.core.lifecycle import (
    PERSON_ACTIONS,
    TRANSITIONS,
    Action,
    Rejection,
    Request,
    Transition,
    allowed_actions,
    apply,
)
from rules.core.model import AlertSnapshot
from tests.unit.rules.builders import NOW
from vward.domain.alerts import AlertState, ResolveOutcome, Severity

S = AlertState
# Written out independently of the module's table: what each action does in each state.
EXPECTED: dict[AlertState, dict[Action, AlertState | str]] = {
    S.OPEN: {
        Action.ACKNOWLEDGE: S.ACKNOWLEDGED,
        Action.ESCALATE: S.ESCALATED,
        Action.RESOLVE: S.RESOLVED,
        Action.SNOOZE: S.SNOOZED,
        Action.REOPEN: "not_snoozed",
    },
    S.ACKNOWLEDGED: {
        Action.ACKNOWLEDGE: "already_acknowledged",
        Action.ESCALATE: S.ESCALATED,
        Action.RESOLVE: S.RESOLVED,
        Action.SNOOZE: S.SNOOZED,
        Action.REOPEN: "not_snoozed",
    },
    S.ESCALATED: {
        Action.ACKNOWLEDGE: S.ACKNOWLEDGED,
        Action.ESCALATE: S.ESCALATED,
        Action.RESOLVE: S.RESOLVED,
        Action.SNOOZE: S.SNOOZED,
        Action.REOPEN: "not_snoozed",
    },
    S.SNOOZED: {
        Action.ACKNOWLEDGE: S.ACKNOWLEDGED,
        Action.ESCALATE: "snoozed",
        Action.RESOLVE: S.RESOLVED,
        Action.SNOOZE: S.SNOOZED,
        Action.REOPEN: S.OPEN,
    },
    S.RESOLVED: dict.fromkeys(Action, "resolved"),
}
EVENTS = {
    Action.ACKNOWLEDGE: "acknowledged",
    Action.ESCALATE: "escalated",
    Action.RESOLVE: "resolved",
    Action.SNOOZE: "snoozed",
    Action.REOPEN: "reopened",
}


def alert(state: AlertState, severity: Severity = Severity.MEDIUM, snoozed_until: object = None) -> AlertSnapshot:
    until = NOW - timedelta(minutes=1) if state is S.SNOOZED and snoozed_until is None else snoozed_until
    return AlertSnapshot(1, 7, "news2", severity, state, NOW - timedelta(hours=1), until)  # type: ignore[arg-type]


def valid(action: Action) -> Request:
    """A request carrying everything its action needs."""
    return Request(
        action,
        "nurse.jo",
        outcome="reviewed by phone",
        outcome_code=ResolveOutcome.REVIEWED_NO_ACTION,
        reason="reviewed, recheck after lunch",
        until=NOW + timedelta(hours=2),
    )


def test_table_covers_every_pair() -> None:
    assert set(TRANSITIONS) == set(itertools.product(AlertState, Action))


@pytest.mark.parametrize(("state", "action"), list(itertools.product(AlertState, Action)))
def test_every_state_and_action(state: AlertState, action: Action) -> None:
    result = apply(alert(state), valid(action), NOW)
    expected = EXPECTED[state][action]
    if not isinstance(expected, AlertState):
        assert isinstance(result, Rejection)
        assert result.code == expected
        assert result.message
    else:
        assert isinstance(result, Transition)
        assert (result.from_state, result.to_state, result.event) == (state, expected, EVENTS[action])
        assert (result.actor, result.at) == ("nurse.jo", NOW)
        assert result.snoozed_until == (NOW + timedelta(hours=2) if expected is S.SNOOZED else None)


def rejection(result: Transition | Rejection) -> str:
    assert isinstance(result, Rejection)
    return result.code


@pytest.mark.parametrize("text", [None, "", "reviewed by phone"])
def test_resolve_needs_a_coded_outcome(text: str | None) -> None:
    assert rejection(apply(alert(S.OPEN), Request(Action.RESOLVE, "dr.a", outcome=text), NOW)) == "outcome_required"


@pytest.mark.parametrize("text", [None, "", "   "])
def test_an_other_outcome_must_say_what(text: str | None) -> None:
    request = Request(Action.RESOLVE, "dr.a", outcome=text, outcome_code=ResolveOutcome.OTHER)
    assert rejection(apply(alert(S.OPEN), request, NOW)) == "outcome_text_required"


@pytest.mark.parametrize("code", [c for c in ResolveOutcome if c is not ResolveOutcome.OTHER])
def test_a_coded_outcome_needs_no_words(code: ResolveOutcome) -> None:
    result = apply(alert(S.OPEN), Request(Action.RESOLVE, "dr.a", outcome_code=code), NOW)
    assert isinstance(result, Transition)
    assert result.detail == {"outcome_code": str(code)}


def test_resolve_records_the_outcome() -> None:
    request = Request(
        Action.RESOLVE, "dr.a", outcome="admitted to hospital", outcome_code=ResolveOutcome.ESCALATED_TO_HOSPITAL
    )
    result = apply(alert(S.ACKNOWLEDGED), request, NOW)
    assert isinstance(result, Transition)
    assert result.detail == {"outcome_code": "escalated_to_hospital", "outcome": "admitted to hospital"}


@pytest.mark.parametrize(("state", "severity"), list(itertools.product(AlertState, Severity)))
def test_the_actions_offered_are_exactly_those_the_table_accepts(state: AlertState, severity: Severity) -> None:
    """What the screens offer and what `apply` accepts can never disagree: one table decides both."""
    offered = allowed_actions(state, severity)
    for action in PERSON_ACTIONS:
        accepted = isinstance(apply(alert(state, severity), valid(action), NOW), Transition)
        assert (action in offered) == accepted, (state, severity, action)


def test_a_resolved_alert_offers_nothing_and_a_high_one_no_snooze() -> None:
    assert allowed_actions(S.RESOLVED, Severity.LOW) == []
    assert Action.SNOOZE not in allowed_actions(S.OPEN, Severity.HIGH)
    assert allowed_actions(S.OPEN, Severity.MEDIUM) == list(PERSON_ACTIONS)


@pytest.mark.parametrize(
    ("severity", "reason", "until", "code"),
    [
        (Severity.HIGH, "busy", NOW + timedelta(hours=1), "high_cannot_snooze"),
        (Severity.MEDIUM, None, NOW + timedelta(hours=1), "reason_required"),
        (Severity.MEDIUM, " ", NOW + timedelta(hours=1), "reason_required"),
        (Severity.MEDIUM, "known", None, "until_required"),
        (Severity.MEDIUM, "known", NOW, "until_in_past"),
        (Severity.MEDIUM, "known", NOW + timedelta(hours=24, seconds=1), "snooze_too_long"),
    ],
)
def test_snooze_rules(severity: Severity, reason: str | None, until: object, code: str) -> None:
    request = Request(Action.SNOOZE, "nurse.jo", reason=reason, until=until)  # type: ignore[arg-type]
    assert rejection(apply(alert(S.OPEN, severity), request, NOW)) == code


def test_snooze_for_a_day_with_reason_is_recorded() -> None:
    until = NOW + timedelta(hours=24)
    result = apply(alert(S.OPEN, Severity.LOW), Request(Action.SNOOZE, "nurse.jo", reason="known", until=until), NOW)
    assert isinstance(result, Transition)
    assert result.detail == {"reason": "known", "until": until.isoformat()}


def test_reopen_waits_for_the_snooze_to_expire() -> None:
    snoozed = alert(S.SNOOZED, snoozed_until=NOW + timedelta(minutes=1))
    assert rejection(apply(snoozed, Request(Action.REOPEN, "rules-worker"), NOW)) == "snooze_not_expired"
    result = apply(snoozed, Request(Action.REOPEN, "rules-worker"), NOW + timedelta(minutes=1))
    assert isinstance(result, Transition)
    assert result.to_state is S.OPEN
