"""In a real browser: an ops user edits, previews and diffs a rule set, a second one publishes it (four eyes);
roles keep pages apart."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.e2e.support.browser import new_context, sign_in
from tests.e2e.support.dashboard import Platform, SeedPatient, serve_platform
from vward.domain.alerts import Role

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
VIEWPORT: ViewportSize = {"width": 1440, "height": 1100}

DEFAULT_RULESET = Path(__file__).resolve().parents[2] / "rules" / "rulesets" / "default.yaml"


@pytest.fixture(scope="module")
def platform(database_url: str) -> Iterator[Platform]:
    with serve_platform(database_url) as running:
        running.seed([SeedPatient("Amber Ames", 6, "medium", alert_severity=2)])
        yield running


@pytest.fixture
def ruleset_name(platform: Platform) -> str:
    """A published rule set of this test's own, so tests never publish over each other."""
    name = f"ward-{uuid.uuid4().hex[:8]}"
    body = yaml.safe_load(DEFAULT_RULESET.read_text()) | {"name": name}
    platform.fetch(
        "INSERT INTO rule_sets (name, version, status, body, created_by, published_by, published_at, publish_reason)"
        " VALUES ($1, 1, 'published', $2, 'seed', 'seed', now(), 'initial version')",
        name,
        body,
    )
    return name


def open_version(page: Page, name: str, version: int) -> None:
    page.get_by_role("button", name=f"Open {name} version {version}").click()
    expect(page.locator("#ruleset-title")).to_contain_text(f"{name} v{version}")


def test_an_ops_user_edits_previews_and_a_second_publishes_a_rule_change(
    platform: Platform, page: Page, browser: Browser, ruleset_name: str
) -> None:
    author, password = platform.user(Role.OPS)
    sign_in(page, platform.base_url, author, password)
    expect(page.get_by_role("heading", name="Rule sets")).to_be_visible()  # ops land here, not on patients
    live = page.locator("tr.ruleset-published", has=page.get_by_role("cell", name="default", exact=True))
    expect(live).to_contain_text("● Published (live)")  # the rule set the worker evaluates
    open_version(page, ruleset_name, 1)
    expect(page.locator("#ruleset-title")).to_contain_text("◐ Published, not live")  # published, never evaluated
    editor = page.get_by_label("Rule set (YAML)")
    text = editor.input_value()
    assert "incomplete_severity: low" in text
    editor.fill(text.replace("incomplete_severity: low", "incomplete_severity: info"))

    # Before saving: the preview and the diff judge what the editor holds.
    page.get_by_role("button", name="Preview alert burden").click()
    expect(page.locator("#ruleset-preview-graph")).to_contain_text(f"{ruleset_name}@1 (unsaved)")
    page.get_by_role("button", name="Compare with live").click()
    expect(page.locator("#ruleset-diff-summary")).to_contain_text("news2: changed")
    expect(page.locator("#ruleset-diff-text")).to_contain_text("+  incomplete_severity: info")

    page.get_by_role("button", name="Save as new draft").click()
    expect(page.locator("#ruleset-saved")).to_contain_text(f"Saved {ruleset_name} v2 as a draft")
    expect(page.locator("#ruleset-title")).to_contain_text(f"{ruleset_name} v2 · ✎ Draft")
    expect(page.locator("#ruleset-four-eyes")).to_contain_text(f"Four eyes: {author} wrote this draft")
    expect(page.get_by_role("button", name="Publish this draft")).to_be_disabled()

    page.get_by_role("button", name="Start shadow run").click()
    expect(page.locator("#ruleset-shadow-done")).to_contain_text("running in shadow")
    expect(page.locator("#ruleset-title")).to_contain_text("running in shadow")
    expect(page.locator("#ruleset-shadow-counts")).to_contain_text("Shadow run")
    shadow = platform.fetch("SELECT shadow FROM rule_sets WHERE name = $1 AND version = 2", ruleset_name)
    assert shadow[0]["shadow"] is True

    page.get_by_role("button", name="Preview alert burden").click()
    expect(page.locator("#ruleset-preview-graph")).to_contain_text("draft against published")

    reviewer, reviewer_password = platform.user(Role.OPS)
    context = new_context(browser, viewport=VIEWPORT)
    second = context.new_page()
    sign_in(second, platform.base_url, reviewer, reviewer_password, path="/dash/rules")
    open_version(second, ruleset_name, 2)
    expect(second.locator("#ruleset-author")).to_contain_text(f"Written by {author}.")
    expect(second.locator("#ruleset-four-eyes")).to_have_count(0)
    second.get_by_label("Reason for publishing (audited)").fill("Incomplete NEWS2 is informational on this ward")
    second.get_by_role("button", name="Publish this draft").click()
    expect(second.locator("#ruleset-published")).to_contain_text(f"{ruleset_name} v2 is published but not live")
    expect(second.locator("#ruleset-title")).to_contain_text(f"{ruleset_name} v2 · ◐ Published, not live")
    context.close()
    rows = platform.fetch(
        "SELECT version, status, publish_reason, published_by FROM rule_sets WHERE name = $1 ORDER BY version",
        ruleset_name,
    )
    assert [(r["version"], r["status"]) for r in rows] == [(1, "retired"), (2, "published")]
    assert (rows[1]["publish_reason"], rows[1]["published_by"]) == (
        "Incomplete NEWS2 is informational on this ward",
        reviewer,
    )
    audit = platform.fetch("SELECT action FROM audit_log WHERE username = $1 AND object_type = 'rule_set'", author)
    assert {r["action"] for r in audit} >= {"ruleset.draft", "ruleset.preview"}


