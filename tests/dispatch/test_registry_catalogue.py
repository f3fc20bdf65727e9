"""Every error the registry raises or reports has a French and an English text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dispatch.i18n import catalogue

PACKAGE = Path(__file__).resolve().parents[2] / "dispatch"
SOURCES = [*sorted((PACKAGE / "registry").glob("*.py")), PACKAGE / "cli_registry.py", PACKAGE / "api_registry.py"]

# reject(field, "code", ...) in the row checks, and SomeError("registry_...", ...) elsewhere.
ROW_CODE = re.compile(r'reject\([^,]+, "(\w+)"')
ERROR_CODE = re.compile(r'Error\(\s*"(registry_\w+)"')


def codes() -> list[str]:
    found = set()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        found.update(f"registry_{code}" for code in ROW_CODE.findall(text))
        found.update(ERROR_CODE.findall(text))
    return sorted(found)


def test_codes_found():
    assert "registry_duplicate_case_id" in codes()
    assert "registry_unreachable" in codes()


@pytest.mark.parametrize("code", codes())
def test_code_has_both_languages(code):
    # A counted text has a singular and a plural entry instead of one.
    keys = [f"error.{code}"] if f"error.{code}" in catalogue() else [f"error.{code}.one", f"error.{code}.other"]

    for key in keys:
        entry = catalogue().get(key)
        assert entry is not None, f"{key} missing from dispatch/catalogue/registry.yaml"
        assert entry["fr"]
        assert entry["en"]
