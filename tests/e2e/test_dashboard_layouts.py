"""In a real browser: the clinician's pages on a phone (390 px) and on a wall display (1920 px).

On a phone nothing may overlap or push the page wider than the screen (a wide table scrolls inside its
own box); on a wall display the type is larger, to be read from across the room."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.support.browser import BROWSER_WAIT_MS, new_context, sign_in
from tests.e2e.support.dashboard import Platform, SeedPatient, serve_platform
from vward.domain.alerts import Role

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WARD = [
    SeedPatient("Amber Ames", 6, "medium", alert_severity=2, alert_title="NEWS2 5-6"),
    SeedPatient("Red Reyes", 9, "high", alert_severity=3, alert_title="NEWS2 7 or more", device_offline=True),
]
SHOTS = Path(os.environ.get("VWARD_LAYOUT_SHOTS", "/tmp/vward-layouts"))


@pytest.fixture(scope="module")
def platform(database_url: str) -> Iterator[Platform]:
    with serve_platform(database_url) as running:
        running.seed(WARD)
        yield running


def _page(browser: Browser, width: int, height: int) -> Page:
    return new_context(browser, viewport={"width": width, "height": height}).new_page()


def _page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _overlaps(page: Page, selector: str) -> list[str]:
    """Pairs of the visible children of `selector` whose boxes intersect."""
    boxes = page.evaluate(
        """sel => [...document.querySelector(sel).children].filter(e => e.offsetParent !== null).map(e => {
               const r = e.getBoundingClientRect();
               return [e.id || e.className || e.tagName, r.left, r.top, r.right, r.bottom];
           })""",
        selector,
    )
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a[1] < b[3] - 1 and b[1] < a[3] - 1 and a[2] < b[4] - 1 and b[2] < a[4] - 1:
                found.append(f"{a[0]} overlaps {b[0]}")
    return found


@pytest.mark.parametrize("path", ["/dash/", "/dash/alerts", "patient"])
def test_on_a_phone_nothing_overlaps_or_runs_off_the_screen(platform: Platform, browser: Browser, path: str) -> None:
    username, password = platform.user(Role.CLINICIAN)
    page = _page(browser, 390, 844)
    target = f"/dash/patients/{platform.patients['Red Reyes']}" if path == "patient" else path
    sign_in(page, platform.base_url, username, password, path=target)
    ready = {
        "/dash/": "#worklist-grid .ag-row",
        "/dash/alerts": "#inbox-table",
        "patient": "#patient-trends .scatterlayer .trace",  # the last panel to fill
    }[path]
    expect(page.locator(ready).first).to_be_attached(timeout=BROWSER_WAIT_MS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"phone-{path.strip('/').replace('/', '-') or 'worklist'}.png"), full_page=True)
    assert _page_width(page) <= 390, f"{path}: the page is {_page_width(page)} px wide on a 390 px screen"
    assert _overlaps(page, ".header-row") == []
    header_bottom = page.evaluate("document.querySelector('header').getBoundingClientRect().bottom")
    row_bottom = page.evaluate("document.querySelector('.header-row').scrollHeight")
    assert row_bottom <= header_bottom + 1, "the header's content runs out of the header onto the page"
    page.context.close()


def test_on_a_wall_display_the_type_is_larger(platform: Platform, browser: Browser) -> None:
    username, password = platform.user(Role.CLINICIAN)
    sizes = {}
    for width in (1440, 1920):
        page = _page(browser, width, 1080)
        sign_in(page, platform.base_url, username, password)
        cell = page.locator("#worklist-grid .ag-row [col-id='patient']").first
        expect(cell).to_be_visible()
        sizes[width] = float(cell.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
        if width == 1920:
            page.screenshot(path=str(SHOTS / "wall-worklist.png"))
        page.context.close()
    assert sizes[1920] >= sizes[1440] * 1.2, sizes
