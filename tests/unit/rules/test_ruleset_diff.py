"""A candidate's changes against the live rule set, as a reviewer reads them: per rule, and line by line."""

from __future__ import annotations

import copy

import yaml

from rules.core.ruleset import DEFAULT_RULESET_PATH
from rules.core.ruleset_diff import RuleChange, rule_changes, unified_diff

LIVE = yaml.safe_load(DEFAULT_RULESET_PATH.read_text())


def test_list_rules_are_named_and_other_sections_are_whole() -> None:
    candidate = copy.deepcopy(LIVE) | {"version": 9}
    candidate["thresholds"] = [t for t in candidate["thresholds"] if t["metric"] != "temperature"]
    next(t for t in candidate["thresholds"] if t["metric"] == "spo2")["hold_minutes"] = 3
    candidate["news2"]["incomplete_severity"] = "info"
    del candidate["overdue"]  # the whole section: each of its rules is removed
    assert rule_changes(LIVE, candidate) == [
        RuleChange("news2", None, "changed"),
        RuleChange("thresholds", "spo2", "changed"),
        RuleChange("thresholds", "temperature", "removed"),
        *[RuleChange("overdue", name, "removed") for name in ("blood_pressure", "temperature", "weight")],
    ]
    candidate["overdue"] = [*LIVE["overdue"], {"name": "glucose", "metrics": ["glucose"], "every_hours": 6}]
    assert rule_changes(LIVE, candidate)[-1] == RuleChange("overdue", "glucose", "added")
    assert rule_changes(LIVE, {k: v for k, v in LIVE.items() if k != "devices"}) == [
        RuleChange("devices", None, "removed")
    ]


def test_the_same_rules_in_another_order_or_version_change_nothing() -> None:
    reordered = dict(reversed(list(LIVE.items()))) | {"version": 2}
    assert rule_changes(LIVE, reordered) == []
    assert unified_diff(LIVE, dict(reversed(list(LIVE.items()))), "live", "draft") == ""
