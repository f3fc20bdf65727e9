"""HTTP endpoints of the live resources under ``/api/v1/resources``.

Every unit of the region is listed, set units or not; ``state`` is the effective state,
``unknown`` when never set, stale, past its ``until`` or read while Redis is unreachable.
Changes need a token whose role grants them, and record the token's name (never the
token) as ``set_by``. A body may name who acts in ``by``: without a tokens file (single
desk) it is recorded as ``set_by``; with tokens the token's name stays authoritative, and
a different ``by`` is kept beside it as ``"<token name> (<by>)"``. ``call_id`` is an opaque call reference, such as the call-taking
software's call number: it must never contain a patient's name or any other identity.

Errors use the API's JSON shape: 404 for an unknown unit in the path (with the valid
ids), 409 for a claim conflict, 422 for an invalid body, 503 when Redis is unreachable
and the change was not recorded.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime
from typing import Any

import orjson
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from geodata.errors import InputError
from dispatch.auth import Permission, Principal
from dispatch.i18n import error_text
from dispatch.resources.events import ReachabilityChange, Subscription
from dispatch.resources.model import ResourceKind, ResourceState
from dispatch.resources.store import ClaimConflict, ResourceStore, StoreUnavailable
from dispatch.resources.units import UnitCatalogue, UnitUnknown, list_units, parse_kind, parse_until, state_view, unit_view

logger = logging.getLogger(__name__)

# A comment line this often keeps proxies and browsers from closing an idle stream.
HEARTBEAT_S = 15.0


BY_DESCRIPTION = (
    "who acts (desk or person, 1 to 64 printable characters): recorded as set_by without a tokens file;"
    " with tokens, set_by is the token's name, followed by (by) when by differs"
)
# The name of a desk or person: printable, no line break, so a log line or a table cell stays one line.
_BY = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")


def recorded_by(request: Request, principal: Principal, by: str | None) -> str:
    """Return the ``set_by`` of a change: the body's ``by`` in single-desk mode, else the token's name (with ``by`` if it differs).

    Raises InputError when ``by`` is empty, longer than 64 characters or contains a control character.
    """
    if by is None:
        return principal.name
    by = by.strip()
    if not _BY.match(by):
        raise InputError("by_invalid", f"by: {by[:64]!r} is not a desk or person name (1 to 64 printable characters)", field="by", value=by[:64])
    if request.app.state.tokens.open:
        return by
    if by == principal.name:
        return principal.name
    return f"{principal.name} ({by})"


class StateChange(BaseModel):
    """A new state for one unit."""

    model_config = ConfigDict(extra="forbid")

    state: str = Field(description="smur: available|engaged|off_duty; helicopter: available|engaged|grounded_weather|off_season; cath_lab: open|saturated|closed")
    until: str | None = Field(
        default=None,
        description="time the state ends: ISO 8601 (without offset: the region's local time) or a clock time alone (08:00, its next occurrence); after it the state reads unknown",
    )
    returns_to: str | None = Field(default=None, description="SMUR base site id an engaged SMUR team returns to")
    by: str | None = Field(default=None, description=BY_DESCRIPTION)


class ClaimRequest(BaseModel):
    """The call a unit is claimed for, or released from."""

    model_config = ConfigDict(extra="forbid")

    call_id: str = Field(description="opaque call reference (the call number): never a patient's name or identity", examples=["2026-12-04-0412"])
    by: str | None = Field(default=None, description=BY_DESCRIPTION)


def _store(request: Request) -> ResourceStore:
    return request.app.state.store


def _units(request: Request) -> UnitCatalogue:
    return _store(request).units


def _parse_body(raw: bytes, model: type[BaseModel]) -> Any:
    """Validate a JSON body; raise InputError naming the first bad field and the fields allowed."""
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "body"
        kind = first.get("type", "")
        allowed = ", ".join(model.model_fields)
        if kind == "json_invalid" or kind == "model_type":
            raise InputError("resource_body_invalid", f"the body is not a JSON object with {allowed}", field="body", allowed=allowed) from err
        if kind == "extra_forbidden":
            raise InputError("unknown_field", f"{field}: unknown field; allowed: {allowed}", field=field, allowed=allowed) from err
        if kind == "missing":
            raise InputError("field_missing", f"{field}: required value missing", field=field) from err
        raise InputError("type_string", f"{field}: expected a string", field=field, value=str(first.get("input"))) from err


def _unit(request: Request, kind_text: str, unit_id: str) -> tuple[ResourceKind, str]:
    kind = parse_kind(kind_text)
    return kind, _units(request).check(kind, unit_id)


def _require(*permissions: Permission):
    """Return a dependency admitting a request whose role has any of ``permissions`` (the last one is reported)."""

    def dependency(request: Request) -> Principal:
        tokens = request.app.state.tokens
        principal = tokens.principal(request.headers.get("authorization"))
        for permission in permissions[:-1]:
            if principal.can(permission):
                return principal
        return tokens.require(request.headers.get("authorization"), permissions[-1])

    return dependency


router = APIRouter(prefix="/api/v1/resources", tags=["resources"])

_UNIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "unknown unit id; the message lists the valid ids"},
    422: {"description": "invalid kind or body, named in `error.field`"},
}
_CHANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_UNIT_RESPONSES,
    401: {"description": "no valid token"},
    403: {"description": "the token's role lacks the permission"},
    503: {"description": "Redis unreachable: the change was NOT recorded"},
}


@router.get("", summary="Every unit of the region with its state")
def list_resources(request: Request, _: Principal = Depends(_require(Permission.READ_RESOURCES))) -> Any:
    return list_units(_store(request))


def store_status(store: ResourceStore) -> dict[str, Any]:
    """Return whether the store is reachable, and since when it is not, as the ``store`` event sends it.

    Reachable means that Redis answers and that the mirror is in sync, as ``GET /api/v1/resources`` reports it.
    """
    health = store.health()
    reachable = bool(health.get("reachable")) and store.snapshot().reachable
    return {"name": health.get("name"), "reachable": reachable, "since": None if reachable else health.get("since")}


def _store_event(status: dict[str, Any]) -> bytes:
    return b"event: store\ndata: " + orjson.dumps(status) + b"\n\n"


@router.get("/events", summary="Server-sent events: `state` per change from every desk, `store` when the store's reachability changes and at each heartbeat")
async def resource_events(request: Request, _: Principal = Depends(_require(Permission.READ_RESOURCES))) -> StreamingResponse:
    store = _store(request)
    streams: EventStreams = request.app.state.resource_streams
    subscription = streams.open(store)
    heartbeat_s = getattr(request.app.state, "sse_heartbeat_s", HEARTBEAT_S)

    async def stream():  # noqa: ANN202
        try:
            # The store's health probes Redis, which may wait for its timeout: it runs on a worker thread.
            status = await run_in_threadpool(store_status, store)
            yield b"retry: 3000\n: connected\n\n" + _store_event(status)
            while True:
                try:
                    item = await subscription.get(heartbeat_s)
                except StopAsyncIteration:
                    return
                if item is None:
                    status = await run_in_threadpool(store_status, store)
                    yield b": heartbeat\n\n" + _store_event(status)
                    continue
                if isinstance(item, ReachabilityChange):
                    # The store may report a change before its health shows it (Redis answers
                    # again, the mirror not yet in sync): the next heartbeat sends the outcome.
                    changed = await run_in_threadpool(store_status, store)
                    if changed["reachable"] != status["reachable"]:
                        status = changed
                        yield _store_event(status)
                    continue
                yield b"event: state\ndata: " + orjson.dumps(state_view(store, item)) + b"\n\n"
        finally:
            streams.done(subscription)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"cache-control": "no-cache", "x-accel-buffering": "no"})


@router.get("/{kind}/{unit_id}", summary="One unit and its state", responses=_UNIT_RESPONSES)
def get_resource(kind: str, unit_id: str, request: Request, _: Principal = Depends(_require(Permission.READ_RESOURCES))) -> Any:
    unit_kind, unit_id = _unit(request, kind, unit_id)
    store = _store(request)
    return unit_view(store.snapshot(), unit_kind, unit_id, store.units.units(unit_kind)[unit_id])


@router.put(
    "/{kind}/{unit_id}",
    summary="Set a unit's state (SMUR teams may set their own)",
    responses=_CHANGE_RESPONSES,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": StateChange.model_json_schema()}}}},
)
async def set_resource(kind: str, unit_id: str, request: Request) -> Any:
    unit_kind = parse_kind(kind)
    permissions = (Permission.SET_SMUR_STATE, Permission.SET_RESOURCE_STATE) if unit_kind is ResourceKind.SMUR else (Permission.SET_RESOURCE_STATE,)
    principal = _require(*permissions)(request)
    unit_id = _units(request).check(unit_kind, unit_id)
    change: StateChange = _parse_body(await request.body(), StateChange)

    now = datetime.now(UTC)
    until = parse_until(change.until, request.app.state.context.region.timezone, now) if change.until else None
    set_by = recorded_by(request, principal, change.by)
    state = ResourceState(unit_kind, unit_id, change.state, set_by=set_by, set_at=now, until=until, returns_to=change.returns_to or None)

    store = _store(request)
    recorded = await run_in_threadpool(store.set_state, state)
    logger.info("%s %s set to %s by %s", unit_kind.value, unit_id, recorded.state, set_by)
    return state_view(store, recorded)


_CLAIM_EXTRA = {"requestBody": {"required": True, "content": {"application/json": {"schema": ClaimRequest.model_json_schema()}}}}


@router.post(
    "/{kind}/{unit_id}/claim",
    summary="Claim a SMUR team or helicopter for a call, atomically",
    responses={**_CHANGE_RESPONSES, 409: {"description": "the unit is claimed for another call (`unit_claimed`) or unavailable"}},
    openapi_extra=_CLAIM_EXTRA,
)
async def claim_resource(kind: str, unit_id: str, request: Request, principal: Principal = Depends(_require(Permission.CLAIM_UNITS))) -> Any:
    return await _apply_claim(request, kind, unit_id, principal, "claim")


@router.post(
    "/{kind}/{unit_id}/release",
    summary="Release a unit claimed for a call: it becomes available",
    responses={**_CHANGE_RESPONSES, 409: {"description": "the unit is not claimed for this call"}},
    openapi_extra=_CLAIM_EXTRA,
)
async def release_resource(kind: str, unit_id: str, request: Request, principal: Principal = Depends(_require(Permission.CLAIM_UNITS))) -> Any:
    return await _apply_claim(request, kind, unit_id, principal, "release")


async def _apply_claim(request: Request, kind: str, unit_id: str, principal: Principal, action: str) -> dict[str, Any]:
    """Run the store's ``claim`` or ``release`` for the body's call on a worker thread; return the unit."""
    unit_kind, unit_id = _unit(request, kind, unit_id)
    body: ClaimRequest = _parse_body(await request.body(), ClaimRequest)
    by = recorded_by(request, principal, body.by)
    store = _store(request)
    operation = store.claim if action == "claim" else store.release
    state = await run_in_threadpool(operation, unit_kind, unit_id, body.call_id, by)
    return state_view(store, state)


class EventStreams:
    """The event streams open in this process, ended together when the server stops.

    uvicorn waits for open responses to finish before it runs the application's shutdown,
    and an event stream never finishes by itself, so the server ends them first.
    """

    def __init__(self) -> None:
        # The server's stop signal may come from another thread than the event loop's.
        self._lock = threading.Lock()
        self._open: set[Subscription] = set()
        self.closing = False

    def open(self, store: ResourceStore) -> Subscription:
        subscription = store.subscribe()
        with self._lock:
            self._open.add(subscription)
            closing = self.closing
        if closing:
            subscription.end()
        return subscription

    def done(self, subscription: Subscription) -> None:
        with self._lock:
            self._open.discard(subscription)
        subscription.close()

    def end_all(self) -> None:
        with self._lock:
            self.closing = True
            subscriptions = list(self._open)
        for subscription in subscriptions:
            subscription.end()


class GracefulServer(uvicorn.Server):
    """A uvicorn server that ends the open event streams as soon as it is asked to stop."""

    def __init__(self, config: uvicorn.Config, app: Any):
        super().__init__(config)
        self._resource_app = app

    def handle_exit(self, sig: int, frame: Any) -> None:
        streams = getattr(self._resource_app.state, "resource_streams", None)
        if streams is not None:
            streams.end_all()
        super().handle_exit(sig, frame)


def install_resources(app: FastAPI) -> None:
    """Add the resource endpoints and their error statuses to ``app``; the store is opened at start-up."""
    from dispatch.api import _error, _request_lang

    app.state.resource_streams = EventStreams()
    app.include_router(router)

    @app.exception_handler(UnitUnknown)
    async def _unknown(request: Request, exc: UnitUnknown) -> Any:
        status = 404 if exc.field == "unit_id" else 422
        return _error(status, exc.code, exc.field, error_text(exc, _request_lang(request)))

    @app.exception_handler(ClaimConflict)
    async def _conflict(request: Request, exc: ClaimConflict) -> Any:
        return _error(409, exc.code, exc.field, error_text(exc, _request_lang(request)))

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(request: Request, exc: StoreUnavailable) -> Any:
        logger.warning("change on %s not recorded: %s", request.url.path, exc)
        return _error(503, exc.code, None, error_text(exc, _request_lang(request)))


__all__ = ["EventStreams", "GracefulServer", "HEARTBEAT_S", "install_resources", "router"]
