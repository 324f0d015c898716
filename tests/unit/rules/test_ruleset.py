"""Rule sets as data: the shipped default loads, pathways apply, and mistakes read clearly."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import yaml

from rules.core.ruleset import RuleSetError, default_ruleset, parse_ruleset
from vward.domain.alerts import Severity
from vward.domain.metrics import Metric
from vward.domain.patients import Pathway

MINIMAL = """
name: minimal
escalation_policies:
  page: {tiers: [{after_minutes: 0, target: ward_nurse, channel: app}]}
escalation_by_severity: {low: page, medium: page, high: page}
news2:
  freshness_minutes: {respiratory_rate: 60, spo2: 60, on_oxygen: 60, systolic_bp: 60, heart_rate: 60,
                      consciousness: 60, temperature: 60}
  alerts: [{min_score: 5, severity: medium}]
"""


def with_changes(**changes: object) -> str:
    data = yaml.safe_load(MINIMAL)
    data.update(changes)
    return yaml.safe_dump(data)


def test_default_ruleset_loads_with_sensible_values() -> None:
    ruleset = default_ruleset()
    assert ruleset.name == "default"
    assert ruleset.news2.freshness()["consciousness"] == timedelta(hours=24)
    assert [a.severity for a in ruleset.news2.alerts] == [Severity.HIGH, Severity.MEDIUM, Severity.MEDIUM]
    assert ruleset.history_window() == timedelta(days=8)


def test_copd_pathway_lowers_spo2_threshold_below_target_range() -> None:
    ruleset = default_ruleset()
    general = ruleset.for_pathway(Pathway.GENERAL).thresholds[Metric.SPO2]
    copd = ruleset.for_pathway(Pathway.COPD).thresholds[Metric.SPO2]
    assert general.low[0].at_or_below == 91
    assert copd.low[0].at_or_below == 87
    assert ruleset.for_pathway(Pathway.COPD).thresholds[Metric.HEART_RATE].high[0].at_or_above == 131


def test_heart_failure_pathway_enables_weight_rules() -> None:
    ruleset = default_ruleset()
    general = ruleset.for_pathway(Pathway.GENERAL)
    heart = ruleset.for_pathway(Pathway.HEART_FAILURE)
    assert [t.name for t in general.trends] == []
    assert [t.name for t in heart.trends] == ["weight_gain", "heart_rate_above_baseline"]
    assert "weight" in [o.name for o in heart.overdue]
    assert "weight" not in [o.name for o in general.overdue]


def test_pathway_can_disable_a_rule() -> None:
    text = with_changes(
        overdue=[{"name": "bp", "metrics": ["systolic_bp"], "every_hours": 12}],
        pathways={"post_op": {"disable": ["bp"]}},
    )
    ruleset = parse_ruleset(text)
    assert ruleset.for_pathway(Pathway.POST_OP).overdue == []
    assert [o.name for o in ruleset.for_pathway(Pathway.GENERAL).overdue] == ["bp"]


def test_policy_snapshot_follows_severity_unless_named() -> None:
    ruleset = default_ruleset()
    assert ruleset.policy_snapshot(Severity.HIGH)["name"] == "urgent"
    assert ruleset.policy_snapshot(Severity.HIGH)["tiers"][2]["target"] == "emergency_team"
    assert ruleset.policy_snapshot(Severity.LOW, "devices")["tiers"][0]["target"] == "device_support"
    assert ruleset.policy_snapshot(Severity.INFO)["name"] == "routine"


def test_json_rule_set_is_accepted() -> None:
    assert parse_ruleset(json.dumps(yaml.safe_load(MINIMAL))).name == "minimal"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
        ({"escalation_by_severity": {"low": "page", "medium": "page"}}, "no policy for high"),
        ({"escalation_by_severity": {"low": "page", "medium": "page", "high": "pager"}}, "'pager' is not defined"),
        (
            {"news2": {"freshness_minutes": {"spo2": 60}, "alerts": [{"min_score": 5, "severity": "medium"}]}},
            "freshness_minutes needs a window for respiratory_rate, on_oxygen",
        ),
        (
            {"news2": {"freshness_minutes": {}, "alerts": [{"min_score": 5, "severity": "urgent"}]}},
            "news2.alerts.0.severity: severity must be one of info, low, medium, high, not 'urgent'",
        ),
        (
            {
                "thresholds": [
                    {
                        "metric": "spo2",
                        "low": [{"at_or_below": 88, "severity": "high"}, {"at_or_below": 85, "severity": "medium"}],
                    }
                ]
            },
            "spo2: each further-out low bound needs a more extreme value and a higher severity",
        ),
        (
            {"thresholds": [{"metric": "pulse", "high": [{"at_or_above": 130, "severity": "high"}]}]},
            "thresholds.0.metric: Input should be 'heart_rate'",
        ),
        ({"thresholds": [{"metric": "spo2"}]}, "spo2: give at least one low or high bound"),
        ({"trends": [{"name": "w", "metric": "weight", "direction": "rise"}]}, "give either windows or baseline"),
        (
            {
                "trends": [
                    {
                        "name": "w",
                        "metric": "weight",
                        "direction": "rise",
                        "baseline": {"days": 7, "change": 2, "percent": 5},
                    }
                ]
            },
            "exactly one of change",
        ),
        ({"overdue": [{"name": "a", "metrics": ["weight"], "every_hours": 24}] * 2}, "rule name 'a' is used twice"),
        ({"pathways": {"copd": {"enable": ["ghost"]}}}, "pathways.copd: no trend or overdue rule is named 'ghost'"),
        (
            {
                "escalation_policies": {
                    "page": {
                        "tiers": [
                            {"after_minutes": 30, "target": "a", "channel": "b"},
                            {"after_minutes": 0, "target": "c", "channel": "d"},
                        ]
                    }
                }
            },
            "tiers must be in order of after_minutes",
        ),
    ],
)
def test_validation_errors_name_the_field(changes: dict[str, object], message: str) -> None:
    with pytest.raises(RuleSetError) as raised:
        parse_ruleset(with_changes(**changes), source="ward.yaml")
    assert str(raised.value).startswith("ward.yaml: rule set is not valid:")
    assert message in str(raised.value)


def test_validation_errors_give_the_line_to_fix() -> None:
    wrong_severity = MINIMAL.replace("severity: medium}]", "severity: urgent}]")
    as_json = json.dumps(yaml.safe_load(wrong_severity), indent=1)
    json_line = next(n for n, line in enumerate(as_json.splitlines(), 1) if '"urgent"' in line)
    for text, expected in [
        (wrong_severity, "line 9: news2.alerts.0.severity: severity must be one of"),
        (MINIMAL.split("  alerts:")[0], "line 7: news2.alerts: Field required"),  # missing: where its parent is
        (MINIMAL.replace("escalation_by_severity:", "escalation_by_sevrity:"), "line 5: escalation_by_sevrity: Extra"),
        (as_json, f"line {json_line}: news2.alerts.0.severity"),
    ]:
        with pytest.raises(RuleSetError) as raised:
            parse_ruleset(text)
        assert expected in str(raised.value)


@pytest.mark.parametrize(("text", "message"), [("name: [unclosed", "not valid YAML"), ("- a list", "a mapping")])
def test_unreadable_documents_are_rejected(text: str, message: str) -> None:
    with pytest.raises(RuleSetError, match=message):
        parse_ruleset(text)


def test_copies_do_not_share_derived_caches() -> None:
    ruleset = default_ruleset()
    assert ruleset.for_pathway(Pathway.GENERAL).thresholds
    assert ruleset.news2.freshness()["spo2"] == timedelta(hours=6)
    without = ruleset.model_copy(update={"thresholds": []})
    assert without.for_pathway(Pathway.GENERAL).thresholds == {}
    quicker = ruleset.news2.model_copy(update={"freshness_minutes": {**ruleset.news2.freshness_minutes, "spo2": 5}})
    assert quicker.freshness()["spo2"] == timedelta(minutes=5)
    assert ruleset.news2.freshness()["spo2"] == timedelta(hours=6)
