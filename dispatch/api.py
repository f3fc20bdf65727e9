"""HTTP API (FastAPI), versioned under ``/api/v1``.

Every error is JSON ``{"error": {"code", "field", "message"}}`` with the message in the
request's language: 422 for an invalid field, 404 and 405 for a wrong path or method,
503 when the service has no usable network. The OpenAPI page at ``/docs`` is served
from the package, with no external asset, because a SAMU network is closed.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from swagger_ui_bundle import swagger_ui_path

from geodata.errors import CacheError, InputError, ResurcorError
from dispatch.auth import AuthError, Permission, Principal, TokenRegistry, WatchedTokens, open_tokens
from dispatch.calls import parse_call
from dispatch.i18n import LANGUAGES, error_text, translate
from dispatch.recommend import recommend
from dispatch.registry.recorder import record_answer
from dispatch.resources import ResourceSnapshot
from dispatch.schemas import ErrorBody, Health, Recommendation, RecommendationRequest
from dispatch.service import ServiceContext, load_context
from dispatch.settings import Settings
from dispatch.web import router as web_router

logger = logging.getLogger(__name__)

_REQUEST_FIELDS = ", ".join(RecommendationRequest.model_fields)

_LANG_PARAMETERS = [
    {
        "name": "lang",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": list(LANGUAGES)},
        "description": "language of texts and errors when the body has no `lang`",
    },
    {
        "name": "Accept-Language",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "used when neither the body nor the query names a language",
    },
]

_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "an invalid field, named in `error.field`"},
    503: {"model": ErrorBody, "description": "no usable road network"},
}


class JSONBytes(Response):
    """A JSON response serialised with orjson, the fastest encoder for the plain dicts of answers."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _request_lang(request: Request, body_lang: str | None = None) -> str:
    if body_lang in LANGUAGES:
        return body_lang
    query = request.query_params.get("lang")
    if query in LANGUAGES:
        return query
    accept = request.headers.get("accept-language", "")
    if accept[:2].lower() in LANGUAGES:
        return accept[:2].lower()
    return request.app.state.settings.lang


def _error(status: int, code: str, field: str | None, message: str) -> JSONBytes:
    return JSONBytes(status_code=status, content={"error": {"code": code, "field": field, "message": message}})


def require(permission: Permission):
    """Return a FastAPI dependency that admits a request whose token grants ``permission``.

    The dependency returns the request's Principal; a refused request gets a 401 or 403
    error from the AuthError handler.
    """

    def dependency(request: Request) -> Principal:
        tokens: TokenRegistry | WatchedTokens = request.app.state.tokens
        return tokens.require(request.headers.get("authorization"), permission)

    return dependency


def _validation_message(error: dict[str, Any], lang: str) -> tuple[str, str, str]:
    """Return (field, code, message) for the first pydantic error of a request body."""
    location = [str(p) for p in error.get("loc", ()) if p != "body"]
    field = ".".join(location) or "body"
    kind = error.get("type", "")
    raw = error.get("input")
    # Show the value as the caller wrote it in JSON (true, null), not as Python prints it.
    value = raw if isinstance(raw, str) else orjson.dumps(raw, default=str).decode()

    if kind in {"json_invalid", "json_type", "model_type", "model_attributes_type", "dict_type"}:
        return "body", "body_invalid", translate("error.body_invalid", lang)
    if kind == "extra_forbidden":
        return field, "unknown_field", translate("error.unknown_field", lang, field=field, allowed=_REQUEST_FIELDS)
    if kind == "missing":
        return field, "field_missing", translate("error.field_missing", lang, field=field)
    if kind in {"float_type", "float_parsing"}:
        return field, "field_invalid", translate("error.type_number", lang, field=field, value=value)
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return field, "field_invalid", translate("error.type_integer", lang, field=field, value=value)
    if kind in {"bool_type", "bool_parsing"}:
        return field, "field_invalid", translate("error.type_boolean", lang, field=field, value=value)
    if kind == "string_type":
        return field, "field_invalid", translate("error.type_string", lang, field=field, value=value)
    if kind == "literal_error":
        choices = str(error.get("ctx", {}).get("expected", "")).replace("'", "").replace(" or ", ", ")
        return field, "field_invalid", translate("error.type_choice", lang, field=field, value=value, choices=choices)
    return field, "field_invalid", translate("error.field_invalid", lang, field=field, detail=error.get("msg", ""))


