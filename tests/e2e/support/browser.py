"""Headless Debian chromium for the dashboard tests (never a downloaded browser), and sign-in steps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.e2e.support.dashboard import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.support.waiting import budget

# Dash answers a page's callbacks after its scripts boot: seconds on a quiet machine, several times that with
# both cores busy. Assertions and actions wait this long (Playwright's 5 s default is tight for that).
BROWSER_WAIT_MS = round(budget(30) * 1000)
expect.set_options(timeout=BROWSER_WAIT_MS)


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def new_context(browser: Browser, **options: Any) -> BrowserContext:
    """A browser context whose actions wait as long as the assertions do."""
    context = browser.new_context(**options)
    context.set_default_timeout(BROWSER_WAIT_MS)
    return context


def sign_in(page: Page, base_url: str, username: str, password: str, path: str = "/dash/") -> None:
    page.goto(f"{base_url}{path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"{username} (")).to_be_visible()


def screenshot(page: Page, name: str) -> None:
    """Saved for the README: docs/screenshots/<name>.png, written only by the soak on the demo's own data
    (tests/e2e/test_demo_soak.py)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def choose(page: Page, select_id: str, option: str) -> None:
    """Pick `option` in the Mantine select `select_id`, as a person does: open it, click the option."""
    page.locator(f"#{select_id}").click()
    page.get_by_role("option", name=option).click()
