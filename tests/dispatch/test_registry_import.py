"""CSV import and export: rejected rows with their number and field, all-or-nothing batches, schema."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, func, inspect, select

from dispatch.registry import importer
from dispatch.registry.export import export, store_expected
from dispatch.registry.importer import import_text
from dispatch.registry.models import Base, CaseRecord, RecommendationRecord
from dispatch.registry.store import RegistryError, current_revision, head_revision, make_engine, upgrade
from dispatch.registry.synth import generate, write_csv
from registry_support import registry_engine, registry_url  # noqa: F401
from test_registry_indicators import CASES, to_csv

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def count(engine, model) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model))


GOOD = {"case_id": "TST-2008-2", "commune_insee": "38185", "call": "2008-02-01T10:00+01:00", "first_medical_contact": "2008-02-01T10:20+01:00"}
BAD_ROWS = [
    # row 2: valid
    GOOD,
    # row 3: the call before the onset
    {"case_id": "TST-2008-3", "commune_insee": "38185", "onset": "2008-02-01T11:00+01:00", "call": "2008-02-01T10:00+01:00"},
    # row 4: the puncture before the call
    {"case_id": "TST-2008-4", "commune_insee": "38185", "call": "2008-02-01T10:00+01:00", "arterial_puncture": "2008-02-01T09:50+01:00"},
    # row 5: unknown commune
    {"case_id": "TST-2008-5", "commune_insee": "99999", "call": "2008-02-01T10:00+01:00"},
    # row 6: the id of row 2 again
    {**GOOD},
    # row 7: a local time that does not exist (clocks jump from 02:00 to 03:00)
    {"case_id": "TST-2008-7", "commune_insee": "38185", "call": "2008-03-30T02:30"},
    # row 8: a local time that occurs twice (clocks go back from 03:00 to 02:00)
    {"case_id": "TST-2008-8", "commune_insee": "38185", "call": "2008-10-26T02:30"},
    # row 9: valid, on the autumn night with its offset
    {"case_id": "TST-2008-9", "commune_insee": "73065", "call": "2008-10-26T02:30+01:00"},
    # row 10: an unknown strategy and a wire before the puncture
    {"case_id": "TST-2008-10", "commune_insee": "38185", "call": "2008-02-01T10:00+01:00", "strategy": "surgery",
     "arterial_puncture": "2008-02-01T11:00+01:00", "wire_crossing": "2008-02-01T10:55+01:00"},
    # row 11: a recommendation id the registry does not hold
    {"case_id": "TST-2008-11", "commune_insee": "38185", "call": "2008-02-01T10:00+01:00", "recommendation_id": "no-such-id"},
    # row 12: a point in Geneva, outside the region
    {"case_id": "TST-2008-12", "commune_insee": "74010", "lat": "46.2044", "lon": "6.1432", "call": "2008-02-01T10:00+01:00"},
]


def test_bad_rows_rejected_with_row_and_field(registry_engine, region):
    report = import_text(registry_engine, to_csv(BAD_ROWS), region)
    found = {(error.row, error.field, error.code) for error in report.errors}

    assert report.rows == 11
    assert report.imported == 2
    assert found == {
        (3, "call", "chain_order"),
        (4, "arterial_puncture", "chain_order"),
        (5, "commune_insee", "commune_unknown"),
        (6, "case_id", "duplicate_case_id"),
        (7, "call", "time_nonexistent"),
        (8, "call", "time_ambiguous"),
        (10, "strategy", "choice_invalid"),
        (10, "wire_crossing", "chain_order"),
        (11, "recommendation_id", "recommendation_unknown"),
        (12, "lat", "position_outside_region"),
    }
    assert report.rejected_rows == [3, 4, 5, 6, 7, 8, 10, 11, 12]
    assert count(registry_engine, CaseRecord) == 2


def test_row_errors_in_both_languages(registry_engine, region):
    report = import_text(registry_engine, to_csv(BAD_ROWS), region)
    spring = next(error for error in report.errors if error.row == 7)

    assert "+01:00" in spring.text("fr")
    assert "clocks jump forward" in spring.text("en")
    commune = next(error for error in report.errors if error.row == 5)
    assert commune.text("en").startswith("commune_insee: INSEE code '99999' is unknown")


def test_duplicate_of_stored_case_rejected(registry_engine, region):
    import_text(registry_engine, to_csv([GOOD]), region)
    report = import_text(registry_engine, to_csv([GOOD]), region)

    assert [(e.row, e.field, e.code) for e in report.errors] == [(2, "case_id", "duplicate_case_id")]
    assert count(registry_engine, CaseRecord) == 1


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("case_id,commune_insee,call,nom", "registry_identity_columns"),
        ("case_id,commune_insee,call,birth_date", "registry_identity_columns"),
        ("case_id,call", "registry_columns_missing"),
        ("case_id,commune_insee,call,colour", "registry_columns_unknown"),
    ],
)
def test_bad_header_rejects_file(registry_engine, region, header, code):
    with pytest.raises(RegistryError) as raised:
        import_text(registry_engine, header + "\n", region)

    assert raised.value.code == code
    assert count(registry_engine, CaseRecord) == 0


def test_crash_mid_batch_leaves_nothing(registry_engine, region, monkeypatch):
    # Two rows per INSERT, so six cases take three statements; the second one fails.
    monkeypatch.setattr(importer, "CHUNK_ROWS", 2)
    statements = []

    def fail_second_case_insert(connection, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith("INSERT INTO CASES"):
            statements.append(statement)
            if len(statements) == 2:
                raise RuntimeError("simulated crash mid-batch")

    event.listen(registry_engine, "before_cursor_execute", fail_second_case_insert)
    with pytest.raises(RuntimeError, match="mid-batch"):
        import_text(registry_engine, to_csv(CASES), region)
    event.remove(registry_engine, "before_cursor_execute", fail_second_case_insert)

    assert len(statements) == 2
    assert count(registry_engine, CaseRecord) == 0
    assert count(registry_engine, RecommendationRecord) == 0
    # The same file then imports whole.
    assert import_text(registry_engine, to_csv(CASES), region).imported == 6


def test_killed_process_mid_batch_leaves_nothing(registry_engine, registry_url, tmp_path):
    """A process killed (os._exit, no cleanup) after its first INSERT of cases commits nothing."""
    path = tmp_path / "cases.csv"
    path.write_text(to_csv(CASES), encoding="utf-8")
    script = textwrap.dedent(
        f"""
        import os, sys
        from sqlalchemy import event
        from dispatch.registry import importer
        from dispatch.registry.store import make_engine
        from dispatch.settings import Settings
        from geodata.region import load_region
        from pathlib import Path

        importer.CHUNK_ROWS = 2
        engine = make_engine({registry_url!r})
        seen = []

        def die(connection, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("INSERT INTO CASES"):
                seen.append(statement)
                if len(seen) == 2:
                    os._exit(9)

        event.listen(engine, "after_cursor_execute", die)
        settings = Settings()
        region = load_region(settings.region_dir, settings.data_dir)
        importer.import_csv(engine, Path({str(path)!r}), region)
        sys.exit(0)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)

    assert result.returncode == 9, result.stderr
    assert count(registry_engine, CaseRecord) == 0
    assert count(registry_engine, RecommendationRecord) == 0


