"""Service settings, read from the environment (prefix ``RESURCOR_``) and validated once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The repository root when running from a checkout (editable install).
_REPO_ROOT = Path(__file__).resolve().parents[1]


def _default_data_dir() -> Path:
    # A checkout sits beside the shared data: <work>/main and <work>/shared/data.
    return _REPO_ROOT.parent / "shared" / "data"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "resurcor"


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "resurcor"


class Settings(BaseSettings):
    """Every setting of the service; ``RESURCOR_<NAME>`` in the environment overrides it."""

    model_config = SettingsConfigDict(env_prefix="RESURCOR_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir, description="shared data directory (communes, boundaries, skeleton)")
    region_dir: Path = Field(default=_REPO_ROOT / "regions" / "northern-alps", description="region directory holding region.yaml")
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="where built networks and trees are written")
    profile: str | None = Field(default=None, description="protocol profile name or path; default: the region's")
    lang: Literal["fr", "en"] = "fr"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    access_log: bool = Field(default=False, description="log one line per HTTP request (off by default: about 20% of throughput, measured with wrk)")
    tokens_file: Path | None = Field(default=None, description="YAML file of {name, role, sha256} tokens; none: single desk on the loopback only")
    state_dir: Path = Field(default_factory=_default_state_dir, description="the service's own writable data (the registry's SQLite file); never the shared data directory")
    database_url: str | None = Field(default=None, description="registry database URL (SQLAlchemy form, e.g. postgresql+psycopg://host/db); default: SQLite file registry.sqlite3 in state_dir")
    registry_record: bool = Field(default=True, description="record every recommendation the HTTP API answers in the registry")
    network_max_age_days: int = Field(default=120, ge=1, description="age past which answers warn that the network data is old")

    @field_validator("data_dir", "region_dir", "cache_dir", "tokens_file", "state_dir")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None


def get_settings() -> Settings:
    return Settings()
