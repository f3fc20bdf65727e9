"""The access token prompt and the live resource panel, in chromium, on the real resource endpoints."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from web_browser import ServerThread, open_context
from dispatch.api import create_app
from dispatch.auth import Role, add_token
from dispatch.resources import ResourceKind, ResourceState

WAIT_MS = 10000
HELICOPTER = "annecy-meythet-base"
SMUR = "grenoble-chu-nord"


@pytest.fixture(scope="module")
def secured_web(settings, context, tmp_path_factory):
    """The service with a tokens file and its in-memory store; yields (url, token, app)."""
    path = tmp_path_factory.mktemp("live-panel") / "tokens.yaml"
    token = add_token(path, "desk-1", Role.REGULATOR)
    app = create_app(settings.model_copy(update={"tokens_file": path}), context=context)
    thread = ServerThread(app)
    thread.start()
    thread.wait_started()
    yield thread.url, token, app
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


def test_unset_unit_reads_never_set(secured_desk, secured_web, states):
    _, token, _ = secured_web
    _open_with_token(secured_desk, token)

    # Chambéry's SMUR team is never set by the fixture: it has no age to show.
    unset = secured_desk.locator("#resources [data-unit='smur/chambery-ch-metropole-savoie']")
    expect(unset.locator(".unit-state")).to_have_text("inconnu", timeout=WAIT_MS)
    expect(unset.locator(".unit-age")).to_have_text("jamais saisi")
    set_unit = secured_desk.locator(f"#resources [data-unit='smur/{SMUR}']")
    expect(set_unit.locator(".unit-age")).to_contain_text("il y a 2 min")

    secured_desk.keyboard.press("Alt+L")
    expect(unset.locator(".unit-age")).to_have_text("never set")


def test_state_selector_starts_empty(secured_desk, secured_web, states):
    _, token, _ = secured_web
    _open_with_token(secured_desk, token)

    smur = secured_desk.locator(f"#resources [data-unit='smur/{SMUR}']")
    expect(smur.locator(".unit-state")).to_have_text("disponible", timeout=WAIT_MS)
    select = smur.locator("select")
    apply = smur.locator("button")
    expect(select).to_have_value("")
    expect(select.locator("option").first).to_have_text("choisir…")
    expect(apply).to_be_disabled()

    select.select_option("off_duty")
    expect(apply).to_be_enabled()
    select.select_option("")
    expect(apply).to_be_disabled()
    assert states.snapshot().effective(ResourceKind.SMUR, SMUR) == "available"

    select.select_option("off_duty")
    apply.click()
    expect(smur.locator(".unit-state")).to_have_text("hors service", timeout=WAIT_MS)


@pytest.fixture()
def redis_desk(browser, settings, context):
    """A page on a single-desk service whose store is a throwaway redis-server; yields (page, server, app)."""
    from redis_server import started_server

    server = started_server()
    app = create_app(settings.model_copy(update={"redis_url": server.url(), "redis_retry_interval_s": 0.1}), context=context)
    app.state.sse_heartbeat_s = 1.0
    thread = ServerThread(app)
    thread.start()
    thread.wait_started()
    context_, outside = open_context(browser, thread.url, viewport={"width": 1366, "height": 768})
    page = context_.new_page()
    page.outside = outside
    yield page, server, app
    context_.close()
    thread.stop()
    server.close()


def test_panel_marks_redis_outage(redis_desk):
    page, server, app = redis_desk
    app_store_set = datetime.now(UTC) - timedelta(minutes=2)
    page.goto("/")
    expect(page.locator("#resources .unit").first).to_be_visible(timeout=WAIT_MS)
    app.state.store.set_state(ResourceState(ResourceKind.HELICOPTER, HELICOPTER, "grounded_weather", set_by="desk-0", set_at=app_store_set))
    helicopter = page.locator(f"#resources [data-unit='helicopter/{HELICOPTER}']")
    expect(helicopter.locator(".unit-state")).to_have_text("au sol (météo)", timeout=WAIT_MS)
    banner = page.locator("#resources .resource-banner")
    expect(banner).to_be_hidden()

    # Redis stops: the stream says so, every unit reads stale with its state unknown.
    server.stop()
    expect(banner).to_be_visible(timeout=WAIT_MS)
    expect(banner).to_contain_text(re.compile(r"injoignables depuis \d\d:\d\d"))
    expect(helicopter.locator(".unit-state")).to_have_text("inconnu")
    expect(helicopter.locator(".unit-age")).to_contain_text("périmé / état inconnu")
    smur = page.locator(f"#resources [data-unit='smur/{SMUR}']")
    expect(smur.locator(".unit-age")).to_contain_text("périmé / état inconnu")

    page.keyboard.press("Alt+L")
    expect(banner).to_contain_text(re.compile(r"unreachable since \d\d:\d\d"))
    page.keyboard.press("Alt+L")

    # Redis comes back empty: the service writes back its states and the panel reloads them.
    server.start()
    expect(banner).to_be_hidden(timeout=WAIT_MS)
    expect(helicopter.locator(".unit-state")).to_have_text("au sol (météo)", timeout=WAIT_MS)
    expect(helicopter.locator(".unit-age")).not_to_contain_text("périmé")
    expect(page.locator("#resources .resource-status")).to_have_text("à jour en direct")
    assert page.outside.urls == []