def test_upgrade_from_empty_database(registry_url):
    engine = make_engine(registry_url)
    try:
        assert current_revision(engine) is None
        assert upgrade(engine) == head_revision()
        assert current_revision(engine) == head_revision()
        assert {"cases", "recommendations", "expected_counts", "alembic_version"} <= set(inspect(engine).get_table_names())
        # The migrations build exactly the tables the models declare.
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
        # A second upgrade changes nothing.
        assert upgrade(engine) == head_revision()
    finally:
        engine.dispose()


def test_unreachable_database_names_the_setting():
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    with pytest.raises(RegistryError) as raised:
        upgrade(engine)

    assert raised.value.code == "registry_unreachable"
    assert raised.value.field == "RESURCOR_DATABASE_URL"


def test_export_csv_and_parquet(registry_engine, region, tmp_path):
    import_text(registry_engine, to_csv(CASES), region)

    assert export(registry_engine, tmp_path / "cases.parquet", "parquet", region.timezone) == 6
    assert export(registry_engine, tmp_path / "cases.csv", "csv", region.timezone) == 6
    parquet = pd.read_parquet(tmp_path / "cases.parquet").set_index("case_id")
    text = pd.read_csv(tmp_path / "cases.csv", dtype=str, keep_default_na=False).set_index("case_id")

    assert str(parquet.loc["IND-2008-3", "lysis_bolus"]) == "2008-10-26 01:03:00+00:00"
    assert text.loc["IND-2008-3", "lysis_bolus"] == "2008-10-26T02:03+01:00"
    assert text.loc["IND-2008-3", "diagnosis"] == "2008-10-26T02:55+02:00"
    assert text.loc["IND-2008-1", "recommended_strategy"] == "primary_pci"
    assert text.loc["IND-2008-1", "departement"] == "38"
    assert text.loc["IND-2008-4", "in_hospital_death"] == ""
    assert text.loc["IND-2008-1", "in_hospital_death"] == "0"


def test_expected_counts_replace_by_year(registry_engine, tmp_path):
    from dispatch.registry.indicators import read_expected

    path = tmp_path / "expected.csv"
    path.write_text("year,expected_cases\n2007,10\n2008,12\n", encoding="utf-8")
    store_expected(registry_engine, path)
    path.write_text("year,expected_cases\n2008,15\n", encoding="utf-8")
    store_expected(registry_engine, path)

    assert read_expected(registry_engine) == {2007: 10, 2008: 15}


def test_synthetic_registry_imports_in_seconds(registry_engine, region, tmp_path):
    rows, expected = generate(region, 4000, seed=1)
    path = tmp_path / "cases.csv"
    write_csv(rows, path)
    started = time.perf_counter()
    report = importer.import_csv(registry_engine, path, region)
    elapsed_s = time.perf_counter() - started

    assert report.errors == []
    assert report.imported == 4000
    assert elapsed_s < 10
    print(f"4000 synthetic cases imported into {registry_engine.dialect.name} in {elapsed_s:.2f} s")
