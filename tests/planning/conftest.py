"""Scenario files written for the planning tests, extending the repository's examples."""

from __future__ import annotations

from pathlib import Path

import pytest

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Return a function that writes a scenario file and returns its path."""

    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text.replace("{examples}", str(SCENARIOS_DIR)), encoding="utf-8")
        return path

    return write
