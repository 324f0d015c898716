"""In a real browser: sign in, see the ward worst first with every cue in words, open a patient."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.support.browser import BROWSER_WAIT_MS, new_context, sign_in
from tests.e2e.support.dashboard import Platform, SeedPatient, seed_patient, seed_ward, serve_platform
from vward.domain.alerts import Role

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WARD_STATE = [
    SeedPatient("Quiet Quinn", 0, "low"),
    SeedPatient("Amber Ames", 6, "medium", alert_severity=2, alert_title="NEWS2 5-6"),
    SeedPatient("Stale Stone", 2, "low", complete=False, missing=("consciousness",), device_offline=True),
    SeedPatient("Red Reyes", 9, "high", alert_severity=3, alert_title="NEWS2 7 or more", battery=12),
    SeedPatient("Single Sims", 3, "low-medium", red=True),
]


@pytest.fixture(scope="module")
def platform(database_url: str) -> Iterator[Platform]:
    with serve_platform(database_url) as running:
        running.seed(WARD_STATE)
        yield running


def cell(page: Page, row: int, column: str) -> Locator:
    """One cell of the worklist, wherever AG Grid renders it (rank, NEWS2 and patient are pinned left)."""
    return page.locator(f"#worklist-grid .ag-row[row-index='{row}'] [col-id='{column}']")


def test_a_clinician_signs_in_and_sees_the_ward_worst_first(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.CLINICIAN)
    sign_in(page, platform.base_url, username, password)

    rows = page.locator("#worklist-grid .ag-center-cols-container .ag-row")
    expect(rows).to_have_count(len(WARD_STATE))
    worst_first = ["Red Reyes", "Amber Ames", "Single Sims", "Stale Stone", "Quiet Quinn"]
    for index, name in enumerate(worst_first):
        expect(page.locator(f"#worklist-grid .ag-row[row-index='{index}'] [col-id='patient']")).to_have_text(name)
    expect(cell(page, 0, "news2")).to_have_text("9 High")
    expect(cell(page, 0, "alerts")).to_have_text("1 · High")
    expect(cell(page, 0, "devices")).to_have_text("battery 12%")
    expect(cell(page, 3, "data")).to_contain_text("Incomplete")
    expect(cell(page, 3, "devices")).to_have_text("1 offline")
    expect(page.locator("#worklist-grid .ag-row[row-index='2'] [col-id='red']")).to_have_text("⚠ Red score")
    expect(page).to_have_title("virtual ward")


def test_the_worklist_refreshes_without_losing_the_selected_row(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.CLINICIAN)
    sign_in(page, platform.base_url, username, password)
    updated = page.locator("#worklist-updated")
    expect(updated).to_contain_text("patients")
    page.locator("#worklist-grid .ag-row[row-index='4'] [col-id='identity']").focus()
    page.keyboard.press("Space")
    selected_row = page.locator("#worklist-grid .ag-center-cols-container .ag-row[row-index='4']")
    expect(selected_row).to_have_class(re.compile("ag-row-selected"))
    first = updated.inner_text()
    expect(updated).not_to_have_text(first, timeout=BROWSER_WAIT_MS)
    expect(selected_row).to_have_class(re.compile("ag-row-selected"))
    # Every patient is still there after the refresh (a row id AG Grid could not read left one row of 40).
    rows = page.locator("#worklist-grid .ag-center-cols-container .ag-row")
    expect(rows).to_have_count(len(WARD_STATE))
    second = updated.inner_text()
    expect(updated).not_to_have_text(second, timeout=BROWSER_WAIT_MS)
    expect(rows).to_have_count(len(WARD_STATE))


def test_clicking_a_patient_opens_their_record_by_id(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.CLINICIAN)
    sign_in(page, platform.base_url, username, password)
    page.locator("#worklist-grid .ag-row[row-index='0'] [col-id='patient']").click()
    expect(page).to_have_url(re.compile(r"/dash/patients/\d+$"))
    expect(page).to_have_title("virtual ward")


def test_enter_on_a_focused_row_opens_the_patient(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.CLINICIAN)
    sign_in(page, platform.base_url, username, password)
    page.locator("#worklist-grid .ag-row[row-index='1'] [col-id='news2']").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/dash/patients/\d+$"))


def test_a_wrong_password_is_refused_with_a_message(platform: Platform, page: Page) -> None:
    username, _ = platform.user(Role.CLINICIAN)
    page.goto(f"{platform.base_url}/dash/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#login-message")).to_have_text("Wrong username or password")


def test_an_expired_or_forged_session_goes_back_to_sign_in(platform: Platform, browser: Browser) -> None:
    context = new_context(browser)
    forged = '{"token": "not-a-valid-token", "username": "someone", "role": "clinician"}'
    context.add_init_script(f"window.sessionStorage.setItem('session', {forged!r});")
    page = context.new_page()
    page.goto(f"{platform.base_url}/dash/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("window.sessionStorage.getItem('session')") in (None, "null")
    context.close()


def test_navigating_renews_an_old_token_and_keeps_the_page(platform: Platform, browser: Browser) -> None:
    username, password = platform.user(Role.CLINICIAN)
    token = httpx.post(f"{platform.base_url}/api/v1/auth/token", data={"username": username, "password": password})
    old = token.json()["access_token"]
    stale = json.dumps({"token": old, "username": username, "role": "clinician", "renewed_at": 0})
    context = new_context(browser)
    context.add_init_script(
        f"if (!window.sessionStorage.getItem('session')) window.sessionStorage.setItem('session', {stale!r});"
    )
    page = context.new_page()
    routed: list[str] = []  # page-router calls: the request names its outputs, the page among them
    page.on("request", lambda r: routed.append(r.url) if "page.children" in (r.post_data or "") else None)
    page.goto(f"{platform.base_url}/dash/")
    expect(page.locator("#worklist-grid .ag-center-cols-container .ag-row")).to_have_count(len(WARD_STATE))
    # Renewed on load (the token is old): a fresh token from /auth/refresh (one-second resolution, so compare
    # the renewal time), and the page was built once, not again for the new token.
    page.wait_for_function("JSON.parse(window.sessionStorage.getItem('session')).renewed_at > 0")
    assert len(routed) == 1
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Alert inbox").click()
    expect(page.get_by_role("heading", name="Alert inbox")).to_be_visible()
    assert len(routed) == 2
    context.close()


def test_the_ward_filter_narrows_the_list(platform: Platform, page: Page) -> None:
    other = f"{platform.ward}-B"
    platform.run(seed_patient(platform.pool, other, SeedPatient("Bede Barnes", 1, "low"), datetime.now(UTC)))
    username, password = platform.user(Role.CLINICIAN, (platform.ward, other))
    sign_in(page, platform.base_url, username, password)
    rows = page.locator("#worklist-grid .ag-center-cols-container .ag-row")
    expect(rows).to_have_count(len(WARD_STATE) + 1)
    page.locator("#worklist-ward").click()
    page.get_by_role("option", name=other).click()
    expect(rows).to_have_count(1)
    expect(cell(page, 0, "patient")).to_have_text("Bede Barnes")
    expect(page.locator("#worklist-updated")).to_contain_text("1 patients")


def test_a_refresh_keeps_the_scroll_position(platform: Platform, page: Page) -> None:
    big = f"{platform.ward}-C"
    platform.run(seed_ward(platform.pool, big, 80))
    username, password = platform.user(Role.CLINICIAN, (big,))
    sign_in(page, platform.base_url, username, password)
    viewport = page.locator("#worklist-grid .ag-body-viewport")
    expect(page.locator("#worklist-updated")).to_contain_text("80 patients")
    viewport.evaluate("el => { el.scrollTop = 1200; }")
    expect(page.locator("#worklist-grid .ag-center-cols-container .ag-row[row-index='40']")).to_be_visible()
    before = page.locator("#worklist-updated").inner_text()
    expect(page.locator("#worklist-updated")).not_to_have_text(before, timeout=BROWSER_WAIT_MS)  # a refresh happened
    assert viewport.evaluate("el => el.scrollTop") == 1200
