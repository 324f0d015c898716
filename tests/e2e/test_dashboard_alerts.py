"""In a real browser: the alert inbox orders by severity and lets a nurse snooze with a reason."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support.browser import sign_in
from tests.e2e.support.dashboard import Platform, SeedPatient, serve_platform
from vward.domain.alerts import Role

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WARD = [
    SeedPatient("Low Lowe", 2, "low", alert_severity=1, alert_title="Battery low"),
    SeedPatient("Red Reyes", 9, "high", alert_severity=3, alert_title="NEWS2 7 or more"),
    SeedPatient("Amber Ames", 6, "medium", alert_severity=2, alert_title="NEWS2 5-6"),
]


@pytest.fixture(scope="module")
def platform(database_url: str) -> Iterator[Platform]:
    with serve_platform(database_url) as running:
        running.seed(WARD)
        yield running


def test_the_inbox_lists_open_alerts_by_severity_with_words_and_shapes(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.CLINICIAN)
    sign_in(page, platform.base_url, username, password, path="/dash/alerts")
    rows = page.locator("#inbox-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("▲▲▲ High")
    expect(rows.nth(0)).to_contain_text("Red Reyes")
    expect(rows.nth(1)).to_contain_text("▲▲ Medium")
    expect(rows.nth(2)).to_contain_text("▲ Low")
    expect(rows.nth(0).get_by_role("button", name=re.compile("^Snooze"))).to_have_count(0)


def test_snoozing_asks_for_a_reason_and_a_length(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.CLINICIAN)
    sign_in(page, platform.base_url, username, password, path="/dash/alerts")
    row = page.locator("#inbox-table tbody tr", has_text="Amber Ames")
    row.get_by_role("button", name=re.compile("^Snooze")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Outcome")).to_be_hidden()
    dialog.get_by_label("Reason for snoozing").fill("Known baseline; GP reviewing today")
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator("#action-done")).to_contain_text("snoozed")
    expect(page.locator("#inbox-table tbody tr", has_text="Amber Ames")).to_contain_text("snoozed until")
    events = platform.fetch(
        "SELECT e.actor, e.to_state FROM alert_events e JOIN alerts a ON a.id = e.alert_id"
        " WHERE a.patient_id = $1 AND e.kind <> 'opened'",
        platform.patients["Amber Ames"],
    )
    assert [(e["actor"], e["to_state"]) for e in events] == [(username, "snoozed")]


def test_a_viewer_sees_the_inbox_but_is_offered_no_actions(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.VIEWER)
    sign_in(page, platform.base_url, username, password, path="/dash/alerts")
    expect(page.locator("#inbox-table tbody tr")).to_have_count(3)
    expect(page.locator("#inbox-table").get_by_role("button")).to_have_count(0)
