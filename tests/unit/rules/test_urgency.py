"""Quiet ranges: every value that scores on the NEWS2 chart or crosses a threshold is urgent, and the
unremarkable middle of each range is not (so a ward of normal readings does not all jump the queue)."""

from __future__ import annotations

import pytest
import yaml

from rules.core.news2 import NUMERIC_PARAMETERS, score_parameter
from rules.core.ruleset import DEFAULT_RULESET_PATH, RuleSet, default_ruleset
from rules.core.urgency import QuietRange, quiet_ranges
from vward.domain.metrics import ACVPU_LEVELS, Metric

DEFAULT = quiet_ranges(default_ruleset())
CHART_ONLY = quiet_ranges(
    RuleSet.model_validate(yaml.safe_load(DEFAULT_RULESET_PATH.read_text()) | {"thresholds": [], "pathways": {}})
)
GRID: dict[Metric, tuple[float, float]] = {  # wide enough to cover every band of the chart
    Metric.RESPIRATORY_RATE: (0, 60),
    Metric.SPO2: (50, 100),
    Metric.SYSTOLIC_BP: (40, 300),
    Metric.HEART_RATE: (20, 250),
    Metric.TEMPERATURE: (30, 43),
}
MIDDLE: dict[Metric, float] = {
    Metric.RESPIRATORY_RATE: 16,
    Metric.SPO2: 98,
    Metric.SYSTOLIC_BP: 125,
    Metric.HEART_RATE: 70,
    Metric.TEMPERATURE: 37.0,
}


def grid(metric: Metric) -> list[float]:
    low, high = GRID[metric]
    return [round(low + i / 100, 2) for i in range(round((high - low) * 100) + 1)]


@pytest.mark.parametrize("metric", NUMERIC_PARAMETERS)
def test_without_thresholds_a_value_is_urgent_exactly_when_the_chart_scores_it(metric: Metric) -> None:
    for value in grid(metric):
        assert CHART_ONLY[metric].is_unusual(value) == (score_parameter(metric, value) > 0), (metric, value)


@pytest.mark.parametrize("metric", NUMERIC_PARAMETERS)
def test_with_the_default_thresholds_every_value_the_chart_scores_is_still_urgent(metric: Metric) -> None:
    for value in grid(metric):
        if score_parameter(metric, value) > 0:
            assert DEFAULT[metric].is_unusual(value), (metric, value)


@pytest.mark.parametrize("metric", NUMERIC_PARAMETERS)
def test_the_middle_of_the_score_zero_band_is_quiet(metric: Metric) -> None:
    assert not DEFAULT[metric].is_unusual(MIDDLE[metric])


def test_whole_number_edges() -> None:
    rr = CHART_ONLY[Metric.RESPIRATORY_RATE]
    assert (rr.is_unusual(11), rr.is_unusual(12), rr.is_unusual(20), rr.is_unusual(21)) == (True, False, False, True)
    spo2 = CHART_ONLY[Metric.SPO2]
    assert (spo2.is_unusual(95), spo2.is_unusual(96), spo2.is_unusual(100)) == (True, False, False)


def test_the_edges_follow_the_charts_rounding() -> None:
    temperature = CHART_ONLY[Metric.TEMPERATURE]
    assert temperature.is_unusual(36.04)  # charted as 36.0: scores 1
    assert not temperature.is_unusual(36.05)  # charted as 36.1: scores 0
    assert not temperature.is_unusual(38.04)
    assert temperature.is_unusual(38.05)  # charted as 38.1: scores 1
    rr = CHART_ONLY[Metric.RESPIRATORY_RATE]
    assert (rr.is_unusual(11.49), rr.is_unusual(11.5), rr.is_unusual(20.49), rr.is_unusual(20.5)) == (
        True,
        False,
        False,
        True,
    )


def test_acvpu_oxygen_and_the_concern_button() -> None:
    consciousness = DEFAULT[Metric.CONSCIOUSNESS]
    assert [level for level in ACVPU_LEVELS if consciousness.is_unusual(level)] == ["C", "V", "P", "U"]
    assert DEFAULT[Metric.ON_OXYGEN].is_unusual(True)
    assert not DEFAULT[Metric.ON_OXYGEN].is_unusual(False)
    assert DEFAULT[Metric.PATIENT_CONCERN].is_unusual(True)
    assert not DEFAULT[Metric.PATIENT_CONCERN].is_unusual(False)


def test_a_threshold_of_any_pathway_narrows_the_range_to_its_innermost_bounds() -> None:
    document = yaml.safe_load(DEFAULT_RULESET_PATH.read_text())
    document["pathways"]["heart_failure"]["thresholds"] = [
        {
            "metric": "heart_rate",
            "high": [{"at_or_above": 85, "severity": "medium"}, {"at_or_above": 120, "severity": "high"}],
        },
        {"metric": "weight", "low": [{"at_or_below": 40, "severity": "low"}]},
    ]
    ranges = quiet_ranges(RuleSet.model_validate(document))
    assert ranges[Metric.TEMPERATURE] == DEFAULT[Metric.TEMPERATURE]  # post-op's 38.0 still applies
    assert DEFAULT[Metric.TEMPERATURE].is_unusual(38.0)
    heart = ranges[Metric.HEART_RATE]
    assert (heart.is_unusual(84.9), heart.is_unusual(85), heart.is_unusual(50)) == (False, True, True)
    assert ranges[Metric.WEIGHT] == QuietRange(Metric.WEIGHT, above=40, up_to=None)


def test_every_threshold_in_the_default_rule_set_fires_only_on_urgent_values() -> None:
    ruleset = default_ruleset()
    for threshold in ruleset.thresholds + [t for p in ruleset.pathways.values() for t in p.thresholds]:
        quiet = DEFAULT[threshold.metric]
        for low in threshold.low:
            assert quiet.is_unusual(low.at_or_below), threshold
        for high in threshold.high:
            assert quiet.is_unusual(high.at_or_above), threshold
