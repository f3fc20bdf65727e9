"""Helpers of the browser tests: the service in a thread, and browser contexts kept on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import uvicorn

from free_ports import listening_socket

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class ServerThread(threading.Thread):
    """A uvicorn server run in a daemon thread, stopped by ``stop``."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.socket = listening_socket()
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # ws="none": the pages use no websocket, and the websocket modules warn on import.
        # A bounded graceful shutdown closes event streams a page left open.
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", ws="none", lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)

    def run(self) -> None:
        self.server.run(sockets=[self.socket])

    def wait_started(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test web server did not start on {self.url}")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.join(timeout=10)
        self.socket.close()


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
