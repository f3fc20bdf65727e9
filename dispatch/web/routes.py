"""Routes of the pages, their files and the JSON endpoints only the pages need."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from dispatch.auth import Permission, Principal
from dispatch.i18n import LANGUAGES, catalogue, translate
from dispatch.resources.model import STATES
from dispatch.service import ServiceContext
from dispatch.web.assets import STATIC_DIR, TEMPLATES_DIR, leaflet_dir, resolve_under
from dispatch.web.completion import complete
from dispatch.web.layers import map_layers_json

logger = logging.getLogger(__name__)

router = APIRouter()
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

LANG_COOKIE = "resurcor_lang"

# Catalogue sections the pages show: their own texts and the answer's labels.
_PAGE_TEXT_PREFIXES = ("web.", "strategy.", "transport.", "chain.", "timeline.", "state.", "label.air")

COMPLETION_MAX = 20


def _page_texts() -> dict[str, dict[str, str]]:
    """Return {lang: {key: text}} for every text the pages show."""
    entries = {key: entry for key, entry in catalogue().items() if key.startswith(_PAGE_TEXT_PREFIXES)}
    return {lang: {key: entry[lang] for key, entry in entries.items()} for lang in LANGUAGES}


def _page_lang(request: Request) -> str:
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return request.app.state.settings.lang


def _allow(permission: Permission):
    """Return a dependency admitting a request whose token grants ``permission``."""

    def dependency(request: Request) -> Principal:
        return request.app.state.tokens.require(request.headers.get("authorization"), permission)

    return dependency


def _json(content: Any) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


def _render(request: Request, template: str, title_key: str) -> HTMLResponse:
    lang = _page_lang(request)
    texts = _page_texts()

    def text(key: str, **params: Any) -> str:
        return translate(key, lang, **params)

    return templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "t": text,
            "title": text(title_key),
            "texts_json": orjson.dumps(texts).decode().replace("</", "<\\/"),
            "map_available": leaflet_dir() is not None,
        },
        headers={"cache-control": "no-store"},
    )


@router.get("/", include_in_schema=False)
def regulator_page(request: Request) -> HTMLResponse:
    return _render(request, "regulator.html", "web.title.regulator")


@router.get("/smur", include_in_schema=False)
def smur_page(request: Request) -> HTMLResponse:
    return _render(request, "smur.html", "web.title.smur")


@router.get("/static/web/{name:path}", include_in_schema=False)
def static_file(name: str) -> FileResponse:
    path = resolve_under(STATIC_DIR, name)
    if path is None:
        raise HTTPException(404)
    return FileResponse(path)


@router.get("/static/leaflet/{name:path}", include_in_schema=False)
def leaflet_file(name: str) -> FileResponse:
    folder = leaflet_dir()
    path = resolve_under(folder, name) if folder is not None else None
    if path is None:
        raise HTTPException(404)
    return FileResponse(path)


@router.get("/api/v1/web/config", summary="Settings the pages read at start: token requirement, map and resource states")
def page_config(request: Request) -> Response:
    """Tell a page whether it must send a token and what it can draw; needs no token itself."""
    context: ServiceContext = request.app.state.context
    return _json(
        {
            "tokens_required": not request.app.state.tokens.open,
            "map_available": leaflet_dir() is not None,
            "default_lang": request.app.state.settings.lang,
            "region": {"id": context.region.id, "name": context.region.name},
            "resource_states": {kind.value: list(states) for kind, states in STATES.items()},
        }
    )


@router.get("/api/v1/communes", summary="Communes and network places matching a typed name, for completion")
def communes(
    request: Request,
    _: Annotated[Principal, Depends(_allow(Permission.READ_RECOMMENDATIONS))],
    q: Annotated[str, Query(max_length=80, description="the typed name; accents, case and separators ignored")] = "",
    limit: Annotated[int, Query(ge=1, le=COMPLETION_MAX, description="most suggestions returned")] = 8,
) -> Response:
    """Return ``{"query", "suggestions": [{label, value, kind, insee, departement, lat, lon}]}``.

    ``value`` is what to send as ``commune`` in a recommendation request.
    """
    suggestions = complete(request.app.state.context, q, limit) if q.strip() else []
    return _json({"query": q, "suggestions": [s.to_json() for s in suggestions]})


@router.get("/api/v1/map/layers", summary="Boundary, roads, communes and sites of the region as GeoJSON (WGS84)")
def map_layers(request: Request, _: Annotated[Principal, Depends(_allow(Permission.READ_RECOMMENDATIONS))]) -> Response:
    return Response(map_layers_json(request.app.state.context), media_type="application/json")
