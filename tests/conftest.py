"""Shared fixtures: the real region files and a skeleton network built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dispatch.settings import Settings
from geodata.network import save_network
from geodata.region import Region, load_region
from geodata.skeleton import build_from_skeleton

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = Settings().data_dir
    if not (path / "communes" / "communes_population_points.csv").is_file():
        pytest.fail(f"shared data not found in {path}: set RESURCOR_DATA_DIR to the shared data directory")
    return path


@pytest.fixture(scope="session")
def region(data_dir: Path) -> Region:
    return load_region(REPO_ROOT / "regions" / "northern-alps", data_dir)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory, region: Region) -> Path:
    """A cache directory holding the skeleton network, as 'geodata build --skeleton' writes it."""
    root = tmp_path_factory.mktemp("cache")
    save_network(build_from_skeleton(region.skeleton_path, region.crs), root / "network")
    return root


@pytest.fixture(scope="session")
def settings(data_dir: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # The registry's SQLite file goes to a temporary state directory, never the user's.
    return Settings(
        data_dir=data_dir,
        region_dir=REPO_ROOT / "regions" / "northern-alps",
        cache_dir=cache_dir,
        state_dir=tmp_path_factory.mktemp("state"),
        lang="fr",
    )


@pytest.fixture(scope="session")
def context(settings: Settings):
    from dispatch.service import load_context

    return load_context(settings)


# Real services. On a developer's machine without them, their tests are skipped with the
# reason printed in the summary (-ra); under CI=true a missing service fails the run.
REDIS_TEST_URL = os.environ.get("RESURCOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM = os.environ.get("RESURCOR_TEST_CHROMIUM", "/usr/bin/chromium")
POSTGRES_TEST_URL = os.environ.get("RESURCOR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def skip_or_fail(message: str) -> None:
    """Skip the test with ``message``, or fail it under CI, where every part must be present."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{message}. CI requires it.", pytrace=False)
    pytest.skip(message)


def missing_service(name: str, url: str, reason: str) -> None:
    """Skip the test, or fail it under CI, because ``name`` at ``url`` cannot be reached."""
    skip_or_fail(f"{name} unreachable at {url} ({reason}); start it, or set the test URL variable")


def _redis_reason(url: str) -> str | None:
    """Return why Redis at ``url`` cannot be used, or None when it answers."""
    try:
        import redis
    except ImportError as err:
        return f"the redis package is not installed: {err}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as err:
        return str(err)
    return None


def _postgres_reason(url: str) -> str | None:
    """Return why PostgreSQL at ``url`` cannot be used, or None when it answers."""
    try:
        import psycopg
    except ImportError as err:
        return f"the psycopg package is not installed: {err}"
    try:
        with psycopg.connect(url, connect_timeout=2) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as err:
        return str(err).strip()
    return None


def _chromium_missing(path: str) -> str | None:
    """Return why the browser tests cannot drive chromium at ``path``, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as err:
        return f"browser tests need the playwright package, which is not installed: {err}"
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return f"chromium not found at {path}: install it with 'apt-get install -y chromium' or set RESURCOR_TEST_CHROMIUM"
    return None


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of a Redis database reserved for tests; each test writes under a namespace of its own and deletes it."""
    reason = _redis_reason(REDIS_TEST_URL)
    if reason:
        missing_service("Redis", REDIS_TEST_URL, reason)
    return REDIS_TEST_URL


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The URL of a PostgreSQL server where tests may create and drop their own databases."""
    reason = _postgres_reason(POSTGRES_TEST_URL)
    if reason:
        missing_service("PostgreSQL", POSTGRES_TEST_URL, reason)
    return POSTGRES_TEST_URL


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The system's chromium, which the browser tests drive through Playwright."""
    message = _chromium_missing(CHROMIUM)
    if message:
        skip_or_fail(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def map_library() -> None:
    """Leaflet's files, which 'make setup' installs from npm for the pages' map."""
    from dispatch.web.assets import LEAFLET_DIR, leaflet_dir

    if leaflet_dir() is None:
        skip_or_fail(f"Leaflet not found in {LEAFLET_DIR}: run 'make setup', which installs it with npm")
