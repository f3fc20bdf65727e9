"""Browser fixtures: the service on 127.0.0.1 in a thread and Debian's chromium driven by Playwright.

The browser is the system's chromium (fixture ``chromium_executable``), never one
downloaded by ``playwright install``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dispatch.api import create_app
from web_browser import CHROMIUM_ARGS, ServerThread, open_context


@pytest.fixture(scope="session")
def web_url(settings, context) -> Iterator[str]:
    """The base URL of the service with the test settings, running for the whole session."""
    thread = ServerThread(create_app(settings, context=context))
    thread.start()
    thread.wait_started()
    yield thread.url
    thread.stop()


@pytest.fixture(scope="session")
def browser(chromium_executable: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture()
def desk(browser, web_url):
    """A 1366x768 page in French, with the requests to other hosts recorded."""
    context, outside = open_context(browser, web_url, viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.outside = outside
    yield page
    context.close()


@pytest.fixture()
def phone(browser, web_url):
    """A 390x844 touch page, as a SMUR team's phone, placed at Chamonix."""
    context, outside = open_context(
        browser,
        web_url,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": 45.9237, "longitude": 6.8694, "accuracy": 12},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.outside = outside
    yield page
    context.close()
