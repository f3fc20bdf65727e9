"""Where a case's position came from: measured, the commune's centre, or unknown (older cases)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from alembic import command
from sqlalchemy import text

from dispatch.registry.export import export
from dispatch.registry.importer import import_text
from dispatch.registry.indicators import compute, load_frame
from dispatch.registry.store import alembic_config, make_engine, upgrade
from registry_support import registry_engine, registry_url  # noqa: F401
from test_registry_indicators import to_csv

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
