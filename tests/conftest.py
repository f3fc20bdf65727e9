"""Shared fixtures: the real region files and a skeleton network built once per session."""

from __future__ import annotations

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
def settings(data_dir: Path, cache_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, region_dir=REPO_ROOT / "regions" / "northern-alps", cache_dir=cache_dir, lang="fr")


@pytest.fixture(scope="session")
def context(settings: Settings):
    from dispatch.service import load_context

    return load_context(settings)
