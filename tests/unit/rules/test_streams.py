"""A stream's value for NEWS2: the median of its window, isolated spikes rejected and counted, a severe
value confirmed by the next sample used at once; both sides of every window and count."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from rules.core.evaluate import evaluate, score_news2
from rules.core.ruleset import RuleSet, default_ruleset
from rules.core.streams import StreamWindow, artefacts, summarise
from rules.core.window import PatientWindow
from tests.unit.rules.builders import NORMAL, NOW, patient
from vward.domain.metrics import Metric

FIVE_S = timedelta(seconds=5)
MINUTE = StreamWindow(timedelta(seconds=60), min_samples=3, spike=25)


def never_severe(_: float) -> int:
    return 0


def stream(values: list[float], end: datetime = NOW, step: timedelta = FIVE_S) -> list[tuple[datetime, float]]:
    return [(end - (len(values) - 1 - i) * step, v) for i, v in enumerate(values)]


def value_of(points: list[tuple[datetime, float]]) -> float:
    summary = summarise(points, MINUTE, never_severe)
    assert summary is not None
    return summary.value


def test_an_isolated_spike_is_rejected_and_counted_and_the_median_is_unmoved() -> None:
    summary = summarise(stream([72, 73, 72, 160, 72, 73, 72]), MINUTE, never_severe)
    assert summary is not None
    assert (summary.value, summary.artefacts, summary.samples) == (72, 1, 6)
    assert summary.measured_at == NOW


def test_a_step_both_neighbours_agree_with_is_not_an_artefact() -> None:
    assert artefacts([72, 72, 130, 131, 130], 25) == set()  # a real change: its neighbours follow it
    assert artefacts([72, 130, 72], 25) == {1}
    assert artefacts([72, 97, 72], 25) == set()  # exactly the spike distance: kept (the bound is exclusive)
    assert artefacts([72, 97.5, 72], 25) == {1}


@pytest.mark.parametrize(("samples", "summarised"), [(2, False), (3, True)])
def test_below_min_samples_the_newest_value_is_taken_as_measured(samples: int, summarised: bool) -> None:
    assert (summarise(stream([80.0] * samples), MINUTE, never_severe) is not None) is summarised


def test_only_the_window_back_from_the_newest_sample_counts() -> None:
    old_then_new = stream([150, 150, 150], end=NOW - timedelta(seconds=61)) + stream([70, 71, 72])
    summary = summarise(old_then_new, MINUTE, never_severe)
    assert summary is not None
    assert summary.value == 71
    edge = stream([150], end=NOW - timedelta(seconds=60)) + stream([70, 71, 72])
    assert value_of(edge) == 71.5  # 60 s back: inside


def test_a_sustained_change_moves_the_median_within_half_the_window() -> None:
    """12 samples a minute: 7 new ones (35 s) carry the median across, 6 do not yet."""
    assert value_of(stream([18.0] * 6 + [26.0] * 6)) == 22.0
    assert value_of(stream([18.0] * 5 + [26.0] * 7)) == 26.0
    assert value_of(stream([18.0] * 7 + [26.0] * 5)) == 18.0


def test_a_severe_value_confirmed_by_the_next_sample_counts_at_once() -> None:
    def severe_above_130(v: float) -> int:
        return 3 if v >= 131 else 0

    confirmed = summarise(stream([72.0] * 10 + [140.0, 135.0]), MINUTE, severe_above_130)
    assert confirmed is not None
    assert (confirmed.value, confirmed.confirmed_severe) == (135.0, True)
    once = summarise(stream([72.0] * 11 + [140.0]), MINUTE, severe_above_130)
    assert once is not None
    assert (once.value, once.confirmed_severe) == (72.0, False)  # a single sample waits for the next


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return default_ruleset()


def wearable(ruleset: RuleSet, heart_rates: list[float]) -> PatientWindow:
    """A patient whose patch sends heart rate every 5 s beside normal spot checks."""
    window = PatientWindow(patient(), ruleset)
    for metric, value in NORMAL.items():
        window.add(NOW - timedelta(minutes=5), metric, value)
    for at, value in stream(heart_rates):
        window.add(at, Metric.HEART_RATE, value)
    return window


def test_one_artefact_among_steady_samples_opens_no_news2_alert(ruleset: RuleSet) -> None:
    """The demo's case: a heart rate of 160 among 72s opened a medium NEWS2 alert."""
    context = wearable(ruleset, [72.0] * 6 + [160.0] + [72.0] * 5).context(NOW)
    assert [f.rule_id for f in evaluate(context, ruleset, NOW) if f.rule_id.startswith("news2")] == []
    assert score_news2(context, ruleset, NOW).parameters["heart_rate"].value == 72.0


def test_a_real_tachycardia_confirmed_by_two_samples_scores_at_once(ruleset: RuleSet) -> None:
    context = wearable(ruleset, [72.0] * 10 + [140.0, 141.0]).context(NOW)
    result = score_news2(context, ruleset, NOW)
    assert result.parameters["heart_rate"].score == 3
    news2 = [f for f in evaluate(context, ruleset, NOW) if f.rule_id == "news2"]
    assert news2
    assert news2[0].reason["streams"]["heart_rate"]["confirmed_severe"] is True
