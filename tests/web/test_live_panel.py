"""The access token prompt and the live resource panel, in chromium, on the real resource endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from web_browser import ServerThread, free_port, open_context
from dispatch.api import create_app
from dispatch.auth import Role, add_token
from dispatch.resources import ResourceKind, ResourceState

LIVE_PANEL_PORT = free_port()
WAIT_MS = 10000
HELICOPTER = "annecy-meythet-base"
SMUR = "grenoble-chu-nord"


@pytest.fixture(scope="module")
def secured_web(settings, context, tmp_path_factory):
    """The service with a tokens file and its in-memory store; yields (url, token, app)."""
    path = tmp_path_factory.mktemp("live-panel") / "tokens.yaml"
    token = add_token(path, "desk-1", Role.REGULATOR)
    app = create_app(settings.model_copy(update={"tokens_file": path}), context=context)
    thread = ServerThread(app, LIVE_PANEL_PORT)
    thread.start()
    thread.wait_started()
    yield f"http://127.0.0.1:{LIVE_PANEL_PORT}", token, app
    thread.stop()


@pytest.fixture()
def states(secured_web):
    """Set the helicopter grounded and the SMUR team available, both two minutes ago."""
    _, _, app = secured_web
    store = app.state.store
    set_at = datetime.now(UTC) - timedelta(minutes=2)
    store.set_state(ResourceState(ResourceKind.HELICOPTER, HELICOPTER, "grounded_weather", set_by="desk-0", set_at=set_at))
    store.set_state(ResourceState(ResourceKind.SMUR, SMUR, "available", set_by="desk-0", set_at=set_at))
    return store


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


def test_panel_shows_and_follows_states(secured_desk, secured_web, states):
    url, token, _ = secured_web
    _open_with_token(secured_desk, token)

    helicopter = secured_desk.locator(f"#resources [data-unit='helicopter/{HELICOPTER}']")
    expect(helicopter.locator(".unit-state")).to_have_text("au sol (météo)", timeout=WAIT_MS)
    expect(helicopter.locator(".unit-age")).to_contain_text("il y a 2 min")
    expect(secured_desk.locator("#resources .resource-status")).to_have_text("à jour en direct")

    # Another desk changes the helicopter's state: the event stream, opened with the
    # page's token (the service asks for one), brings it.
    changed = secured_desk.request.put(
        f"{url}/api/v1/resources/helicopter/{HELICOPTER}", data={"state": "available"}, headers={"authorization": f"Bearer {token}"}
    )
    assert changed.ok
    expect(helicopter.locator(".unit-state")).to_have_text("disponible", timeout=WAIT_MS)


def test_panel_changes_a_state(secured_desk, secured_web, states):
    _, token, _ = secured_web
    _open_with_token(secured_desk, token)

    smur = secured_desk.locator(f"#resources [data-unit='smur/{SMUR}']")
    expect(smur.locator(".unit-state")).to_have_text("disponible", timeout=WAIT_MS)
    smur.locator("select").select_option("engaged")
    smur.locator("button").click()

    expect(smur.locator(".unit-state")).to_have_text("engagé", timeout=WAIT_MS)
    snapshot = states.snapshot()
    assert snapshot.effective(ResourceKind.SMUR, SMUR) == "engaged"
    assert snapshot.state(ResourceKind.SMUR, SMUR).set_by == "desk-1"
