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
        "case_id,commune_insee,call\nCLI-2008-1,38185,2008-01-01T10:00+01:00\nCLI-2008-2,99999,2008-01-01T10:00+01:00\n", encoding="utf-8"
    )

    assert main(["registry", "import", "bad.csv", "--json", "--lang", "en"]) == 1
    output = json.loads(capsys.readouterr().out)
    assert output["imported"] == 1
    assert output["errors"][0]["row"] == 3
    assert output["errors"][0]["field"] == "commune_insee"


def test_import_error_line_in_french(env, capsys):
    (env / "bad.csv").write_text("case_id,commune_insee,call\nCLI-2008-3,38185,2008-10-26T02:30\n", encoding="utf-8")

    assert main(["registry", "import", "bad.csv"]) == 1
    assert "ligne 2 : call : 2008-10-26T02:30:00 existe deux fois" in capsys.readouterr().err


def test_identity_column_exits_2(env, capsys):
    (env / "named.csv").write_text("case_id,commune_insee,call,nom\nCLI-2008-4,38185,2008-01-01T10:00+01:00,Dupont\n", encoding="utf-8")

    assert main(["registry", "import", "named.csv"]) == 2
    assert "colonne d'identité refusée (nom)" in capsys.readouterr().err


def test_identity_columns_plural(env, capsys):
    (env / "named.csv").write_text("case_id,commune_insee,call,nom,prenom\nCLI-2008-4,38185,2008-01-01T10:00+01:00,Dupont,Jean\n", encoding="utf-8")

    assert main(["registry", "import", "named.csv"]) == 2
    assert "colonnes d'identité refusées (nom, prenom)" in capsys.readouterr().err
    assert main(["registry", "import", "named.csv", "--lang", "en"]) == 2
    assert "identity columns rejected (nom, prenom)" in capsys.readouterr().err


def test_import_counts_in_singular(env, capsys):
    (env / "one.csv").write_text("case_id,commune_insee,call\nCLI-2008-5,38185,2008-01-01T10:00+01:00\n", encoding="utf-8")

    assert main(["registry", "import", "one.csv"]) == 0
    output = capsys.readouterr().out
    assert output.startswith("1 ligne lue, 1 cas importé, 0 ligne refusée, en ")
    assert main(["registry", "export", "--out", "one-export.csv"]) == 0
    assert "1 cas exporté dans" in capsys.readouterr().out


def test_import_counts_in_english(env, capsys):
    (env / "two.csv").write_text(
        "case_id,commune_insee,call\nCLI-2008-6,38185,2008-01-01T10:00+01:00\nCLI-2008-7,99999,2008-01-01T10:00+01:00\n", encoding="utf-8"
    )

    assert main(["registry", "import", "two.csv", "--lang", "en"]) == 1
    assert capsys.readouterr().out.startswith("2 rows read, 1 case imported, 1 row rejected, in ")


def test_unreadable_file_exits_2(env, capsys):
    assert main(["registry", "import", "missing.csv"]) == 2
    assert "impossible de lire missing.csv" in capsys.readouterr().err


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
    assert main(["registry", "init"]) == 1
    assert "vérifiez RESURCOR_DATABASE_URL et que le serveur PostgreSQL est démarré" in capsys.readouterr().err


def reimported_file(env, cases: int) -> str:
    """Write a synthetic file of ``cases`` rows and import it once, so a second import rejects every row."""
    assert main(["registry", "synth", "--cases", str(cases), "--seed", "5", "--out", "again.csv"]) == 0
    assert main(["registry", "import", "again.csv"]) == 0
    return "again.csv"


def test_reimport_lists_first_50(env, capsys):
    path = reimported_file(env, 120)
    capsys.readouterr()

    assert main(["registry", "import", path]) == 1
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    row_lines = [line for line in lines if line.startswith("ligne ")]
    assert captured.out.startswith("120 lignes lues, 0 cas importé, 120 lignes refusées")
    assert len(row_lines) == 50
    assert row_lines[0].startswith("ligne 2 : case_id : le cas")
    assert "… et 70 autres erreurs, non listées" in lines
    assert "  case_id · duplicate_case_id : 120 erreurs" in lines
    assert "liste complète : option --rejections FICHIER.csv de l'import." in lines


def test_rejections_file_holds_every_error(env, capsys):
    path = reimported_file(env, 120)
    capsys.readouterr()

    assert main(["registry", "import", path, "--rejections", "rejected.csv", "--lang", "en"]) == 1
    err = capsys.readouterr().err
    rejected = pd.read_csv(env / "rejected.csv", dtype=str)
    assert list(rejected.columns) == ["row", "field", "code", "message"]
    assert len(rejected) == 120
    assert rejected["row"].tolist() == [str(row) for row in range(2, 122)]
    assert set(rejected["code"]) == {"duplicate_case_id"}
    assert rejected["message"][0].startswith("case_id: case 'SYN-")
    assert "120 errors written to rejected.csv" in err
    assert "--rejections FILE.csv" not in err


def test_reimport_json_capped_with_counts(env, capsys):
    path = reimported_file(env, 60)
    capsys.readouterr()

    assert main(["registry", "import", path, "--json"]) == 1
    output = json.loads(capsys.readouterr().out)
    assert len(output["errors"]) == 50
    assert output["errors_total"] == 60
    assert output["errors_by_code"] == [{"field": "case_id", "code": "duplicate_case_id", "count": 60}]
    assert len(output["rejected_rows"]) == 60


def test_unwritable_rejections_imports_nothing(env, capsys):
    (env / "one.csv").write_text("case_id,commune_insee,call\nCLI-2008-8,38185,2008-01-01T10:00+01:00\n", encoding="utf-8")

    assert main(["registry", "import", "one.csv", "--rejections", "no-such-dir/rejected.csv"]) == 2
    assert "vérifiez le chemin de --rejections ; rien n'a été importé" in capsys.readouterr().err
    assert main(["registry", "export", "--out", "after.csv"]) == 0
    assert "0 cas exporté" in capsys.readouterr().out
