"""The ``/planning`` page and its API: start a scenario run, follow it, read its maps and files.

Every API route requires ``Permission.PLAN``; the page itself contains no data. A run
goes to a child process (see ``planning.jobs``), so the recommendation endpoints keep
serving requests during it.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from dispatch.auth import Permission, Principal
from dispatch.i18n import LANGUAGES, catalogue
from dispatch.settings import Settings
from dispatch.planning.jobs import MAX_PAGE_CALLS, PlanningJobs

logger = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\{\{([a-z_.]+)\}\}")


class PlanningRunRequest(BaseModel):
    """A run to start: a scenario as an example's file name or as YAML text, and an optional comparison."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(min_length=1, max_length=20_000, description="example file name (winter-peak.yaml) or YAML text")
    compare: str | None = Field(default=None, max_length=20_000, description="second scenario, same forms")
    calls: int | None = Field(default=None, ge=1, le=MAX_PAGE_CALLS, description="replaces the scenario's calls.count")
    lang: str | None = Field(default=None, pattern="^(fr|en)$")


def _jobs(request: Request) -> PlanningJobs:
    return request.app.state.planning_jobs


def _lang(request: Request, body_lang: str | None = None) -> str:
    for candidate in (body_lang, request.query_params.get("lang"), request.headers.get("accept-language", "")[:2].lower()):
        if candidate in LANGUAGES:
            return candidate
    return request.app.state.settings.lang


def render_page(lang: str) -> str:
    """Return the planning page with its texts in ``lang``."""
    template = resources.files("dispatch.planning").joinpath("page.html").read_text(encoding="utf-8")
    entries = catalogue()

    def fill(match: re.Match) -> str:
        key = match.group(1)
        if key == "lang":
            return lang
        return html.escape(entries[f"planning.page.{key}"][lang])

    return _PLACEHOLDER.sub(fill, template)


def build_router(require) -> APIRouter:
    """Return the planning routes; ``require`` is ``dispatch.api.require``."""
    router = APIRouter()
    plan = Depends(require(Permission.PLAN))

    # The page contains no data. A browser cannot send a bearer token when it opens a
    # URL, so the page reads the token from a field and sends it with every API request.
    @router.get("/planning", include_in_schema=False)
    def page(request: Request) -> HTMLResponse:
        return HTMLResponse(render_page(_lang(request)))

    @router.get("/api/v1/planning/scenarios", summary="Example planning scenarios")
    def examples(request: Request, _: Principal = plan) -> list[dict[str, Any]]:
        return _jobs(request).examples()

    @router.post("/api/v1/planning/runs", status_code=202, summary="Start a planning run (coverage, simulated calls, maps)")
    def start(body: PlanningRunRequest, request: Request, _: Principal = plan) -> dict[str, Any]:
        lang = _lang(request, body.lang)
        request.state.lang = lang
        job = _jobs(request).submit(body.scenario, body.compare, body.calls, lang)
        return {"id": job.id, "scenarios": job.names, "status_url": f"/api/v1/planning/runs/{job.id}"}

    @router.get("/api/v1/planning/runs/{job_id}", summary="State, progress and summary of a planning run")
    def status(job_id: str, request: Request, _: Principal = plan) -> dict[str, Any]:
        state = _jobs(request).status(job_id)
        state["files"] = {name: f"/api/v1/planning/runs/{job_id}/files/{name}" for name in state.get("files", [])}
        return state

    @router.get("/api/v1/planning/runs/{job_id}/files/{name:path}", summary="An output file of a finished run")
    def output_file(job_id: str, name: str, request: Request, _: Principal = plan) -> FileResponse:
        return FileResponse(_jobs(request).file(job_id, name))

    return router


def install(app: FastAPI, settings: Settings, require) -> None:
    """Add the planning routes and their job runner to ``app``; the runner stops with the app."""
    # NOTE: the examples are read from the checkout's scenarios/ folder, which a wheel
    # install does not ship.
    scenarios_dir = Path(__file__).resolve().parents[1] / "scenarios"
    jobs = PlanningJobs(settings, scenarios_dir)
    app.state.planning_jobs = jobs
    app.include_router(build_router(require))

    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        async with outer(application) as state:
            yield state
        jobs.close()

    app.router.lifespan_context = lifespan

