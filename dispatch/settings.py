"""Service settings, read from the environment (prefix ``RESURCOR_``) and validated once."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dispatch.registry.case_id import DEFAULT_CASE_ID_PATTERN

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
    case_id_pattern: str = Field(
        default=DEFAULT_CASE_ID_PATTERN,
        description="regular expression a registry case id must match (Python re, searched); default: 2 to 4 capital letters, the year, a number, e.g. GRE-2008-0042",
    )
    network_max_age_days: int = Field(default=120, ge=1, description="age past which answers warn that the network data is old")
    redis_url: str | None = Field(
        default=None,
        description="Redis URL of the live resource store shared by every desk and worker (redis://host:6379/0); none: an in-memory store for a single desk",
    )
    resource_stale_after_min: int = Field(
        default=720,
        ge=1,
        le=7 * 24 * 60,
        description=(
            "minutes after which a unit's state reads unknown. Default 720 (12 h), the shorter of the usual SMUR duty shifts"
            " (12 h or 24 h): a state nobody confirmed during a whole shift was set by an earlier crew and cannot be trusted"
        ),
    )
    redis_namespace: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description=(
            "part of every Redis key and of the change channel; default: the region id. Two services of one region"
            " that must not share states on one Redis database (a training desk beside the live one) need different names"
        ),
    )
    redis_timeout_s: float = Field(default=1.0, gt=0, le=30, description="seconds before a Redis command or connection attempt counts as failed")
    redis_retry_interval_s: float = Field(default=1.0, gt=0, le=60, description="seconds between attempts to reach Redis while it is down")

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:6379/0, rediss://... or unix://...")
        return value or None

    @field_validator("case_id_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as err:
            raise ValueError(f"not a valid regular expression ({err}); e.g. {DEFAULT_CASE_ID_PATTERN}") from err
        return value

    @field_validator("data_dir", "region_dir", "cache_dir", "tokens_file", "state_dir")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None


def get_settings() -> Settings:
    return Settings()