def _pick_lang(context: ServiceContext, body_lang: str | None, query_lang: str | None, accept_language: str) -> str:
    for candidate in (body_lang, query_lang, accept_language[:2].lower()):
        if candidate in LANGUAGES:
            return candidate
    return context.settings.lang


def resource_snapshot(app: FastAPI) -> ResourceSnapshot | None:
    """The live resource states for a recommendation, or None when the app has no store."""
    store = getattr(app.state, "store", None)
    return store.snapshot() if store is not None else None


def answer_recommendation(
    context: ServiceContext,
    raw_body: bytes,
    query_lang: str | None,
    accept_language: str,
    resources: ResourceSnapshot | None = None,
) -> tuple[int, dict[str, Any]]:
    """Validate a request body and compute its answer; return the HTTP status and JSON content.

    Every expected failure becomes an error body here, so both the fast path and the
    routed endpoint answer the same way.
    """
    # pydantic's JSON parser validates the raw bytes in one pass.
    try:
        body = RecommendationRequest.model_validate_json(raw_body)
    except ValidationError as err:
        field, code, message = _validation_message(err.errors()[0], _pick_lang(context, None, query_lang, accept_language))
        return 422, {"error": {"code": code, "field": field, "message": message}}

    lang = _pick_lang(context, body.lang, query_lang, accept_language)
    try:
        call = parse_call(
            context.region,
            lat=body.lat,
            lon=body.lon,
            commune=body.commune,
            onset=body.onset,
            at=body.at,
            now=datetime.now(UTC),
            age=body.age,
            shock=body.shock,
            arrest=body.arrest,
            contraindication=body.contraindication,
            lang=lang,
            places=context.places,
            landable=body.landable,
        )
        return 200, record_answer(context, recommend(context, call, resources=resources))
    except InputError as err:
        return 422, {"error": {"code": err.code, "field": err.field, "message": error_text(err, lang)}}
    except ResurcorError as err:
        logger.error("recommendation failed: %s", err)
        return 500, {"error": {"code": err.code, "field": err.field, "message": error_text(err, lang)}}


class RecommendationFastPath:
    """Outer ASGI app answering POST /api/v1/recommendations before FastAPI sees it.

    Every other request, and the lifespan events, go to the FastAPI app, whose attributes
    (``state``, ``openapi``) this wrapper also exposes.

    Skipping FastAPI's middleware, routing, dependency and exception layers raised
    throughput by about 10 % with wrk on 127.0.0.1 (2 cores). A recommendation is a few hundred microseconds
    of CPU with no I/O once the trees are warm, so it runs on the event loop: a
    thread-pool hop would cost more than the work.
    """

    PATH = "/api/v1/recommendations"

    def __init__(self, app: FastAPI):
        self.app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != self.PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return

        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)

        query_lang = None
        for pair in scope.get("query_string", b"").decode("latin-1").split("&"):
            if pair.startswith("lang="):
                query_lang = pair[5:]
        accept_language = ""
        authorization = None
        for name, value in scope.get("headers", []):
            if name == b"accept-language":
                accept_language = value.decode("latin-1")
            elif name == b"authorization":
                authorization = value.decode("latin-1")

        try:
            self.app.state.tokens.require(authorization, Permission.READ_RECOMMENDATIONS)
        except AuthError as err:
            lang = _pick_lang(self.app.state.context, None, query_lang, accept_language)
            status, content = err.status, {"error": {"code": err.code, "field": err.field, "message": error_text(err, lang)}}
        else:
            status, content = answer_recommendation(
                self.app.state.context, b"".join(chunks), query_lang, accept_language, resource_snapshot(self.app)
            )
        payload = orjson.dumps(content)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _health_message(resources_reachable: bool, registry_reachable: bool, lang: str) -> str:
    if resources_reachable and registry_reachable:
        return translate("label.health_ok", lang)
    if registry_reachable:
        return translate("label.health_degraded", lang)
    if resources_reachable:
        return translate("label.health_registry_degraded", lang)
    return f"{translate('label.health_degraded', lang)}; {translate('label.health_registry_also', lang)}"


