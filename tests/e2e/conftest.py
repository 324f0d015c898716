"""Browser fixtures for the dashboard tests: one headless Chromium per module, a fresh context per test.

Module scope, not session: Playwright's sync API keeps an event loop running in the main thread while a
browser is open, and pytest-asyncio cannot run the async tests of other modules beside it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from tests.e2e.support.browser import chromium, new_context

DEFAULT_VIEWPORT: ViewportSize = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in its own context; a test module may set VIEWPORT for taller screenshots."""
    viewport: ViewportSize = getattr(request.module, "VIEWPORT", DEFAULT_VIEWPORT)
    context = new_context(browser, viewport=viewport)
    yield context.new_page()
    context.close()
