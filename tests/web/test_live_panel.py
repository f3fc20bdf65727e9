"""The access token prompt and the live resource panel, in chromium.

NOTE: the resource endpoints are not in the service yet, so this module adds a stand-in
of their published contract (snapshot, event stream, state change) to the test app.
Replace it with the real endpoints and a real store once they land.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse
from playwright.sync_api import expect

from web_browser import ServerThread, open_context
from dispatch.api import create_app
from dispatch.auth import Role, add_token

LIVE_PANEL_PORT = 8132
WAIT_MS = 10000


def _unit(kind: str, unit_id: str, name: str, state: str) -> dict:
    return {
        "kind": kind,
        "unit_id": unit_id,
        "name": name,
        "state": state,
        "raw_state": state,
        "set_by": "desk-0",
        "set_at": "2026-02-14T09:00:00+01:00",
        "age_s": 120,
        "until": None,
        "returns_to": None,
        "call_id": None,
        "version": 1,
        "stale": False,
    }


class ResourceStandIn:
    """Units in memory behind GET /api/v1/resources, its event stream and PUT of a state."""

    def __init__(self, token: str):
        self.token = token
        self.units = {
            ("smur", "chu-grenoble"): _unit("smur", "chu-grenoble", "SMUR Grenoble", "available"),
            ("helicopter", "dragon-74"): _unit("helicopter", "dragon-74", "Dragon 74", "grounded_weather"),
            ("cath_lab", "chu-grenoble"): _unit("cath_lab", "chu-grenoble", "CHU Grenoble Alpes", "open"),
        }
        self.listeners: list[asyncio.Queue] = []
        self.stream_headers: list[str | None] = []

    def authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    def install(self, app) -> None:
        @app.get("/api/v1/resources")
        async def snapshot(request: Request):
            if not self.authorised(request):
                return JSONResponse({"error": {"code": "token_missing", "field": None, "message": "jeton absent"}}, status_code=401)
            return {"store": {"name": "stand-in", "reachable": True}, "units": list(self.units.values())}

        @app.get("/api/v1/resources/events")
        async def events(request: Request):
            self.stream_headers.append(request.headers.get("authorization"))
            queue: asyncio.Queue = asyncio.Queue()
            self.listeners.append(queue)

            async def lines():
                yield ": connected\n\n"
                try:
                    while True:
                        unit = await queue.get()
                        yield f"event: state\ndata: {json.dumps(unit)}\n\n"
                finally:
                    self.listeners.remove(queue)

            return StreamingResponse(lines(), media_type="text/event-stream")

        @app.put("/api/v1/resources/{kind}/{unit_id}")
        async def set_state(kind: str, unit_id: str, request: Request):
            if not self.authorised(request):
                return JSONResponse({"error": {"code": "token_missing", "field": None, "message": "jeton absent"}}, status_code=401)
            body = await request.json()
            unit = {**self.units[(kind, unit_id)], "state": body["state"], "raw_state": body["state"], "age_s": 0, "set_by": "desk-1"}
            unit["version"] += 1
            self.units[(kind, unit_id)] = unit
            for queue in self.listeners:
                queue.put_nowait(unit)
            return unit


@pytest.fixture(scope="module")
def secured_web(settings, context, tmp_path_factory):
    """The service with a tokens file and the resource stand-in; yields (url, token, stand-in)."""
    path = tmp_path_factory.mktemp("live-panel") / "tokens.yaml"
    token = add_token(path, "desk-1", Role.REGULATOR)
    app = create_app(settings.model_copy(update={"tokens_file": path}), context=context)
    stand_in = ResourceStandIn(token)
    stand_in.install(app.app)
    thread = ServerThread(app, LIVE_PANEL_PORT)
    thread.start()
    thread.wait_started()
    yield f"http://127.0.0.1:{LIVE_PANEL_PORT}", token, stand_in
    thread.stop()


@pytest.fixture()
def secured_desk(browser, secured_web):
    url, _, _ = secured_web
    context, outside = open_context(browser, url, viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.outside = outside
    yield page
    context.close()


def _open_with_token(page, token: str) -> None:
    """Open the regulator page with ``token`` already kept for the tab."""
    page.goto("/")
    page.evaluate("(token) => sessionStorage.setItem('resurcor.token', token)", token)
    page.reload()


@pytest.mark.usefixtures("map_library")
def test_token_asked_once_per_tab(secured_desk, secured_web):
    _, token, _ = secured_web
    secured_desk.goto("/")
    dialog = secured_desk.locator("#token-dialog")
    expect(dialog).to_be_visible(timeout=WAIT_MS)

    secured_desk.locator("#token-input").fill("wrong-token")
    secured_desk.locator("#token-input").press("Enter")
    expect(secured_desk.locator("#token-error")).to_contain_text("Jeton refusé", timeout=WAIT_MS)
    secured_desk.locator("#token-input").fill(token)
    secured_desk.locator("#token-input").press("Enter")
    expect(dialog).to_be_hidden()
    expect(secured_desk.locator("#map .site-icon").first).to_be_attached(timeout=WAIT_MS)
    expect(secured_desk.locator("#resources .unit").first).to_be_visible(timeout=WAIT_MS)

    secured_desk.locator("#commune").fill("Chamonix")
    secured_desk.locator("#commune").press("Enter")
    secured_desk.locator("#commune").press("Enter")
    expect(secured_desk.locator("#strategy")).to_be_visible(timeout=WAIT_MS)

    secured_desk.reload()
    expect(secured_desk.locator("#resources .unit").first).to_be_visible(timeout=WAIT_MS)
    expect(dialog).to_be_hidden()
    assert secured_desk.outside.urls == []


def test_panel_shows_and_follows_states(secured_desk, secured_web):
    url, token, stand_in = secured_web
    _open_with_token(secured_desk, token)

    dragon = secured_desk.locator("#resources [data-unit='helicopter/dragon-74']")
    expect(dragon.locator(".unit-state")).to_have_text("au sol (météo)", timeout=WAIT_MS)
    expect(dragon.locator(".unit-age")).to_contain_text("il y a 2 min")
    expect(secured_desk.locator("#resources .resource-status")).to_have_text("à jour en direct")

    # Another desk changes the helicopter's state: the event stream brings it.
    changed = secured_desk.request.put(
        f"{url}/api/v1/resources/helicopter/dragon-74", data={"state": "available"}, headers={"authorization": f"Bearer {token}"}
    )
    assert changed.ok
    expect(dragon.locator(".unit-state")).to_have_text("disponible", timeout=WAIT_MS)
    assert f"Bearer {token}" in stand_in.stream_headers


def test_panel_changes_a_state(secured_desk, secured_web):
    _, token, stand_in = secured_web
    _open_with_token(secured_desk, token)

    smur = secured_desk.locator("#resources [data-unit='smur/chu-grenoble']")
    expect(smur.locator(".unit-state")).to_have_text("disponible", timeout=WAIT_MS)
    smur.locator("select").select_option("engaged")
    smur.locator("button").click()

    expect(smur.locator(".unit-state")).to_have_text("engagé", timeout=WAIT_MS)
    assert stand_in.units[("smur", "chu-grenoble")]["state"] == "engaged"
