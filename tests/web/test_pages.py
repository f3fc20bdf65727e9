"""The regulator's and SMUR team's pages in Debian's chromium, against the real service."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

# The README's screenshots are rewritten only on request, so a test run leaves the
# checkout unchanged: RESURCOR_UPDATE_SCREENSHOTS=1 pytest tests/web -k screenshots.
README_SCREENSHOTS_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = pytest.mark.usefixtures("web_url")

# How long a check waits for the page. The 1-second answer time is checked on the
# page's own measure ("réponse en N ms").
ANSWER_TIMEOUT_MS = 10000


def test_commune_gives_destination(desk):
    desk.goto("/")
    desk.locator("#commune").fill("chamonix")
    desk.locator("#commune-list [role=option]").first.click()
    desk.locator("#submit").click()

    expect(desk.locator("#strategy")).to_have_text(re.compile("Angioplastie primaire|Fibrinolyse"), timeout=ANSWER_TIMEOUT_MS)
    expect(desk.locator("#answer-destination")).not_to_be_empty()
    expect(desk.locator("table.alternatives tbody tr")).not_to_have_count(0)
    expect(desk.locator(".rules li")).not_to_have_count(0)
    assert desk.outside.urls == []


def test_keyboard_only_under_five_keys(desk):
    desk.goto("/")
    expect(desk.locator("#commune")).to_be_focused()

    desk.keyboard.type("Chamonix")
    desk.keyboard.press("Enter")
    expect(desk.locator("#commune")).to_have_value("Chamonix-Mont-Blanc (74)")
    desk.keyboard.press("Enter")

    expect(desk.locator("#answer-destination")).not_to_be_empty(timeout=ANSWER_TIMEOUT_MS)
    assert "Chamonix-Mont-Blanc" in desk.locator("#answer .meta").first.inner_text()
    network_line = desk.locator("#answer .meta").nth(1).inner_text()
    assert re.search(r" v\d+-", network_line), network_line
    assert " vv" not in network_line
    # The page shows how long the answer took; its speed is measured in the benchmarks, not here.
    assert re.search(r"\d+ ms", desk.locator("#elapsed").inner_text())


def test_keyboard_shortcuts_set_onset_and_age(desk):
    desk.goto("/")
    desk.keyboard.type("Val Thorens")
    desk.keyboard.press("Enter")
    expect(desk.locator("#commune")).to_have_value(re.compile("^Val Thorens"))

    desk.keyboard.press("Alt+2")
    expect(desk.locator("input[name=onset][value='60']")).to_be_checked()
    desk.keyboard.press("Alt+A")
    expect(desk.locator("#age")).to_be_focused()
    desk.keyboard.type("62")
    desk.keyboard.press("Enter")

    expect(desk.locator("#answer-destination")).not_to_be_empty(timeout=ANSWER_TIMEOUT_MS)
    symptoms = desk.locator("#answer .meta").first.inner_text()
    assert "Val Thorens" in symptoms
    assert "62 ans" in symptoms
    # One hour before the call, plus the SMUR's dispatch, drive and the ECG.
    symptom_min = int(re.search(r"Symptômes depuis (\d+) min", symptoms).group(1))
    assert 70 <= symptom_min <= 180


@pytest.mark.parametrize("field", ["onset", "shock", "contraindication"])
def test_enter_submits_from_any_field(desk, field):
    desk.goto("/")
    desk.keyboard.type("Grenoble")
    desk.keyboard.press("Enter")
    expect(desk.locator("#commune")).to_have_value("Grenoble (38)")

    target = desk.locator(f"[name={field}]").first
    target.focus()
    expect(target).to_be_focused()
    desk.keyboard.press("Enter")
    expect(desk.locator("#answer-destination")).not_to_be_empty(timeout=ANSWER_TIMEOUT_MS)


def test_page_works_without_map_library(desk):
    desk.route("**/static/leaflet/**", lambda route: route.abort())
    desk.goto("/")
    expect(desk.locator("#map")).to_contain_text("Carte indisponible")

    desk.keyboard.type("Chamonix")
    desk.keyboard.press("Enter")
    desk.keyboard.press("Enter")
    expect(desk.locator("#answer-destination")).not_to_be_empty(timeout=ANSWER_TIMEOUT_MS)


def test_tab_order_follows_the_form(desk):
    desk.goto("/")
    order = []
    for _ in range(4):
        desk.keyboard.press("Tab")
        order.append(desk.evaluate("document.activeElement.id || document.activeElement.name"))
    assert order == ["coords", "onset", "onset-precise", "age"]


@pytest.mark.parametrize(
    ("typed", "lat", "lon"),
    [
        ("45.9237, 6.8694", 45.9237, 6.8694),
        ("45,9237 6,8694", 45.9237, 6.8694),
        ("45°55'25.3\"N 6°52'10.1\"E", 45.923694, 6.869472),
        ("45°55'25,3\"N, 6°52'10,1\"E", 45.923694, 6.869472),
        ("45° 55′ 25.3″ N 6° 52′ 10.1″ E", 45.923694, 6.869472),
        ("E 6°52.168' N 45°55.421'", 45.923683, 6.869467),
        ("-12.5; 130.8", -12.5, 130.8),
        ("45°55'25\"S 6°52'10\"O", -45.923611, -6.869444),
    ],
)
def test_coordinates_are_parsed(desk, typed, lat, lon):
    desk.goto("/")
    parsed = desk.evaluate("(text) => R.parseCoordinates(text)", typed)
    assert parsed == {"lat": lat, "lon": lon}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("45.92", "il en faut deux"),
        ("45.9 6.8 7.1", "il en faut deux"),
        ("abc", "Coordonnées illisibles"),
        ("45°75'10\"N 6°52'10\"E", "au plus 59,999"),
        ("95.1, 6.8", "Latitude 95.1 hors de -90 à 90"),
        ("45°N 46°N", "deux valeurs de même axe"),
    ],
)
def test_bad_coordinates_error_beside_field(desk, typed, expected):
    desk.goto("/")
    desk.locator("#coords").fill(typed)
    desk.locator("#coords").press("Enter")

    error = desk.locator("#coords-error")
    expect(error).to_contain_text(expected)
    expect(desk.locator("#coords")).to_have_attribute("aria-invalid", "true")
    expect(desk.locator("#coords")).to_be_focused()
    expect(desk.locator("#answer .empty")).to_be_visible()


def test_point_outside_region_error_beside_field(desk):
    desk.goto("/")
    desk.locator("#coords").fill("46.2044, 6.1432")
    desk.locator("#coords").press("Enter")

    expect(desk.locator("#coords-error")).to_contain_text("hors de la région", timeout=ANSWER_TIMEOUT_MS)


def test_unknown_commune_error_beside_field(desk):
    desk.goto("/")
    desk.locator("#commune").fill("Zzzville")
    expect(desk.locator("#commune-error")).to_contain_text("Aucune commune")
    desk.locator("#commune").press("Enter")

    expect(desk.locator("#commune-error")).to_contain_text("inconnue dans la région", timeout=ANSWER_TIMEOUT_MS)


def test_english_is_selectable_and_kept(desk):
    desk.goto("/")
    desk.locator("#lang-switch").click()
    expect(desk.locator("#submit")).to_have_text("Recommend")
    desk.locator("#commune").fill("Chamonix")
    desk.locator("#commune").press("Enter")
    desk.locator("#commune").press("Enter")
    expect(desk.locator("#strategy")).to_have_text(re.compile("Primary PCI|fibrinolysis"), timeout=ANSWER_TIMEOUT_MS)

    desk.reload()
    expect(desk.locator("html")).to_have_attribute("lang", "en")
    expect(desk.locator("#submit")).to_have_text("Recommend")
    desk.locator("#coords").fill("45°75'10\"N 6°52'10\"E")
    desk.locator("#coords").press("Enter")
    expect(desk.locator("#coords-error")).to_contain_text("at most 59.999")


@pytest.mark.usefixtures("map_library")
def test_map_draws_region_and_answer(desk):
    desk.goto("/")
    expect(desk.locator("#map .site-icon").first).to_be_attached(timeout=ANSWER_TIMEOUT_MS)
    assert desk.locator("#map .site-icon").count() >= 10

    desk.locator("#commune").fill("Grenoble")
    desk.locator("#commune").press("Enter")
    desk.locator("#commune").press("Enter")
    expect(desk.locator("#strategy")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    assert int(desk.locator("#map").get_attribute("data-route-points")) >= 2

    desk.locator("#map").click(position={"x": 200, "y": 150})
    assert re.fullmatch(r"-?\d+\.\d{5}, -?\d+\.\d{5}", desk.locator("#coords").input_value())


@pytest.mark.usefixtures("map_library")
def test_map_draws_flight_line(desk, web_url):
    """A daytime call from Chamonix goes by air: base, patient and cath lab are drawn."""
    desk.goto("/")
    expect(desk.locator("#map .site-icon").first).to_be_attached(timeout=ANSWER_TIMEOUT_MS)
    answer = desk.request.post(
        f"{web_url}/api/v1/recommendations", data={"commune": "Chamonix", "onset": "2026-07-14T10:00+02:00", "at": "2026-07-14T11:00+02:00"}
    ).json()
    assert answer["transport"] == "helicopter", answer["air"]["reason"]

    desk.evaluate("(answer) => window.regulatorMap.showAnswer(answer)", answer)
    assert desk.locator("#map").get_attribute("data-flight-points") == "3"
    assert desk.locator("#map").get_attribute("data-route-points") == "0"


def test_resource_panel_states(desk, web_url):
    desk.goto("/")
    status = desk.locator("#resources .resource-status")
    expect(status).not_to_be_empty(timeout=ANSWER_TIMEOUT_MS)
    response = desk.request.get(f"{web_url}/api/v1/resources")
    if response.status == 404:
        expect(status).to_contain_text("indisponible")
    else:
        expect(desk.locator("#resources .unit").first).to_be_visible()


def test_print_shows_answer_only(desk):
    desk.goto("/")
    desk.locator("#commune").fill("Chamonix")
    desk.locator("#commune").press("Enter")
    desk.locator("#commune").press("Enter")
    expect(desk.locator("#strategy")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)

    desk.emulate_media(media="print")
    expect(desk.locator("#call-form")).to_be_hidden()
    expect(desk.locator("#map")).to_be_hidden()
    expect(desk.locator("#strategy")).to_be_visible()
    expect(desk.locator("#answer .print-only")).to_be_visible()


def test_smur_page_on_phone(phone):
    phone.goto("/smur")
    phone.locator("#geolocate").tap()
    expect(phone.locator("#coords")).to_have_value("45.92370, 6.86940")
    phone.locator("#submit").tap()

    expect(phone.locator("#destination")).not_to_be_empty(timeout=ANSWER_TIMEOUT_MS)
    expect(phone.locator(".cards .card")).not_to_have_count(0)
    box = phone.locator("#submit").bounding_box()
    assert box["height"] >= 44
    assert box["width"] >= 300
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone.outside.urls == []


def test_pages_work_offline(desk):
    """Every request goes to 127.0.0.1: no tile, font or CDN is asked for."""
    seen = []
    desk.on("request", lambda request: seen.append(request.url))
    desk.goto("/")
    desk.locator("#commune").fill("Chamonix")
    desk.locator("#commune").press("Enter")
    desk.locator("#commune").press("Enter")
    expect(desk.locator("#strategy")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    desk.goto("/smur")
    expect(desk.locator("#submit")).to_be_visible()

    assert desk.outside.urls == []
    assert seen
    assert all(url.startswith("http://127.0.0.1:") or url.startswith("data:") for url in seen), seen


@pytest.mark.usefixtures("map_library")
def test_screenshots_for_readme(desk, phone, tmp_path):
    folder = README_SCREENSHOTS_DIR if os.environ.get("RESURCOR_UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    desk.goto("/")
    expect(desk.locator("#map .site-icon").first).to_be_attached(timeout=ANSWER_TIMEOUT_MS)
    desk.keyboard.type("Chamonix")
    desk.keyboard.press("Enter")
    desk.keyboard.press("Enter")
    expect(desk.locator("#strategy")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    desk.wait_for_timeout(400)
    desk.screenshot(path=folder / "regulator.png")

    phone.goto("/smur")
    phone.locator("#geolocate").tap()
    expect(phone.locator("#coords")).not_to_have_value("")
    phone.locator("#submit").tap()
    expect(phone.locator("#destination")).not_to_be_empty(timeout=ANSWER_TIMEOUT_MS)
    phone.evaluate("window.scrollTo(0, 0)")
    phone.screenshot(path=folder / "smur.png", full_page=True)

    assert (folder / "regulator.png").stat().st_size > 10_000
    assert (folder / "smur.png").stat().st_size > 10_000


def _answer_for_chamonix(desk) -> None:
    desk.goto("/")
    desk.locator("#commune").fill("Chamonix")
    desk.locator("#commune").press("Enter")
    desk.locator("#commune").press("Enter")
    expect(desk.locator("#strategy")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)


def _answer_points(desk) -> int:
    """Return the points of the road and flight lines drawn on the map."""
    map_box = desk.locator("#map")
    return int(map_box.get_attribute("data-route-points") or 0) + int(map_box.get_attribute("data-flight-points") or 0)


@pytest.mark.usefixtures("map_library")
def test_place_error_clears_previous_answer(desk):
    _answer_for_chamonix(desk)
    assert _answer_points(desk) > 0

    # Geneva is outside the region: the service rejects it, and Chamonix's answer goes.
    desk.locator("#coords").fill("46.2044, 6.1432")
    desk.locator("#coords").press("Enter")
    expect(desk.locator("#coords-error")).to_contain_text("hors de la région", timeout=ANSWER_TIMEOUT_MS)
    expect(desk.locator("#strategy")).to_have_count(0)
    expect(desk.locator("#answer")).not_to_contain_text("Chamonix")
    expect(desk.locator("#answer-discarded")).to_contain_text("Réponse précédente effacée")
    assert _answer_points(desk) == 0

    # Alt+L shows the service's error in English, and never brings the old answer back.
    desk.keyboard.press("Alt+L")
    expect(desk.locator("#coords-error")).to_contain_text("outside the region", timeout=ANSWER_TIMEOUT_MS)
    expect(desk.locator("#answer-discarded")).to_contain_text("Previous answer cleared")
    expect(desk.locator("#strategy")).to_have_count(0)


def test_field_error_clears_answer_and_follows_language(desk):
    _answer_for_chamonix(desk)

    # Swapped coordinates: the page itself finds the latitude out of range.
    desk.locator("#coords").fill("95.1, 6.8")
    desk.locator("#coords").press("Enter")
    expect(desk.locator("#coords-error")).to_contain_text("Latitude 95.1 hors de -90 à 90")
    expect(desk.locator("#strategy")).to_have_count(0)
    expect(desk.locator("#answer-discarded")).to_be_visible()

    desk.keyboard.press("Alt+L")
    expect(desk.locator("#coords-error")).to_contain_text("Latitude 95.1 is outside -90 to 90")
    expect(desk.locator("#strategy")).to_have_count(0)

    # A valid place afterwards gives a new answer in the language now chosen.
    desk.locator("#coords").fill("45.9237, 6.8694")
    desk.locator("#coords").press("Enter")
    expect(desk.locator("#strategy")).to_have_text(re.compile("Primary PCI|fibrinolysis"), timeout=ANSWER_TIMEOUT_MS)
    expect(desk.locator("#answer-discarded")).to_have_count(0)
