"""The rule set editor's pure parts: YAML in the document's own order, messages, shadow counts."""

from __future__ import annotations

import yaml

from dashboard.api_client import ApiError
from dashboard.pages.rules import ruleset_yaml, shadow_table, validation_message


def test_the_editor_shows_yaml_that_reads_back_to_the_same_document_in_its_order() -> None:
    body = {"name": "ward", "version": 3, "news2": {"alerts": [{"min_score": 7, "severity": "high"}]}}
    text = ruleset_yaml(body)
    assert text.startswith("name: ward\nversion: 3\n")
    assert yaml.safe_load(text) == body


def test_each_validation_problem_gets_its_own_line() -> None:
    message = validation_message(ApiError(422, "news2.incomplete_severity: bad value\nescalation: unknown policy"))
    items = message.to_plotly_json()["props"]["children"].to_plotly_json()["props"]["children"]
    assert [i.children for i in items] == ["news2.incomplete_severity: bad value", "escalation: unknown policy"]


def test_shadow_counts_are_listed_per_rule_with_severity_in_words() -> None:
    table = str(shadow_table([{"rule_id": "news2", "severity": 2, "opened": 4, "patients": 3}]).to_plotly_json())
    assert "news2" in table
    assert "Medium" in table
    assert "no would-be alerts" in str(shadow_table([]).to_plotly_json())
