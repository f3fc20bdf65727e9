"""Every text has French and English versions, and every error code has a text."""

from __future__ import annotations

import re
import string
from pathlib import Path

from dispatch.i18n import catalogue

REPO_ROOT = Path(__file__).resolve().parents[2]
# Project errors; pydantic's own custom errors (PydanticCustomError) carry a scenario
# key, checked by the planning tests, not a catalogue code.
ERROR_CODE = re.compile(r'(?:(?:(?<!PydanticCustom)Error|_error)\(\s*|code=)"([a-z_]+)"')


def _has_text(key: str) -> bool:
    # A counted text has a singular and a plural entry (KEY.one, KEY.other) instead of one.
    entries = catalogue()
    return key in entries or (f"{key}.one" in entries and f"{key}.other" in entries)


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_entries_have_same_placeholders_in_both_languages():
    for key, entry in catalogue().items():
        assert _placeholders(entry["fr"]) == _placeholders(entry["en"]), key


def test_every_raised_error_code_has_a_text():
    codes = set()
    for package in ("geodata", "routing", "protocols", "dispatch"):
        for path in (REPO_ROOT / package).rglob("*.py"):
            codes |= set(ERROR_CODE.findall(path.read_text(encoding="utf-8")))
    assert codes, "no error code found: the pattern no longer matches the code"
    missing = sorted(code for code in codes if not _has_text(f"error.{code}"))
    assert missing == []


WARNING_CODE = re.compile(r'_warning\(\s*"([a-z_]+)"')
TEXT_KEY = re.compile(r'(?:translate|\bt|\bh)\(\s*f?"([a-z_]+\.[a-z_.]+)"')


def test_every_warning_and_label_has_a_text():
    keys = set()
    for path in (REPO_ROOT / "dispatch").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        keys |= {f"warning.{code}" for code in WARNING_CODE.findall(text)}
        keys |= {key for key in TEXT_KEY.findall(text) if not key.endswith(".")}
    assert len(keys) > 30, "the patterns no longer match the code"
    missing = sorted(key for key in keys if not _has_text(key))
    assert missing == []


def test_decision_warnings_have_texts():
    from protocols import DecisionWarning

    missing = [w.value for w in DecisionWarning if f"warning.{w.value}" not in catalogue()]
    assert missing == []


def test_plural_form_by_language():
    from dispatch.i18n import plural_form

    assert [plural_form(n, "fr") for n in (0, 1, 2)] == ["one", "one", "other"]
    assert [plural_form(n, "en") for n in (0, 1, 2)] == ["other", "one", "other"]


def test_counted_entries_come_in_pairs():
    for key in catalogue():
        if key.endswith(".one"):
            assert f"{key[:-4]}.other" in catalogue(), key


def test_scenario_errors_have_texts():
    from dispatch.planning.scenario import TRANSLATED_ERRORS

    missing = [kind for kind in TRANSLATED_ERRORS if f"error.scenario_{kind}" not in catalogue()]
    assert missing == []
