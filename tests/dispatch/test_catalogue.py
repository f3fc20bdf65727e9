"""Every text has French and English versions, and every error code has a text."""

from __future__ import annotations

import re
import string
from pathlib import Path

from dispatch.i18n import catalogue

REPO_ROOT = Path(__file__).resolve().parents[2]
ERROR_CODE = re.compile(r'(?:(?:Error|_error)\(\s*|code=)"([a-z_]+)"')


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
    missing = sorted(code for code in codes if f"error.{code}" not in catalogue())
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
    missing = sorted(key for key in keys if key not in catalogue())
    assert missing == []


def test_decision_warnings_have_texts():
    from protocols import DecisionWarning

    missing = [w.value for w in DecisionWarning if f"warning.{w.value}" not in catalogue()]
    assert missing == []
