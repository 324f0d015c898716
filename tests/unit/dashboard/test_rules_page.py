"""The rule set editor's pure parts: YAML in the document's own order, messages, shadow counts, the live
label, four eyes and the diff against the live version."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from dashboard.api_client import ApiError
from dashboard.pages.rules import (
    diff_view,
    publishing_note,
    refused_here,
    ruleset_yaml,
    shadow_table,
    status_text,
    unsaved,
    validation_message,
)
from vward.contract.rulesets import (
    MAX_RULESET_BYTES,
    CandidateRequest,
    RuleSetDetail,
    RuleSetDiff,
    RuleSetSummary,
    ShadowCount,
)

VERSION: dict[str, Any] = {
    "id": 4,
    "name": "ward",
    "version": 2,
    "status": "draft",
    "shadow": False,
    "live": False,
    "created_by": "alice",
    "created_at": "2026-11-20T09:00:00+00:00",
    "edited_by": None,
    "published_by": None,
    "published_at": None,
    "publish_reason": None,
}


def version(**changes: Any) -> RuleSetSummary:
    return RuleSetSummary.model_validate(VERSION | changes)


def detail(**changes: Any) -> RuleSetDetail:
    return RuleSetDetail.model_validate(VERSION | {"body": {}, "four_eyes_refusal": None} | changes)


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
    table = str(shadow_table([ShadowCount(rule_id="news2", severity=2, opened=4, patients=3)]).to_plotly_json())
    assert "news2" in table
    assert "Medium" in table
    assert "no would-be alerts" in str(shadow_table([]).to_plotly_json())


def test_only_the_version_the_api_calls_live_is_labelled_live() -> None:
    assert status_text(version(status="published", live=True)) == "● Published (live)"
    assert status_text(version(status="published", live=False)) == "◐ Published, not live"
    assert status_text(version(live=False)) == "✎ Draft"
    assert status_text(version(status="retired")) == "○ Retired"


def test_the_page_says_who_wrote_a_draft_and_why_this_user_may_not_publish_it() -> None:
    mine = str(publishing_note(detail(edited_by="bob", four_eyes_refusal="Four eyes: bob last edited")))
    assert "Written by alice, last edited by bob." in mine
    assert "Four eyes: bob last edited" in mine
    assert "ruleset-four-eyes" not in str(publishing_note(detail(four_eyes_refusal=None)))


def test_the_diff_lists_each_changed_rule_then_the_yaml() -> None:
    live = VERSION | {"name": "default", "version": 1, "status": "published", "live": True}
    changes = [
        {"section": "thresholds", "item": "spo2", "change": "changed"},
        {"section": "news2", "item": None, "change": "changed"},
    ]
    answer = {"live": live, "candidate": "default@2 (unsaved)", "changes": changes, "unified": "-a\n+b\n"}
    view = diff_view(RuleSetDiff.model_validate(answer))
    assert "thresholds spo2: changed" in str(view)
    assert "news2: changed" in str(view)
    assert view.children[-1].children == "-a\n+b\n"
    unchanged = {"live": live, "candidate": "default@2", "changes": [], "unified": ""}
    same = str(diff_view(RuleSetDiff.model_validate(unchanged)))
    assert "No rule differs from the live version, default v1." in same


def test_the_editors_text_is_sent_unless_it_is_empty() -> None:
    assert unsaved("name: ward\n") == "name: ward\n"
    assert unsaved("  ") is None
    assert unsaved(None) is None
    sent = CandidateRequest(draft=unsaved("  ")).model_dump(mode="json", exclude_none=True)
    assert sent == {}  # the API judges the version as stored


def test_a_text_too_long_for_the_api_is_refused_before_sending_and_says_why() -> None:
    with pytest.raises(ValidationError) as refused:
        CandidateRequest(draft="x" * (MAX_RULESET_BYTES + 1))
    assert "draft: String should have at most" in str(refused_here(refused.value, "Preview failed"))
