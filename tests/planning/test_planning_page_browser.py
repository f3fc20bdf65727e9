"""The /planning page in a real headless chromium against a real uvicorn server on 127.0.0.1.

Chromium is driven over the DevTools protocol (a websocket on 127.0.0.1), because its
``--dump-dom`` returns at page load, before the page's requests end.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from websockets.sync.client import connect

PORT = int(os.environ.get("RESURCOR_TEST_PLANNING_PORT", "8321"))
DEVTOOLS_PORT = PORT + 1
START_TIMEOUT_S = 60
RUN_TIMEOUT_S = 240


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "chromium not installed (Debian: apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{message}. CI requires it.", pytrace=False)
        pytest.skip(message)
    return path


def _wait_http(url: str, process: subprocess.Popen, name: str) -> bytes:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.read()
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"{name} ended with status {process.returncode}")
            time.sleep(0.3)
    pytest.fail(f"{name} did not answer at {url} within {START_TIMEOUT_S} s")


@pytest.fixture(scope="module")
def server(settings):
    env = {
        **os.environ,
        "RESURCOR_DATA_DIR": str(settings.data_dir),
        "RESURCOR_REGION_DIR": str(settings.region_dir),
        "RESURCOR_CACHE_DIR": str(settings.cache_dir),
    }
    env.pop("RESURCOR_TOKENS_FILE", None)
    process = subprocess.Popen([sys.executable, "-m", "dispatch.cli", "serve", "--port", str(PORT)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_http(f"http://127.0.0.1:{PORT}/api/v1/health", process, "resurcor serve")
        yield f"http://127.0.0.1:{PORT}"
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
        "--remote-debugging-address=127.0.0.1", f"--remote-debugging-port={DEVTOOLS_PORT}", "about:blank",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_http(f"http://127.0.0.1:{DEVTOOLS_PORT}/json/version", process, "chromium")
        yield DEVTOOLS_PORT
    finally:
        process.terminate()
        process.wait(timeout=20)


class Page:
    """One chromium tab, driven over the DevTools protocol."""

    def __init__(self, socket):
        self.socket = socket
        self.ids = itertools.count(1)

    def evaluate(self, expression: str):
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": "Runtime.evaluate", "params": {"expression": expression, "returnByValue": True}}))
        while True:
            reply = json.loads(self.socket.recv(timeout=30))
            if reply.get("id") == message_id:
                return reply["result"]["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.3)
        raise AssertionError(f"{expression} still false after {timeout_s} s; page text: {self.evaluate('document.body.innerText')[:2000]}")



@contextmanager
def open_page(port: int, url: str) -> Iterator[Page]:
    """Open ``url`` in a new tab of the browser listening on ``port``."""
    # The page's URL is the query of /json/new, so its own "&" must be escaped.
    request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?{urllib.parse.quote(url, safe='')}", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        target = json.loads(response.read())
    with connect(target["webSocketDebuggerUrl"], max_size=None) as socket:
        yield Page(socket)


def test_page_lists_examples(server, browser):
    with open_page(browser, f"{server}/planning?lang=en") as page:
        page.wait_for("document.querySelectorAll('#example option').length >= 5", 30)
        assert page.evaluate("document.querySelector('h1').textContent") == "Planning scenarios"
        options = page.evaluate("[...document.querySelectorAll('#example option')].map(o => o.value)")
        assert "winter-peak.yaml" in options
        assert "annecy-cath-lab-closed-night.yaml" in options
        assert page.evaluate("document.getElementById('scenario').value").startswith("#")


def test_page_runs_comparison(server, browser):
    url = f"{server}/planning?lang=fr&scenario=winter-peak.yaml&compare=annecy-cath-lab-closed-night.yaml&calls=2000&run=1"
    with open_page(browser, url) as page:
        page.wait_for("['done', 'failed'].includes(document.body.dataset.state)", RUN_TIMEOUT_S)
        assert page.evaluate("document.body.dataset.state") == "done", page.evaluate("document.getElementById('error').textContent")
        text = page.evaluate("document.getElementById('results').innerText")
        assert "≤ 120 min" in text
        assert "report.html" in text
        assert "map_difference.png" in text
        assert "road or air" not in text
        assert "route ou air" in text
        assert "day_road" not in text and "primary_pci" not in text and "residents" not in text
        assert text.count("≤ 120 min") == 2
        page.wait_for("[...document.images].filter(i => i.complete && i.naturalWidth > 0).length >= 2", 30)
