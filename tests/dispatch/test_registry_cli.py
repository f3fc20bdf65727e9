"""``resurcor registry``: the newcomer's path from a synthetic registry to the report."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dispatch.cli import main
from registry_support import create_postgres_database, drop_postgres_database


@pytest.fixture
def env(monkeypatch, settings, tmp_path):
    monkeypatch.setenv("RESURCOR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RESURCOR_REGION_DIR", str(settings.region_dir))
    monkeypatch.setenv("RESURCOR_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("RESURCOR_DATABASE_URL", raising=False)
    monkeypatch.delenv("RESURCOR_LANG", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_synth_import_report_export(env, capsys):
    assert main(["registry", "init"]) == 0
    assert "registry.sqlite3" in capsys.readouterr().out
    assert main(["registry", "synth", "--cases", "700", "--seed", "3", "--out", "cases.csv"]) == 0
    assert main(["registry", "import", "cases.csv"]) == 0
    assert "700 cas importés" in capsys.readouterr().out
    assert main(["registry", "expected", "cases-expected.csv"]) == 0
    assert main(["registry", "report", "--year", "2008", "--out", "report", "--lang", "en"]) == 0
    assert main(["registry", "export", "--format", "parquet", "--out", "cases.parquet"]) == 0

    page = (env / "report" / "index.html").read_text(encoding="utf-8")
    assert "Regional STEMI registry" in page
    assert page.count("data:image/png;base64,") >= 10
    for year in range(2002, 2009):
        assert f"<th>{year}</th>" in page
    assert len(pd.read_parquet(env / "cases.parquet")) == 700


def test_import_lists_rejected_rows(env, capsys):
    (env / "bad.csv").write_text(
        "case_id,commune_insee,call\nOK,38185,2008-01-01T10:00+01:00\nBAD,99999,2008-01-01T10:00+01:00\n", encoding="utf-8"
    )

    assert main(["registry", "import", "bad.csv", "--json", "--lang", "en"]) == 1
    output = json.loads(capsys.readouterr().out)
    assert output["imported"] == 1
    assert output["errors"][0]["row"] == 3
    assert output["errors"][0]["field"] == "commune_insee"


def test_import_error_line_in_french(env, capsys):
    (env / "bad.csv").write_text("case_id,commune_insee,call\nBAD,38185,2008-10-26T02:30\n", encoding="utf-8")

    assert main(["registry", "import", "bad.csv"]) == 1
    assert "ligne 2 : call : 2008-10-26T02:30:00 existe deux fois" in capsys.readouterr().err


def test_identity_column_rejected(env, capsys):
    (env / "named.csv").write_text("case_id,commune_insee,call,nom\nA,38185,2008-01-01T10:00+01:00,Dupont\n", encoding="utf-8")

    assert main(["registry", "import", "named.csv"]) == 1
    assert "colonnes identifiantes refusées (nom)" in capsys.readouterr().err


def test_database_url_setting_reaches_postgresql(env, monkeypatch, postgres_url, capsys):
    name, url = create_postgres_database(postgres_url)
    try:
        monkeypatch.setenv("RESURCOR_DATABASE_URL", url)
        assert main(["registry", "init"]) == 0
        assert name in capsys.readouterr().out
    finally:
        drop_postgres_database(postgres_url, name)


def test_unreachable_database_one_line(env, monkeypatch, capsys):
    monkeypatch.setenv("RESURCOR_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")

    assert main(["registry", "init", "--lang", "en"]) == 1
    assert "cannot be opened" in capsys.readouterr().err
