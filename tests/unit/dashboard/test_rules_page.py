"""The rule set editor's pure parts: YAML in the document's own order, messages, shadow counts, the live
label, four eyes and the diff against the live version."""

from __future__ import annotations

import yaml

from dashboard.api_client import ApiError
from dashboard.pages.rules import (
    diff_view,
    publishing_note,
    ruleset_yaml,
    shadow_table,
    status_text,
    unsaved,
    validation_message,
)

VERSION = {"name": "ward", "version": 2, "status": "draft", "created_by": "alice", "edited_by": None}


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


def test_only_the_version_the_api_calls_live_is_labelled_live() -> None:
    assert status_text(VERSION | {"status": "published", "live": True}) == "● Published (live)"
    assert status_text(VERSION | {"status": "published", "live": False}) == "◐ Published, not live"
    assert status_text(VERSION | {"live": False}) == "✎ Draft"


def test_the_page_says_who_wrote_a_draft_and_why_this_user_may_not_publish_it() -> None:
    mine = str(publishing_note(VERSION | {"edited_by": "bob", "four_eyes_refusal": "Four eyes: bob last edited"}))
    assert "Written by alice, last edited by bob." in mine
    assert "Four eyes: bob last edited" in mine
    assert "ruleset-four-eyes" not in str(publishing_note(VERSION | {"four_eyes_refusal": None}))


def test_the_diff_lists_each_changed_rule_then_the_yaml() -> None:
    live = {"name": "default", "version": 1}
    changes = [
        {"section": "thresholds", "item": "spo2", "change": "changed"},
        {"section": "news2", "item": None, "change": "changed"},
    ]
    view = diff_view({"live": live, "candidate": "default@2 (unsaved)", "changes": changes, "unified": "-a\n+b\n"})
    assert "thresholds spo2: changed" in str(view)
    assert "news2: changed" in str(view)
    assert view.children[-1].children == "-a\n+b\n"
    same = str(diff_view({"live": live, "candidate": "default@2", "changes": [], "unified": ""}))
    assert "No rule differs from the live version, default v1." in same


def test_the_editors_text_is_sent_unless_it_is_empty() -> None:
    assert unsaved("name: ward\n") == {"draft": "name: ward\n"}
    assert unsaved("  ") == {}
    assert unsaved(None) == {}