def create_app(settings: Settings, context: ServiceContext | None = None) -> RecommendationFastPath:
    """Return the application; ``context`` is loaded at start-up when not given."""
    # Imported here because the registry's routes use this module's helpers.
    from dispatch.api_registry import registry_lifespan, router as registry_router

    # Imported here: the resource endpoints use this module's error helpers.
    from dispatch.api_resources import install_resources
    from dispatch.resources.factory import open_store

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        if app.state.context is None:
            app.state.context = load_context(settings)
        if app.state.store is None:
            app.state.store = open_store(settings, app.state.context.region)
        async with registry_lifespan(app):
            yield
        app.state.resource_streams.end_all()
        app.state.store.close()

    app = FastAPI(
        lifespan=lifespan,
        title="resurcor",
        version="0.1.0",
        description="STEMI reperfusion decision support: primary PCI or prehospital fibrinolysis, destination and transport. The physician decides.",
        default_response_class=JSONBytes,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.context = context
    app.state.tokens = open_tokens(settings.tokens_file)
    app.state.store = None
    install_resources(app)
    app.include_router(registry_router)
    app.mount("/static/swagger", StaticFiles(directory=str(swagger_ui_path)), name="swagger")
    app.include_router(web_router)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="resurcor API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONBytes:
        field, code, message = _validation_message(exc.errors()[0], _request_lang(request))
        return _error(422, code, field, message)

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError) -> JSONBytes:
        return _error(exc.status, exc.code, exc.field, error_text(exc, _request_lang(request)))

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONBytes:
        return _error(422, exc.code, exc.field, error_text(exc, getattr(request.state, "lang", _request_lang(request))))

    @app.exception_handler(CacheError)
    async def _cache(request: Request, exc: CacheError) -> JSONBytes:
        logger.error("request on %s failed: %s", request.url.path, exc)
        return _error(503, exc.code, None, error_text(exc, _request_lang(request)))

    @app.exception_handler(ResurcorError)
    async def _other(request: Request, exc: ResurcorError) -> JSONBytes:
        logger.error("request on %s failed: %s", request.url.path, exc)
        return _error(500, exc.code, exc.field, error_text(exc, _request_lang(request)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONBytes:
        lang = _request_lang(request)
        if exc.status_code == 404:
            return _error(404, "not_found", None, translate("error.not_found", lang, path=request.url.path))
        if exc.status_code == 405:
            return _error(405, "method_not_allowed", None, translate("error.method_not_allowed", lang, method=request.method, path=request.url.path))
        return _error(exc.status_code, "http_error", None, str(exc.detail))

    @app.post(
        "/api/v1/recommendations",
        summary="Recommend a reperfusion strategy, destination and transport",
        response_model=None,
        response_class=JSONResponse,
        responses={200: {"model": Recommendation, "description": "the recommendation and every figure and rule behind it"}, **_ERROR_RESPONSES},
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": RecommendationRequest.model_json_schema()}}},
            "parameters": _LANG_PARAMETERS,
        },
    )
    async def create_recommendation(request: Request, _: Principal = Depends(require(Permission.READ_RECOMMENDATIONS))) -> JSONBytes:
        # Requests normally take the fast path below; this route documents the endpoint
        # in OpenAPI and serves any request that reaches the router all the same.
        status, content = answer_recommendation(
            request.app.state.context,
            await request.body(),
            request.query_params.get("lang"),
            request.headers.get("accept-language", ""),
            resource_snapshot(request.app),
        )
        return JSONBytes(content, status_code=status)

    from dispatch import api_planning

    api_planning.install(app, settings, require)

    @app.get(
        "/api/v1/health",
        summary="Service state: network source and cache version",
        response_model=None,
        response_class=JSONResponse,
        responses={200: {"model": Health}},
        openapi_extra={"parameters": _LANG_PARAMETERS},
    )
    def health(request: Request) -> JSONBytes:
        context: ServiceContext = request.app.state.context
        network = context.network
        resources = request.app.state.store.health()
        # Imported here because the registry's routes use this module's helpers.
        from dispatch.api_registry import registry_health

        registry = registry_health(request.app)
        # An unreachable Redis or registry database still leaves a working service:
        # answers carry unknown unit states, and live answers wait in the recorder's queue.
        status = "ok" if resources["reachable"] and registry["reachable"] else "degraded"
        return JSONBytes(
            {
                "status": status,
                "message": _health_message(resources["reachable"], registry["reachable"], _request_lang(request)),
                "region": context.region.id,
                "network": {
                    "source": network.source.kind,
                    "name": network.source.name,
                    "version": network.version,
                    "approximate": network.source.approximate,
                    "built_at": network.built_at.isoformat(),
                    "nodes": network.node_count,
                    "edges": network.edge_count,
                },
                "profile": context.profile.name,
                "sites_version": context.region.sites.version,
                "started_at": context.loaded_at.isoformat(),
                "resources": resources,
                "registry": registry,
            }
        )

    return RecommendationFastPath(app)
