"""Where a case's position came from: measured, the commune's centre, or unknown (older cases)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from alembic import command
from sqlalchemy import text

from dispatch.registry.export import export
from dispatch.registry.importer import import_text
from dispatch.registry.indicators import compute, load_frame
from dispatch.registry.store import alembic_config, make_engine, upgrade
from registry_support import registry_engine, registry_url  # noqa: F401
from test_registry_indicators import chain, to_csv

MEASURED = {"case_id": "POS-2008-1", "commune_insee": "38185", "lat": "45.1885", "lon": "5.7245", "call": "2008-02-01T10:00+01:00"}
CENTRE = {"case_id": "POS-2008-2", "commune_insee": "38185", "call": "2008-02-01T11:00+01:00"}


def test_position_source_stored(registry_engine, region):
    report = import_text(registry_engine, to_csv([MEASURED, CENTRE]), region)
    frame = load_frame(registry_engine, region.timezone).set_index("case_id")

    assert report.imported == 2
    assert frame.loc["POS-2008-1", "position_source"] == "measured"
    assert frame.loc["POS-2008-2", "position_source"] == "commune_centre"
    # The commune's centre is still stored, so maps and distances keep a point.
    assert frame.loc["POS-2008-2", "lat"] is not None


def test_export_tells_measured_from_centre(registry_engine, region, tmp_path):
    import_text(registry_engine, to_csv([MEASURED, CENTRE]), region)
    export(registry_engine, tmp_path / "cases.csv", "csv", region.timezone)
    export(registry_engine, tmp_path / "cases.parquet", "parquet", region.timezone)

    csv_frame = pd.read_csv(tmp_path / "cases.csv", dtype=str, keep_default_na=False).set_index("case_id")
    parquet = pd.read_parquet(tmp_path / "cases.parquet").set_index("case_id")
    assert list(csv_frame.columns[csv_frame.columns.get_loc("lon") + 1 : csv_frame.columns.get_loc("lon") + 2]) == ["position_source"]
    assert csv_frame.loc["POS-2008-1", "position_source"] == "measured"
    assert csv_frame.loc["POS-2008-2", "position_source"] == "commune_centre"
    assert parquet.loc["POS-2008-2", "position_source"] == "commune_centre"


def test_measured_share_in_indicators(registry_engine, region):
    import_text(registry_engine, to_csv([MEASURED, CENTRE]), region)
    values = compute(load_frame(registry_engine, region.timezone))

    assert values["measured_position_share"].count == 1
    assert values["measured_position_share"].total == 2


def test_upgrade_leaves_older_cases_unknown(registry_url, region, tmp_path):
    engine = make_engine(registry_url)
    try:
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO cases (case_id, commune_insee, departement, lat, lon, call, recorded_at)"
                    " VALUES ('OLD-2008-1', '38185', '38', 45.19, 5.72, :call, :call)"
                ),
                {"call": datetime(2008, 2, 1, 9, tzinfo=UTC)},
            )

        upgrade(engine)
        export(engine, tmp_path / "cases.csv", "csv", region.timezone)
        row = pd.read_csv(tmp_path / "cases.csv", dtype=str, keep_default_na=False).iloc[0]
        values = compute(load_frame(engine, region.timezone))
    finally:
        engine.dispose()

    assert row["case_id"] == "OLD-2008-1"
    assert row["position_source"] == ""
    assert values["measured_position_share"].total == 0


CHAMONIX, GRENOBLE = "74056", "38185"
# Grenoble's centre, and a point just outside Grenoble's polygon (Saint-Martin-d'Hères).
GRENOBLE_POINT = ("45.1885", "5.7245")


def test_point_in_other_commune_rejected(registry_engine, region):
    rows = [
        {"case_id": "POS-2008-3", "commune_insee": CHAMONIX, "lat": GRENOBLE_POINT[0], "lon": GRENOBLE_POINT[1], "call": "2008-02-01T10:00+01:00"},
        {"case_id": "POS-2008-4", "commune_insee": GRENOBLE, "lat": GRENOBLE_POINT[0], "lon": GRENOBLE_POINT[1], "call": "2008-02-01T10:00+01:00"},
    ]
    report = import_text(registry_engine, to_csv(rows), region)

    assert [(e.row, e.field, e.code) for e in report.errors] == [(2, "commune_insee", "position_other_commune")]
    message = report.errors[0].text("fr")
    assert "Grenoble (38185)" in message
    assert "74056" in message
    assert "corrigez le code INSEE ou les coordonnées" in message
    assert report.imported == 1


def test_point_near_boundary_accepted(registry_engine, region):
    from dispatch.registry.importer import commune_distance_m
    from dispatch.registry.validate import COMMUNE_TOLERANCE_M

    # A vertex of Grenoble's polygon widened by 200 m: outside the commune, within the tolerance.
    widened = region.commune_polygon(GRENOBLE).buffer(200)
    x, y = widened.exterior.coords[0]
    lon, lat = region.to_projected.transform(x, y, direction="INVERSE")
    row = {"case_id": "POS-2008-8", "commune_insee": GRENOBLE, "lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "call": "2008-02-01T10:00+01:00"}

    distance = commune_distance_m(region, GRENOBLE, lon, lat)
    report = import_text(registry_engine, to_csv([row]), region)

    assert 150 < distance <= COMMUNE_TOLERANCE_M
    assert report.errors == []
    assert report.imported == 1


@pytest.mark.parametrize(
    ("times", "field", "earlier"),
    [
        ({"ecg": 30, "diagnosis": 25}, "diagnosis", "ecg"),
        ({"smur_departure": 20, "first_medical_contact": 10}, "first_medical_contact", "smur_departure"),
        ({"diagnosis": 30, "lysis_bolus": 25}, "lysis_bolus", "diagnosis"),
        ({"scene_departure": 40, "arrival": 35}, "arrival", "scene_departure"),
        ({"lysis_bolus": 50, "arrival": 45, "scene_departure": 30}, "arrival", "lysis_bolus"),
        ({"arrival": 60, "arterial_puncture": 55}, "arterial_puncture", "arrival"),
        ({"arterial_puncture": 70, "wire_crossing": 65}, "wire_crossing", "arterial_puncture"),
        # Times absent between them: the diagnosis is compared with the SMUR departure.
        ({"smur_departure": 20, "diagnosis": 15}, "diagnosis", "smur_departure"),
    ],
)
def test_chain_order_rejected(registry_engine, region, times, field, earlier):
    row = {"case_id": "POS-2008-5", "commune_insee": GRENOBLE, **chain("2008-02-01T10:00+01:00", **times)}
    report = import_text(registry_engine, to_csv([row]), region)

    assert [(e.row, e.field, e.code) for e in report.errors] == [(2, field, "chain_order")]
    assert report.errors[0].params["earlier"] == earlier
    assert f"is before {earlier}" in report.errors[0].text("en")


def test_bolus_after_scene_departure_accepted(registry_engine, region):
    # The bolus may be given on the way, after the scene departure.
    row = {"case_id": "POS-2008-6", "commune_insee": GRENOBLE,
           **chain("2008-02-01T10:00+01:00", diagnosis=20, scene_departure=25, lysis_bolus=30, arrival=60)}
    report = import_text(registry_engine, to_csv([row]), region)

    assert report.errors == []
    assert report.imported == 1
