"""A deterioration is never hidden by the smoothing, the episodes or the hold on gaps (issue 12, item 8),
shown on the live loop (PatientWindow -> evaluate -> reconcile -> AlertBook) every 5 s, as the demo's
wearables send, on both sides of every window:
- a sustained change alerts within the stream window plus one evaluation, and not on the step's first sample;
- a severe value confirmed by a second sample alerts at once, and one sample alone does not;
- a condition back at a higher severity within its episode is a worsening (notified), never a quiet waver;
- the top tier is never muted, and an incomplete set already at the top band alerts without waiting."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from rules.core.alertbook import AlertBook
from rules.core.evaluate import evaluate
from rules.core.model import AlertSnapshot, Finding
from rules.core.reconcile import reconcile
from rules.core.ruleset import RuleSet, default_ruleset
from rules.core.window import PatientWindow
from tests.unit.rules.builders import NORMAL, NOW, context, patient
from vward.domain.alerts import AlertState, Severity
from vward.domain.metrics import Metric

FIVE_S = timedelta(seconds=5)
START = NOW - timedelta(minutes=30)
STEP_AT = NOW - timedelta(minutes=10)
CHANGE = {Metric.RESPIRATORY_RATE: (16, 23), Metric.HEART_RATE: (72, 115), Metric.SPO2: (97, 94)}


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return default_ruleset()


def first_news2_alert(
    ruleset: RuleSet, stream: dict[Metric, tuple[float, float]], step_samples: int = 10_000
) -> datetime | None:
    """Run the live loop every 5 s over a patch streaming each metric at its `before` value until STEP_AT and
    its `after` value from then (for `step_samples` samples, then `before` again); when NEWS2 first alerts."""
    window, book = PatientWindow(patient(), ruleset), AlertBook(7)
    for metric, value in NORMAL.items():
        window.add(START - timedelta(minutes=1), metric, value)
    now = START
    while now <= NOW:
        stepped = STEP_AT <= now < STEP_AT + step_samples * FIVE_S
        for metric, (before, after) in stream.items():
            window.add(now, metric, after if stepped else before)
        findings = evaluate(window.context(now), ruleset, now, active=book.active())
        book.apply(reconcile(book.alerts(), findings, now, clear_after=ruleset.clear_after()), now)
        if any(o.rule_id == "news2" for o in book.openings):
            return now
        now += FIVE_S
    return None


def test_a_sustained_change_alerts_within_the_window_plus_one_evaluation_not_on_its_first_sample(
    ruleset: RuleSet,
) -> None:
    """At STEP_AT respiratory rate 16 -> 23, heart rate 72 -> 115, SpO2 97 -> 94: NEWS2 0 -> 5 (2 + 2 + 1,
    medium, no single severe value to count at once), sustained: only the medians can carry it."""
    window = timedelta(seconds=ruleset.news2.streams[Metric.RESPIRATORY_RATE].window_seconds)
    at = first_news2_alert(ruleset, CHANGE)
    assert at is not None
    assert STEP_AT < at <= STEP_AT + window + FIVE_S
    assert at - STEP_AT <= window / 2 + FIVE_S  # the median crosses once the new values are the majority


def test_a_change_shorter_than_half_the_window_does_not_alert(ruleset: RuleSet) -> None:
    """Six samples (30 s) of the change among twelve are not a majority: the median stays; seven (35 s) are."""
    assert first_news2_alert(ruleset, CHANGE, step_samples=6) is None
    assert first_news2_alert(ruleset, CHANGE, step_samples=7) is not None


def test_a_severe_value_alerts_on_its_second_sample_and_one_sample_alone_does_not(ruleset: RuleSet) -> None:
    """Heart rate 72 -> 140 (a 3, a red score): two samples in a row alert at once; one is an artefact."""
    assert first_news2_alert(ruleset, {Metric.HEART_RATE: (72, 140)}) == STEP_AT + FIVE_S
    assert first_news2_alert(ruleset, {Metric.HEART_RATE: (72, 140)}, step_samples=1) is None


def test_a_condition_back_at_a_higher_severity_within_its_episode_worsens_its_alert() -> None:
    """The episode's quiet 'present' is only for the same severity: a return at HIGH is news and notified."""
    waiting = AlertSnapshot(1, 7, "news2", Severity.MEDIUM, AlertState.ACKNOWLEDGED, NOW, absent_since=NOW)
    back_high = Finding("news2", Severity.HIGH, "NEWS2 8 (high)", {}, False, {"name": "urgent"})
    changes = reconcile([waiting], [back_high], NOW + timedelta(minutes=3), clear_after=timedelta(minutes=15))
    assert "worsen" in [c.kind for c in changes.changes]
    assert [c.severity for c in changes.changes if c.kind == "worsen"] == [Severity.HIGH]


def test_the_top_tier_is_never_muted_and_an_incomplete_set_at_the_top_band_does_not_wait(ruleset: RuleSet) -> None:
    high_threshold = AlertSnapshot(2, 7, "threshold:spo2:low", Severity.HIGH, AlertState.OPEN, NOW)
    high_news2 = AlertSnapshot(3, 7, "news2", Severity.HIGH, AlertState.OPEN, NOW)
    findings = [
        Finding("news2", Severity.HIGH, "NEWS2 9 (high)", {}, False, {}),
        Finding("threshold:spo2:low", Severity.HIGH, "SpO2 85", {}, False, {}),
    ]
    assert [c.kind for c in reconcile([high_news2, high_threshold], findings, NOW).changes if c.kind == "mute"] == []
    values = dict(NORMAL) | {"respiratory_rate": 26, "spo2": 90, "heart_rate": 135}  # 9 without temperature
    del values["temperature"]
    ctx = context(values, ages=dict.fromkeys(values, 0.1), admitted_at=NOW - timedelta(seconds=30))
    news2 = [f for f in evaluate(ctx, ruleset, NOW) if f.rule_id == "news2"]
    assert [(f.severity, f.title) for f in news2] == [(Severity.HIGH, "NEWS2 at least 9 (Body temperature missing)")]
