"""Browser fixtures: the service on 127.0.0.1 in a thread and Debian's chromium driven by Playwright.

The browser is the system's chromium (fixture ``chromium_executable``), never one
downloaded by ``playwright install``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import uvicorn

from dispatch.api import create_app

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WEB_TEST_PORT = int(os.environ.get("RESURCOR_TEST_WEB_PORT", "8131"))


class ServerThread(threading.Thread):
    """A uvicorn server run in a daemon thread, stopped by ``stop``."""

    def __init__(self, app, port: int):
        super().__init__(daemon=True)
        # ws="none": the pages use no websocket, and the websocket modules warn on import.
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="on"))

    def run(self) -> None:
        self.server.run()

    def wait_started(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test web server did not start on 127.0.0.1; is the port taken?")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.join(timeout=10)


@pytest.fixture(scope="session")
def web_url(settings, context) -> Iterator[str]:
    """The base URL of the service with the test settings, running for the whole session."""
    thread = ServerThread(create_app(settings, context=context), WEB_TEST_PORT)
    thread.start()
    thread.wait_started()
    yield f"http://127.0.0.1:{WEB_TEST_PORT}"
    thread.stop()


@pytest.fixture(scope="session")
def browser(chromium_executable: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class OutsideRequests:
    """Requests the page tried to send anywhere but 127.0.0.1; each is aborted."""

    def __init__(self):
        self.urls: list[str] = []

    def route(self, route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname
        if url.startswith(("data:", "blob:", "about:")) or host == "127.0.0.1":
            route.continue_()
        else:
            self.urls.append(url)
            route.abort()


def open_context(browser, web_url: str, **options):
    """Return (browser context, outside-request recorder) with every outside request blocked."""
    context = browser.new_context(base_url=web_url, locale="fr-FR", timezone_id="Europe/Paris", **options)
    outside = OutsideRequests()
    context.route("**/*", outside.route)
    return context, outside


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
