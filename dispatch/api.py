"""HTTP API (FastAPI), versioned under ``/api/v1``.

Errors are JSON ``{"error": {"code", "field", "message"}}``: 422 for an invalid field
(the message in the request's language), 503 when the service has no usable network.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from geodata.errors import CacheError, InputError, ResurcorError
from dispatch.calls import parse_call
from dispatch.i18n import LANGUAGES, error_text, translate
from dispatch.recommend import recommend
from dispatch.service import ServiceContext, load_context
from dispatch.settings import Settings

logger = logging.getLogger(__name__)


class JSONBytes(Response):
    """A JSON response serialised with orjson: answers are plain dicts, and orjson is the fastest encoder."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class RecommendationRequest(BaseModel):
    """A STEMI call: where the patient is, when symptoms began, and the patient flags."""

    model_config = ConfigDict(extra="forbid")

    lat: float | None = Field(default=None, description="patient latitude, decimal degrees (WGS84)", examples=[45.9237])
    lon: float | None = Field(default=None, description="patient longitude, decimal degrees (WGS84)", examples=[6.8694])
    commune: str | None = Field(default=None, description="commune name; locates the patient when lat/lon are absent", examples=["Chamonix"])
    onset: str | None = Field(default=None, description="symptom onset, ISO 8601; without offset read as the region's local time")
    at: str | None = Field(default=None, description="time of the call, ISO 8601; default: now")
    age: int | None = Field(default=None, description="age in years")
    shock: bool = Field(default=False, description="cardiogenic shock")
    arrest: bool = Field(default=False, description="resuscitated cardiac arrest")
    contraindication: Literal["absolute", "relative"] | None = Field(default=None, description="contraindication to fibrinolysis")
    lang: Literal["fr", "en"] | None = Field(default=None, description="language of the texts; default fr")


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


def _validation_message(error: dict[str, Any], lang: str) -> tuple[str, str, str]:
    location = [str(p) for p in error.get("loc", ()) if p != "body"]
    field = ".".join(location) or "body"
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return field, "unknown_field", translate("error.unknown_option", lang, value=field, command="API")
    if kind == "missing":
        return field, "field_missing", translate("error.field_missing", lang, field=field)
    if kind in {"json_invalid", "model_attributes_type", "dict_type"}:
        return field, "body_invalid", translate("error.body_invalid", lang, detail=error.get("msg", ""))
    return field, "field_invalid", translate("error.field_invalid", lang, field=field, detail=error.get("msg", ""))


def create_app(settings: Settings, context: ServiceContext | None = None) -> FastAPI:
    """Return the application; ``context`` is loaded at start-up when not given."""
    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        if app.state.context is None:
            app.state.context = load_context(settings)
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="resurcor",
        version="0.1.0",
        description="STEMI reperfusion decision support: primary PCI or prehospital fibrinolysis, destination and transport. The physician decides.",
        default_response_class=JSONBytes,
    )
    app.state.settings = settings
    app.state.context = context

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONBytes:
        lang = _request_lang(request)
        field, code, message = _validation_message(exc.errors()[0], lang)
        return _error(422, code, field, message)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONBytes:
        return _error(422, exc.code, exc.field, error_text(exc, getattr(request.state, "lang", _request_lang(request))))

    @app.exception_handler(CacheError)
    async def _cache(request: Request, exc: CacheError) -> JSONBytes:
        return _error(503, exc.code, None, error_text(exc, _request_lang(request)))

    @app.exception_handler(ResurcorError)
    async def _other(request: Request, exc: ResurcorError) -> JSONBytes:
        logger.error("request failed: %s", exc)
        return _error(500, exc.code, exc.field, error_text(exc, _request_lang(request)))

    request_schema = RecommendationRequest.model_json_schema()

    @app.post(
        "/api/v1/recommendations",
        summary="Recommend a reperfusion strategy, destination and transport",
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": request_schema}}}},
    )
    async def create_recommendation(request: Request) -> JSONBytes:
        # The body is validated from raw bytes by pydantic's JSON parser, which skips
        # FastAPI's body-parsing layer, the larger share of a request's cost here.
        try:
            body = RecommendationRequest.model_validate_json(await request.body())
        except ValidationError as err:
            lang = _request_lang(request)
            field, code, message = _validation_message(err.errors()[0], lang)
            return _error(422, code, field, message)

        # A recommendation is a few hundred microseconds of CPU and no I/O once the trees
        # are warm, so it runs on the event loop rather than paying a thread-pool hop.
        lang = _request_lang(request, body.lang)
        request.state.lang = lang
        context: ServiceContext = request.app.state.context
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
        )
        return JSONBytes(recommend(context, call))

    @app.get("/api/v1/health", summary="Service state: network source and cache version")
    def health(request: Request) -> dict[str, Any]:
        context: ServiceContext = request.app.state.context
        network = context.network
        return {
            "status": "ok",
            "message": translate("label.health_ok", _request_lang(request)),
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
        }

    return app
