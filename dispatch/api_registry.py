"""The registry on the web service: the report page, the indicators, and recording a case.

The report and indicators are for the planner role (``read_registry``). Recording a case
and linking it to a live recommendation is for the desks and SMUR teams
(``write_registry``). The service records every recommendation it answers when
``RESURCOR_REGISTRY_RECORD`` is on (the default).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Body, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from dispatch.api import JSONBytes, _request_lang, require
from dispatch.auth import Permission, Principal
from dispatch.i18n import error_text, translate
from dispatch.registry.fields import CASE_FIELDS, IDENTITY_COLUMNS, RECOMMENDED_FIELDS
from dispatch.registry.importer import case_check, case_values_json, store_cases
from dispatch.registry.indicators import GROUPINGS, as_json, compute_by, load_frame, read_expected
from dispatch.registry.recorder import Recorder
from dispatch.registry.store import RegistryError, database_url, is_reachable, open_registry
from dispatch.registry.validate import check_case

logger = logging.getLogger(__name__)

router = APIRouter()


@asynccontextmanager
async def registry_lifespan(app: FastAPI):  # noqa: ANN201
    """Open the registry and start the recorder of live answers; store every queued answer at shutdown.

    A registry that cannot be opened does not stop the service: recommendations are still
    answered, without a recommendation id, and the error is logged.
    """
    settings = app.state.settings
    context = app.state.context
    app.state.registry_engine = None
    app.state.registry_error = None
    recorder = None
    try:
        engine = open_registry(settings)
    except RegistryError as err:
        logger.error("registry unavailable, recommendations will not be recorded: %s", err)
        app.state.registry_error = err
        engine = None
    if engine is not None:
        app.state.registry_engine = engine
        if settings.registry_record:
            recorder = Recorder(engine, context.region.crs, settings.state_dir)
            recorder.start()
            context.registry_recorder = recorder
    try:
        yield
    finally:
        if recorder is not None:
            context.registry_recorder = None
            recorder.stop()
        if engine is not None:
            engine.dispose()


def registry_health(app: FastAPI) -> dict[str, Any]:
    """Return the registry's block of the health answer: backend, reachable, writes pending.

    ``pending_writes`` counts live answers queued and not yet stored: it grows while the
    database is unreachable, and they are stored once it answers again.
    """
    engine = app.state.registry_engine
    recorder = app.state.context.registry_recorder
    if engine is not None:
        backend = engine.url.get_backend_name()
        reachable = is_reachable(engine)
        error = None if reachable else "registry_unreachable"
    else:
        backend = _configured_backend(app.state.settings)
        reachable = False
        error = app.state.registry_error.code if app.state.registry_error is not None else "registry_unavailable"

    # A health check is polled, so only a change of state is logged.
    if reachable != getattr(app.state, "registry_reachable", True):
        if reachable:
            logger.info("registry database %s reachable again", backend)
        else:
            logger.error("registry database %s unreachable (%s), %d answers waiting", backend, error, recorder.pending if recorder else 0)
    app.state.registry_reachable = reachable
    return {
        "backend": backend,
        "reachable": reachable,
        "recording": recorder is not None,
        "pending_writes": recorder.pending if recorder is not None else 0,
        "error": error,
    }


def _configured_backend(settings: Any) -> str | None:
    try:
        return make_url(database_url(settings)).get_backend_name()
    except ArgumentError:
        return None


def _unavailable(request: Request) -> JSONBytes:
    """Return the 503 error of a service whose registry could not be opened at start-up."""
    error = request.app.state.registry_error or RegistryError("registry_unavailable", "the registry is not open")
    return _error(503, error.code, error.field, error_text(error, _request_lang(request)))


def _error(status: int, code: str, field: str | None, message: str, **extra: Any) -> JSONBytes:
    return JSONBytes(status_code=status, content={"error": {"code": code, "field": field, "message": message}, **extra})


@router.get("/registry", summary="The registry's report (HTML): indicators per year, département, season and destination", response_class=HTMLResponse)
def registry_page(request: Request, year: int | None = None, _: Principal = Depends(require(Permission.READ_REGISTRY))) -> Response:
    from dispatch.registry.report import registry_report

    engine = request.app.state.registry_engine
    if engine is None:
        return _unavailable(request)
    page, _year = registry_report(engine, request.app.state.context.region, year, _request_lang(request))
    return HTMLResponse(page)


@router.get("/api/v1/registry/indicators", summary="The registry's indicators as JSON, grouped by year, département, season or destination")
def registry_indicators(
    request: Request, by: str = "year", year: int | None = None, _: Principal = Depends(require(Permission.READ_REGISTRY))
) -> JSONBytes:
    lang = _request_lang(request)
    if by not in GROUPINGS:
        return _error(422, "field_invalid", "by", translate("error.type_choice", lang, field="by", value=by, choices=", ".join(GROUPINGS)))
    engine = request.app.state.registry_engine
    if engine is None:
        return _unavailable(request)
    frame = load_frame(engine, request.app.state.context.region.timezone)
    if year is not None:
        frame = frame[frame["year"] == year]
    results = compute_by(frame, by, read_expected(engine) if by == "year" else None)
    return JSONBytes({"by": by, "year": year, "groups": {str(key): as_json(values) for key, values in results.items()}})


@router.post(
    "/api/v1/registry/cases",
    summary="Record a STEMI case, linked to a live recommendation by its recommendation_id",
    status_code=201,
    response_class=JSONResponse,
)
def record_case(
    request: Request, body: dict[str, Any] = Body(...), _: Principal = Depends(require(Permission.WRITE_REGISTRY))
) -> JSONBytes:
    lang = _request_lang(request)
    allowed = set(CASE_FIELDS) | set(RECOMMENDED_FIELDS)
    identity = sorted(name for name in body if name.lower() in IDENTITY_COLUMNS)
    if identity:
        err = RegistryError("registry_identity_fields", "identity fields", field=identity[0], fields=", ".join(identity), count=len(identity))
        return _error(422, err.code, err.field, error_text(err, lang))
    unknown = sorted(name for name in body if name not in allowed)
    if unknown:
        return _error(422, "unknown_field", unknown[0], translate("error.unknown_field", lang, field=unknown[0], allowed=", ".join(sorted(allowed))))

    # A recommendation answered a moment ago may still be on the recorder's queue.
    recorder = request.app.state.context.registry_recorder
    if body.get("recommendation_id") and recorder is not None:
        recorder.flush()

    engine = request.app.state.registry_engine
    if engine is None:
        return _unavailable(request)
    check = case_check(
        engine,
        request.app.state.context.region,
        case_ids=[str(body.get("case_id", "")).strip()],
        case_id_pattern=request.app.state.settings.case_id_pattern,
    )
    case, errors = check_case(body, 1, check)
    if case is None:
        first = errors[0]
        return _error(422, f"registry_{first.code}" if not first.code.startswith("time_") else first.code, first.field, first.text(lang, api=True), errors=[
            {"field": e.field, "code": e.code, "message": e.text(lang, api=True)} for e in errors
        ])
    try:
        store_cases(engine, [case])
    except RegistryError as err:
        # The same case id was stored by another request since the check.
        logger.error("registry: case %s not stored: %s", case.values["case_id"], err)
        return _error(409 if err.code == "registry_import_conflict" else 503, err.code, "case_id", error_text(err, lang))
    logger.info("registry: case %s recorded, recommendation %s", case.values["case_id"], case.values["recommendation_id"])
    return JSONBytes(case_values_json(case.values), status_code=201)
