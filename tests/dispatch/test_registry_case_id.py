"""Case ids: no date, no name, the registry's format; on the import, the API and the setting."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from dispatch.i18n import catalogue
from dispatch.registry.case_id import DEFAULT_CASE_ID_PATTERN, case_id_problem
from dispatch.registry.importer import import_text
from dispatch.registry.models import CaseRecord
from dispatch.registry.synth import generate
from dispatch.settings import Settings
from registry_support import registry_engine, registry_url  # noqa: F401
from test_registry_indicators import to_csv

DEFAULT = re.compile(DEFAULT_CASE_ID_PATTERN)


@pytest.mark.parametrize(
    ("case_id", "code"),
    [
        ("Dupont Jean", "case_id_invalid"),
        ("Dupont_Jean_19500302", "case_id_date"),
        ("Jean.Dupont.1950-03-02", "case_id_date"),
        ("GRE-02031950", "case_id_date"),
        ("GRE-02-03-1950", "case_id_date"),
        ("GRE-02.03.50", "case_id_date"),
        ("GRE-1950_3_2", "case_id_date"),
        ("Dupont_Jean", "case_id_name"),
        ("JEAN-DUP-0042", "case_id_name"),
        ("dupont-2008-0042", "case_id_pattern"),
        ("GRE-0042", "case_id_pattern"),
        ("GRE-2008-1234567", "case_id_pattern"),
    ],
)
def test_case_id_rejected_with_code(case_id, code):
    problem = case_id_problem(case_id, DEFAULT)

    assert problem is not None
    assert problem[0] == code


@pytest.mark.parametrize("case_id", ["GRE-2008-0042", "SYN-2008-00012", "AB-2026-1", "CHMB-2008-999999"])
def test_case_id_accepted(case_id):
    assert case_id_problem(case_id, DEFAULT) is None


def test_not_a_date_passes_date_rule():
    # 8 digits that are no date (month 13) and a counter with no separator.
    loose = re.compile(r".*")

    assert case_id_problem("GRE-20081332", loose) is None
    assert case_id_problem("GRE-00012345", loose) is None


def test_loose_pattern_keeps_date_and_name_rules():
    loose = re.compile(r".*")

    assert case_id_problem("Dupont_Jean", loose)[0] == "case_id_name"
    assert case_id_problem("X-19500302", loose)[0] == "case_id_date"
    assert case_id_problem("Dupont-42", loose) is None


@pytest.mark.parametrize("code", ["case_id_invalid", "case_id_date", "case_id_name", "case_id_pattern"])
def test_case_id_texts_name_field_and_fix(code):
    entry = catalogue()[f"error.registry_{code}"]

    assert entry["fr"].startswith("{field}")
    assert entry["en"].startswith("{field}")
    assert "GRE-2008-0042" in entry["fr"]
    assert "GRE-2008-0042" in entry["en"]


def test_synthetic_ids_follow_default(region):
    rows, _ = generate(region, 50, seed=2)

    assert all(case_id_problem(row["case_id"], DEFAULT) is None for row in rows)


def test_import_rejects_name_and_birth_date(registry_engine, region):
    rows = [
        {"case_id": "Dupont_Jean_19500302", "commune_insee": "38185", "call": "2008-02-01T10:00+01:00"},
        {"case_id": "Jean.Dupont.1950-03-02", "commune_insee": "38185", "call": "2008-02-01T10:00+01:00"},
        {"case_id": "Dupont_Jean", "commune_insee": "38185", "call": "2008-02-01T10:00+01:00"},
        {"case_id": "GRE-2008-0042", "commune_insee": "38185", "call": "2008-02-01T10:00+01:00"},
    ]
    report = import_text(registry_engine, to_csv(rows), region)

    assert [(e.row, e.field, e.code) for e in report.errors] == [
        (2, "case_id", "case_id_date"),
        (3, "case_id", "case_id_date"),
        (4, "case_id", "case_id_name"),
    ]
    assert "19500302" in report.errors[0].text("fr")
    assert "Dupont, Jean" in report.errors[2].text("en")
    with registry_engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(CaseRecord)) == 1


def test_import_follows_configured_pattern(registry_engine, region):
    rows = [{"case_id": "38-000042", "commune_insee": "38185", "call": "2008-02-01T10:00+01:00"}]

    default = import_text(registry_engine, to_csv(rows), region)
    configured = import_text(registry_engine, to_csv(rows), region, case_id_pattern=r"^\d{2}-\d{6}$")

    assert [e.code for e in default.errors] == ["case_id_pattern"]
    assert r"^[A-Z]{2,4}-[0-9]{4}-[0-9]{1,6}$" in default.errors[0].text("en")
    assert configured.imported == 1


def test_invalid_pattern_setting_rejected(monkeypatch):
    monkeypatch.setenv("RESURCOR_CASE_ID_PATTERN", "^[A-Z")

    with pytest.raises(ValidationError) as raised:
        Settings()

    assert "case_id_pattern" in str(raised.value)