def test_an_invalid_draft_is_refused_with_the_validation_messages(
    platform: Platform, page: Page, ruleset_name: str
) -> None:
    username, password = platform.user(Role.OPS)
    sign_in(page, platform.base_url, username, password, path="/dash/rules")
    open_version(page, ruleset_name, 1)
    editor = page.get_by_label("Rule set (YAML)")
    editor.fill(editor.input_value().replace("incomplete_severity: low", "incomplete_severity: loud"))
    page.get_by_role("button", name="Save as new draft").click()
    expect(page.locator("#ruleset-invalid")).to_contain_text("incomplete_severity")
    versions = platform.fetch("SELECT count(*) AS n FROM rule_sets WHERE name = $1", ruleset_name)
    assert versions[0]["n"] == 1


def test_a_clinician_cannot_reach_ops_pages(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.CLINICIAN)
    sign_in(page, platform.base_url, username, password)
    nav = page.get_by_role("navigation", name="Pages")
    expect(nav.get_by_role("link", name="Worklist")).to_be_visible()
    expect(nav.get_by_role("link", name="Rule sets")).to_have_count(0)
    for path in ("/dash/rules", "/dash/burden", "/dash/data-quality"):
        page.goto(f"{platform.base_url}{path}")
        expect(page.locator("#access-denied")).to_contain_text("not available to the clinician role")
    # The API refuses too, whatever the page router does.
    token = httpx.post(f"{platform.base_url}/api/v1/auth/token", data={"username": username, "password": password})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert (
        httpx.post(
            f"{platform.base_url}/api/v1/rulesets/1/publish", json={"reason": "sneaky"}, headers=headers
        ).status_code
        == 403
    )


def test_ops_users_do_not_open_patient_records(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.OPS)
    sign_in(page, platform.base_url, username, password)
    page.goto(f"{platform.base_url}/dash/patients/1")
    expect(page.locator("#access-denied")).to_contain_text("not available to the ops role")


def test_ops_see_the_data_quality_page(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.OPS)
    sign_in(page, platform.base_url, username, password, path="/dash/data-quality")
    expect(page.get_by_role("heading", name="Data quality")).to_be_visible()
    expect(page.locator("#dq-body")).to_contain_text(re.compile("Rejections|No rejected messages"))


def test_ops_see_the_alert_burden_meter(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.OPS)
    sign_in(page, platform.base_url, username, password, path="/dash/burden")
    expect(page.locator("#burden-meter")).to_contain_text("Alerts opened per shift and ward")
    expect(page.locator("#burden-body")).to_contain_text("news2.band")
