"""The JSON endpoints and HTML the pages read, without a browser."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dispatch.api import create_app
from dispatch.auth import Role, add_token
from dispatch.web import routes


@pytest.fixture(scope="module")
def client(settings, context):
    with TestClient(create_app(settings, context=context)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def secured(settings, context, tmp_path_factory):
    path = tmp_path_factory.mktemp("web-tokens") / "tokens.yaml"
    token = add_token(path, "desk-1", Role.REGULATOR)
    with TestClient(create_app(settings.model_copy(update={"tokens_file": path}), context=context)) as test_client:
        yield test_client, token


@pytest.mark.parametrize(
    ("typed", "first_label", "first_value"),
    [
        ("Chamonix", "Chamonix-Mont-Blanc (74)", "Chamonix-Mont-Blanc"),
        ("CHAMONIX", "Chamonix-Mont-Blanc (74)", "Chamonix-Mont-Blanc"),
        ("val d'isere", "Val-d'Isère (73)", "Val-d'Isère"),
        ("Val Thorens", "Val Thorens – Les Belleville (73)", "Val Thorens"),
        ("val tho", "Val Thorens – Les Belleville (73)", "Val Thorens"),
        ("grenoble", "Grenoble (38)", "Grenoble"),
    ],
)
def test_completion_first_match(client, typed, first_label, first_value):
    response = client.get("/api/v1/communes", params={"q": typed})
    assert response.status_code == 200
    first = response.json()["suggestions"][0]
    assert first["label"] == first_label
    assert first["value"] == first_value


def test_completion_value_resolves_to_same_place(client):
    """Each suggestion's value, sent as the commune, locates the patient where the suggestion shows."""
    suggestions = client.get("/api/v1/communes", params={"q": "saint gervais", "limit": 5}).json()["suggestions"]
    assert len(suggestions) >= 2
    for suggestion in suggestions:
        answer = client.post("/api/v1/recommendations", json={"commune": suggestion["value"]})
        assert answer.status_code == 200, (suggestion, answer.json())
        if suggestion["kind"] == "commune":
            assert answer.json()["patient"]["commune"]["insee"] == suggestion["insee"]


def test_completion_limit_and_empty_query(client):
    assert client.get("/api/v1/communes", params={"q": "sa", "limit": 3}).json()["suggestions"].__len__() == 3
    assert client.get("/api/v1/communes", params={"q": "  "}).json()["suggestions"] == []
    assert client.get("/api/v1/communes", params={"q": "zzzzz"}).json()["suggestions"] == []


def test_completion_limit_out_of_range(client):
    response = client.get("/api/v1/communes", params={"q": "cham", "limit": 500}, headers={"accept-language": "fr"})
    assert response.status_code == 422
    assert "limit" in response.json()["error"]["field"]


def test_map_layers_are_geojson(client):
    layers = client.get("/api/v1/map/layers").json()
    (south, west), (north, east) = layers["bounds"]
    assert 44.5 < south < north < 46.6
    assert 4.5 < west < east < 7.3
    assert layers["boundary"]["features"][0]["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert {f["properties"]["class"] for f in layers["roads"]["features"]} >= {"motorway", "trunk"}
    assert len(layers["communes"]["features"]) > 1000
    roles = {role for f in layers["sites"]["features"] for role in f["properties"]["roles"]}
    assert roles == {"cath_lab", "cath_lab_unconfirmed", "smur", "heli"}


def test_config_without_tokens(client):
    config = client.get("/api/v1/web/config").json()
    assert config["tokens_required"] is False
    assert config["resource_states"]["helicopter"][0] == "available"


def test_page_endpoints_need_token_when_configured(secured):
    client, token = secured
    assert client.get("/api/v1/web/config").json()["tokens_required"] is True
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/communes", params={"q": "cham"}).status_code == 401
    assert client.get("/api/v1/map/layers").status_code == 401
    authorised = {"authorization": f"Bearer {token}"}
    assert client.get("/api/v1/communes", params={"q": "cham"}, headers=authorised).status_code == 200
    assert client.get("/api/v1/map/layers", headers=authorised).status_code == 200


@pytest.mark.usefixtures("map_library")
def test_pages_in_french_then_english(client):
    french = client.get("/")
    assert french.status_code == 200
    assert '<html lang="fr">' in french.text
    assert "Commune ou station" in french.text
    assert "/static/leaflet/leaflet.js" in french.text

    by_cookie = client.get("/smur", headers={"cookie": "resurcor_lang=en"})
    assert '<html lang="en">' in by_cookie.text
    assert "My position" in by_cookie.text
    by_query = client.get("/", params={"lang": "en"})
    assert "Commune or resort" in by_query.text


def test_page_without_map_library(client, monkeypatch):
    monkeypatch.setattr(routes, "leaflet_dir", lambda: None)
    page = client.get("/")
    assert page.status_code == 200
    assert "leaflet.js" not in page.text
    assert "Commune ou station" in page.text


@pytest.mark.usefixtures("map_library")
def test_static_files_stay_in_their_folder(client):
    assert client.get("/static/web/common.js").status_code == 200
    assert client.get("/static/leaflet/leaflet.css").status_code == 200
    assert client.get("/static/web/../routes.py").status_code == 404
    assert client.get("/static/web/%2e%2e/routes.py").status_code == 404
    assert client.get("/static/leaflet/../../package.json").status_code == 404


def test_every_page_text_has_both_languages():
    texts = routes._page_texts()
    assert set(texts["fr"]) == set(texts["en"])
    assert "web.coords.invalid" in texts["fr"]
    assert "chain.transport" in texts["en"]
