"""reconcile(): every combination of alert and finding for one rule, snoozes, and inhibition."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from rules.core.model import AlertChange, AlertSnapshot, Finding
from rules.core.reconcile import reconcile
from tests.unit.rules.builders import NOW
from vward.domain.alerts import AlertState, Severity

L, M, H = Severity.LOW, Severity.MEDIUM, Severity.HIGH


def alert(
    rule_id: str = "threshold:spo2:low",
    severity: Severity = M,
    state: AlertState = AlertState.OPEN,
    *,
    alert_id: int = 1,
    **changes: object,
) -> AlertSnapshot:
    return AlertSnapshot(alert_id, 7, rule_id, severity, state, NOW - timedelta(hours=1), **changes)  # type: ignore[arg-type]


def finding(rule_id: str = "threshold:spo2:low", severity: Severity = M, auto_resolve: bool = False) -> Finding:
    return Finding(rule_id, severity, "title", {"value": 1}, auto_resolve, {"name": "standard"})


def kinds(changes: tuple[AlertChange, ...]) -> list[tuple[str, str, int | None]]:
    return [(c.kind, c.rule_id, c.alert_id) for c in changes]


# (alert severity or None, finding severity or None) -> change kinds for a clinical, not yet cleared alert
CASES = {
    (None, None): [],
    (None, M): ["open"],
    (M, None): ["clear_pending"],
    (M, L): [],
    (M, M): [],
    (M, H): ["worsen"],
}


@pytest.mark.parametrize(
    ("alert_severity", "finding_severity", "auto_resolve", "cleared"),
    [(a, f, r, c) for (a, f), r, c in itertools.product(CASES, [False, True], [False, True]) if a or not c],
)
def test_one_rule_every_combination(
    alert_severity: Severity | None, finding_severity: Severity | None, auto_resolve: bool, cleared: bool
) -> None:
    alerts = (
        [] if alert_severity is None else [alert(severity=alert_severity, auto_resolve=auto_resolve, cleared=cleared)]
    )
    findings = [] if finding_severity is None else [finding(severity=finding_severity, auto_resolve=auto_resolve)]
    expected = list(CASES[(alert_severity, finding_severity)])
    if expected == ["clear_pending"] and auto_resolve:
        expected = ["resolve_by_rule"]
    elif expected == ["clear_pending"] and cleared:
        expected = []  # already waiting for a person: said once
    elif alert_severity is not None and finding_severity is not None and cleared:
        expected.append("returned")
    assert [c.kind for c in reconcile(alerts, findings, NOW).changes] == expected


def test_open_carries_the_finding_and_severity() -> None:
    [change] = reconcile([], [finding(severity=H)], NOW).changes
    assert (change.kind, change.severity, change.alert_id) == ("open", H, None)
    assert change.finding == finding(severity=H)


def test_worsen_raises_in_place() -> None:
    [change] = reconcile([alert(severity=L, alert_id=9)], [finding(severity=M)], NOW).changes
    assert (change.kind, change.alert_id, change.severity, change.reason) == ("worsen", 9, M, "severity low -> medium")


def test_resolved_alerts_are_history_so_the_rule_opens_again() -> None:
    assert kinds(reconcile([alert(state=AlertState.RESOLVED)], [finding()], NOW).changes) == [
        ("open", "threshold:spo2:low", None)
    ]


def test_duplicate_findings_keep_the_worst() -> None:
    [change] = reconcile([], [finding(severity=L), finding(severity=M)], NOW).changes
    assert change.severity is M


@pytest.mark.parametrize(
    ("until", "finding_severity", "expected"),
    [
        (NOW + timedelta(minutes=5), M, []),
        (NOW, M, [("reopen", "snooze expired")]),
        (NOW + timedelta(minutes=5), H, [("worsen", "severity medium -> high"), ("reopen", "worsened to high")]),
        (NOW + timedelta(minutes=5), None, [("clear_pending", "condition gone; a person closes it with an outcome")]),
        (
            NOW - timedelta(minutes=1),
            None,
            [("clear_pending", "condition gone; a person closes it with an outcome"), ("reopen", "snooze expired")],
        ),
    ],
)
def test_snoozed_alert(until: object, finding_severity: Severity | None, expected: list[tuple[str, str]]) -> None:
    snoozed = alert(state=AlertState.SNOOZED, snoozed_until=until)
    findings = [] if finding_severity is None else [finding(severity=finding_severity)]
    assert [(c.kind, c.reason) for c in reconcile([snoozed], findings, NOW).changes] == expected


def test_high_news2_mutes_lower_alerts_of_the_patient() -> None:
    alerts = [alert("threshold:spo2:low", M, alert_id=1), alert("device_offline:ox", L, alert_id=2, auto_resolve=True)]
    findings = [
        finding("news2", H),
        finding("threshold:spo2:low", M),
        finding("device_offline:ox", L, True),
        finding("patient_concern", M),
    ]
    changes = reconcile(alerts, findings, NOW).changes
    assert kinds(changes) == [
        ("open", "news2", None),
        ("open", "patient_concern", None),
        ("mute", "device_offline:ox", 2),
        ("mute", "patient_concern", None),
        ("mute", "threshold:spo2:low", 1),
    ]
    assert all(c.muted_by_rule == "news2" for c in changes if c.kind == "mute")


def test_high_alerts_are_not_muted_and_muted_ones_are_not_muted_twice() -> None:
    alerts = [
        alert("news2", H, alert_id=1),
        alert("threshold:spo2:low", H, alert_id=2),
        alert("threshold:heart_rate:high", M, alert_id=3, muted=True),
    ]
    findings = [finding("news2", H), finding("threshold:spo2:low", H), finding("threshold:heart_rate:high", M)]
    assert reconcile(alerts, findings, NOW).changes == ()


def test_open_high_news2_keeps_muting_after_its_finding_drops() -> None:
    alerts = [alert("news2", H, alert_id=1), alert("patient_concern", M, alert_id=2, muted=True, cleared=False)]
    changes = reconcile(alerts, [finding("news2", M), finding("patient_concern", M)], NOW).changes
    assert changes == ()


def test_unmute_when_the_inhibitor_is_resolved_or_muted_alert_reaches_high() -> None:
    muted = [
        alert("patient_concern", M, alert_id=2, muted=True),
        alert("threshold:spo2:low", M, alert_id=3, muted=True),
    ]
    changes = reconcile(muted, [finding("patient_concern", M), finding("threshold:spo2:low", M)], NOW).changes
    assert kinds(changes) == [("unmute", "patient_concern", 2), ("unmute", "threshold:spo2:low", 3)]
    with_news2 = [alert("news2", H, alert_id=1), *muted]
    findings = [finding("news2", H), finding("patient_concern", M), finding("threshold:spo2:low", H)]
    assert kinds(reconcile(with_news2, findings, NOW).changes) == [
        ("worsen", "threshold:spo2:low", 3),
        ("unmute", "threshold:spo2:low", 3),
    ]


def test_auto_resolved_alert_is_not_muted() -> None:
    alerts = [alert("news2", H, alert_id=1), alert("overdue:weight", L, alert_id=2, auto_resolve=True)]
    assert kinds(reconcile(alerts, [finding("news2", H)], NOW).changes) == [("resolve_by_rule", "overdue:weight", 2)]


CLEAR_AFTER = timedelta(minutes=15)


def test_a_condition_gone_is_kept_then_cleared_only_once_it_has_stayed_gone_for_the_window() -> None:
    """The episode: first gone (kept quietly), still gone at 14:59 (nothing), gone for 15:00 (cleared)."""
    fresh = alert("news2")
    assert kinds(reconcile([fresh], [], NOW, clear_after=CLEAR_AFTER).changes) == [("absent", "news2", 1)]
    gone = alert("news2", absent_since=NOW)
    just_before = NOW + CLEAR_AFTER - timedelta(seconds=1)
    assert reconcile([gone], [], just_before, clear_after=CLEAR_AFTER).changes == ()
    on_time = reconcile([gone], [], NOW + CLEAR_AFTER, clear_after=CLEAR_AFTER).changes
    assert kinds(on_time) == [("clear_pending", "news2", 1)]


def test_a_condition_back_within_the_window_is_the_same_episode() -> None:
    gone = alert("news2", absent_since=NOW)
    back = reconcile([gone], [finding("news2")], NOW + timedelta(minutes=3), clear_after=CLEAR_AFTER).changes
    assert kinds(back) == [("present", "news2", 1)]  # no open, no returned: nothing to notify
    cleared = alert("news2", cleared=True)
    assert kinds(reconcile([cleared], [finding("news2")], NOW, clear_after=CLEAR_AFTER).changes) == [
        ("returned", "news2", 1)
    ]


def test_without_a_window_a_condition_gone_clears_at_once_and_auto_resolving_rules_never_wait() -> None:
    assert kinds(reconcile([alert("news2")], [], NOW).changes) == [("clear_pending", "news2", 1)]
    device = alert("device_offline:d1", auto_resolve=True)
    assert kinds(reconcile([device], [], NOW, clear_after=CLEAR_AFTER).changes) == [
        ("resolve_by_rule", "device_offline:d1", 1)
    ]


def test_a_finding_that_reads_otherwise_at_the_same_severity_retitles_its_alert() -> None:
    """An alert opened as "NEWS2 at least 9 (Respiratory rate missing)" said so while the set was complete."""
    shown = alert("news2", severity=H, title="NEWS2 at least 9 (Respiratory rate missing)")
    now_complete = Finding("news2", H, "NEWS2 15 (high)", {"score": 15}, False, {"name": "urgent"})
    (change,) = reconcile([shown], [now_complete], NOW).changes
    assert (change.kind, change.finding) == ("retitle", now_complete)
    same = alert("news2", severity=H, title="NEWS2 15 (high)")
    assert reconcile([same], [now_complete], NOW).changes == ()


def test_an_alert_still_firing_below_its_severity_keeps_the_title_of_its_worst() -> None:
    """The demo's temperature alert read "(at or above 39.1)" and "(at or above 38)" by turns while high."""
    high = alert("threshold:temperature:high", severity=H, title="Temperature 39.4 °C (at or above 39.1)")
    lower = Finding("threshold:temperature:high", M, "Temperature 38.6 °C (at or above 38)", {}, False, {})
    assert reconcile([high], [lower], NOW).changes == ()
    same = Finding("threshold:temperature:high", H, "Temperature 39.6 °C (at or above 39.1)", {}, False, {})
    assert kinds(reconcile([high], [same], NOW).changes) == [("retitle", "threshold:temperature:high", 1)]
