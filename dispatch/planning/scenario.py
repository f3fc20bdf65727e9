"""Planning scenario files: YAML validated by pydantic, with ``extends:`` and key overrides.

A scenario states a period (dates and hours of the simulated calls), the protocol
profile and the roads (seasonal pass calendar, ad-hoc closures, snow). It also sets the
cath labs closed by hours, helicopter and SMUR availability, the time-chain parameters
that differ from the profile, the population model and the simulated calls. ``extends: other.yaml``
reads another file first and lays this file's keys over it, mapping by mapping, so a
variant states only what changes.

Every invalid value raises ``ScenarioError`` naming the key path (``cath_labs.closed.0.site``)
and the expected value, in the catalogue's words.
"""

from __future__ import annotations

import logging
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic_core import PydanticCustomError
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from geodata.errors import InputError

logger = logging.getLogger(__name__)

# A population table path with this prefix is read from the shared data directory.
DATA_PREFIX = "data:"

# A chain of ``extends`` longer than this is a loop or a mistake.
MAX_EXTENDS_DEPTH = 8


def _clock_text(value: Any) -> Any:
    # YAML 1.1 reads an unquoted 22:00 as the number 1320 (base 60), so a clock time
    # must be a quoted string, or a time that YAML has already parsed.
    if isinstance(value, time | str):
        return value
    raise PydanticCustomError("clock_quotes", 'write clock times in quotes, such as "22:00"')


ClockTime = Annotated[time, BeforeValidator(_clock_text)]


def _scoped_ref(value: Any) -> Any:
    # A ref may name its département as a mapping, {ref: D902, departement: "73"}, or
    # in the text, "D902@73": road numbers are unique only within a département.
    if isinstance(value, dict):
        if set(value) - {"ref", "departement"} or not isinstance(value.get("ref"), str):
            raise PydanticCustomError("road_ref_form", 'write a ref as "D902", "D902@73" or {ref: D902, departement: "73"}')
        departement = value.get("departement")
        return f"{value['ref']}@{departement}" if departement is not None else value["ref"]
    return value


RoadRef = Annotated[str, BeforeValidator(_scoped_ref)]


class ScenarioError(InputError):
    """A scenario file is missing, unreadable or has an invalid key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Strict):
    """The days and hours during which calls are simulated, in the region's local time."""

    start: date
    end: date
    # Hours of the simulated calls, as [from, to) local clock times; "20:00"-"08:00" runs
    # over midnight. The default covers the whole day.
    hours: tuple[ClockTime, ClockTime] = (time(0, 0), time(0, 0))
    # Representative clock times of the day and night coverage tables.
    day_time: ClockTime = time(14, 0)
    night_time: ClockTime = time(3, 0)

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise PydanticCustomError("period_order", "end {end} is before start {start}: give end on or after start", {"end": str(self.end), "start": str(self.start)})
        if (self.end - self.start).days > 366:
            raise PydanticCustomError("period_too_long", "the period spans more than a year: split it into several scenarios")
        return self


class Roads(_Strict):
    """Road closures and speeds of the scenario."""

    # The pass calendar of the network (each edge's month range) applies when true.
    seasonal_closures: bool = True
    # Ad-hoc closures. A road ref ("D902") closes every edge of that road, and an edge's
    # full ref ("E250 D902") only the edges of that ref. A ref that lies in several
    # départements must name one: "D902@73" or {ref: D902, departement: "73"}. Way ids
    # are OpenStreetMap way ids.
    closed_refs: tuple[RoadRef, ...] = ()
    closed_way_ids: tuple[int, ...] = ()
    # Ratio of the day's speeds to normal speeds on every road: 0.72 on a heavy-snow day.
    snow_speed_factor: float = Field(default=1.0, gt=0.2, le=1.0)


class CathLabClosure(_Strict):
    """A cath lab closed every day of the period between two clock times (all day without them)."""

    site: str
    start: ClockTime | None = Field(default=None, alias="from")
    end: ClockTime | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _both_or_none(self) -> CathLabClosure:
        if (self.start is None) != (self.end is None):
            raise PydanticCustomError("closure_bounds", "give both from and to (clock times), or neither for a closure all day")
        return self


class CathLabs(_Strict):
    closed: tuple[CathLabClosure, ...] = ()


class Helicopters(_Strict):
    """Helicopter availability. The air model reads it once it has landed in the recommendation."""

    # Bases in use; null: every base of the region in its season.
    bases: tuple[str, ...] | None = None
    # Bases grounded for the whole period ("the Chambéry helicopter is grounded for a week").
    grounded: tuple[str, ...] = ()
    # Night flying where the base's data allows it; false grounds every helicopter at night.
    night_flight: bool = True
    # Probability that weather grounds a base on a given day.
    weather_grounded_probability: float = Field(default=0.15, ge=0.0, le=1.0)


class Smur(_Strict):
    # Probability that a SMUR team is at its base and free when a call comes in.
    availability: float = Field(default=0.9, ge=0.0, le=1.0)
    # Bases closed for the whole period.
    closed: tuple[str, ...] = ()


class Chain(_Strict):
    """Time-chain parameters that replace the profile's values (minutes, or a factor)."""

    dispatch_delay_min: float | None = Field(default=None, ge=0, le=120)
    fmc_to_diagnosis_min: float | None = Field(default=None, ge=0, le=120)
    on_scene_pci_min: float | None = Field(default=None, ge=0, le=180)
    on_scene_lysis_min: float | None = Field(default=None, ge=0, le=180)
    emergency_time_factor: float | None = Field(default=None, gt=0.3, le=2.0)
    # Door-to-wire minutes of every cath lab, or of the sites named in door_to_wire_by_site.
    door_to_wire_min: float | None = Field(default=None, ge=0, le=240)
    door_to_wire_by_site: dict[str, float] = Field(default_factory=dict)


class Population(_Strict):
    """Residents plus tourists present: beds times the occupancy of the period."""

    # A beds table (CSV with insee and tourist_beds_total, optional occupancy_profile,
    # source and confidence) and an occupancy table per profile and period. A path
    # starting with "data:" is read from the shared data directory (RESURCOR_DATA_DIR),
    # another relative path from the scenario file's folder. No beds table: residents only.
    tourist_beds: str | None = None
    occupancy: str | None = None
    # Period of the occupancy table to use ("february_school_holidays"); null: the
    # period containing each simulated day.
    occupancy_period: str | None = None
    # Replaces every occupancy rate (0 to 1) when set: a what-if on the table's rates.
    occupancy_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    include_tourists: bool = True


class OnsetToCall(_Strict):
    """Delay between symptom onset and the call to the SAMU: a log-normal distribution."""

    median_min: float = Field(default=75.0, gt=0, le=1440)
    p90_min: float = Field(default=300.0, gt=0, le=2880)
    # Share of calls whose onset time the caller cannot give.
    unknown_share: float = Field(default=0.05, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> OnsetToCall:
        if self.p90_min <= self.median_min:
            raise PydanticCustomError("onset_order", "p90_min ({p90}) must be larger than median_min ({median})", {"p90": self.p90_min, "median": self.median_min})
        return self


class Patients(_Strict):
    """Shares of the patient flags that change the strategy."""

    age_75_or_more_share: float = Field(default=0.25, ge=0.0, le=1.0)
    cardiogenic_shock_share: float = Field(default=0.05, ge=0.0, le=1.0)
    resuscitated_arrest_share: float = Field(default=0.03, ge=0.0, le=1.0)
    absolute_contraindication_share: float = Field(default=0.03, ge=0.0, le=1.0)


class Calls(_Strict):
    """The Monte-Carlo of simulated STEMI calls."""

    count: int = Field(default=100_000, ge=1, le=50_000_000)
    seed: int = Field(default=20270201, ge=0)
    # Relative call rate per local hour (24 values): STEMI onset peaks in the morning.
    hour_weights: tuple[float, ...] | None = None
    onset_to_call: OnsetToCall = OnsetToCall()
    patients: Patients = Patients()
    # Distinct draws of unit availability (SMUR teams free, helicopters grounded) that
    # the calls share; each call takes one at random.
    availability_draws: int = Field(default=8, ge=1, le=1024)

    @field_validator("hour_weights")
    @classmethod
    def _hours(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is None:
            return value
        if len(value) != 24:
            raise PydanticCustomError("hour_weights_count", "give 24 weights, one per hour from 00 to 23, not {count}", {"count": len(value)})
        if min(value) < 0 or sum(value) <= 0:
            raise PydanticCustomError("hour_weights_sign", "weights must be ≥ 0 with a positive sum")
        return value


class ScenarioModel(_Strict):
    """A planning scenario as written in its YAML file (after ``extends`` is resolved)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: dict[Literal["fr", "en"], str] | str | None = None
    region: str | None = None
    period: Period
    profile: str | None = None
    roads: Roads = Roads()
    cath_labs: CathLabs = CathLabs()
    helicopters: Helicopters = Helicopters()
    smur: Smur = Smur()
    chain: Chain = Chain()
    population: Population = Population()
    calls: Calls = Calls()

    def title_in(self, lang: str) -> str:
        if isinstance(self.title, dict):
            return self.title.get(lang) or next(iter(self.title.values()))
        return self.title or self.name


def merge_overrides(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``override`` laid over it: mappings merge key by key, other values replace."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_overrides(merged[key], value)
        else:
            merged[key] = value
    return merged


class _ScenarioLoader(yaml.SafeLoader):
    """A safe YAML loader that leaves dates as text, so that pydantic checks them and names the key."""


# A date that is not in the calendar (2027-02-30) would otherwise fail inside the YAML
# reader, with no key to name.
_ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_scenario_yaml(text: str, source: str, key: str) -> Any:
    """Parse scenario YAML text; raise ScenarioError with the line and column of a syntax error."""
    try:
        return yaml.load(text, Loader=_ScenarioLoader)  # noqa: S506 - a SafeLoader without timestamps
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else ("?", "?")
        problem = getattr(err, "problem", None) or str(err)
        raise ScenarioError(
            "scenario_yaml", f"{source}, line {line}, column {column}: invalid YAML ({problem})", field=key, path=source, line=line, column=column, problem=problem
        ) from err


def _read_yaml(path: Path, key: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ScenarioError("scenario_not_found", f"scenario file {path} not found", field=key, path=str(path)) from err
    except OSError as err:
        raise ScenarioError("scenario_unreadable", f"scenario file {path} cannot be read: {err}", field=key, path=str(path)) from err
    data = parse_scenario_yaml(text, str(path), key)
    if not isinstance(data, dict):
        raise ScenarioError("scenario_not_mapping", f"{path} must hold a YAML mapping of keys", field=key, path=str(path))
    return data


def read_scenario_data(path: Path, *, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Return the raw keys of a scenario file with its ``extends`` chain resolved.

    Relative paths (``extends``, ``population.tourist_beds``) are read from the folder of
    the file that names them.
    """
    path = path.resolve()
    if path in _seen or len(_seen) >= MAX_EXTENDS_DEPTH:
        chain = " -> ".join(p.name for p in (*_seen, path))
        raise ScenarioError("scenario_extends_loop", f"extends loops or is too deep: {chain}", field="extends", chain=chain)
    data = _read_yaml(path, "extends" if _seen else "scenario")
    population = data.get("population")
    if isinstance(population, dict):
        for key in ("tourist_beds", "occupancy"):
            value = population.get(key)
            if isinstance(value, str) and not value.startswith(DATA_PREFIX):
                population[key] = str((path.parent / value).resolve())
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError("scenario_field", "extends must be a file path", field="extends", value=parent, problem="a file path")
    base = read_scenario_data(path.parent / parent, _seen=(*_seen, path))
    if "name" in data and "title" not in data:
        # A variant with a name of its own would otherwise show its parent's title.
        base.pop("title", None)
    return merge_overrides(base, data)


# pydantic error types with a catalogue text of their own (error.scenario_<type>), and
# the context values their texts show.
TRANSLATED_ERRORS = {
    "less_than_equal": "le",
    "less_than": "lt",
    "greater_than_equal": "ge",
    "greater_than": "gt",
    "float_parsing": None,
    "float_type": None,
    "int_parsing": None,
    "int_type": None,
    "int_from_float": None,
    "date_parsing": None,
    "date_from_datetime_parsing": None,
    "date_type": None,
    "time_parsing": None,
    "time_type": None,
    "bool_parsing": None,
    "bool_type": None,
    "string_pattern_mismatch": "pattern",
    "string_type": None,
    "tuple_type": None,
    "list_type": None,
    "dict_type": None,
    "model_type": None,
    "too_short": "min_length",
    "too_long": "max_length",
    "clock_quotes": None,
    "period_order": None,
    "period_too_long": None,
    "closure_bounds": None,
    "road_ref_form": None,
    "onset_order": None,
    "hour_weights_count": "count",
    "hour_weights_sign": None,
}


def validate_scenario(data: dict[str, Any], source: str = "scenario") -> ScenarioModel:
    """Validate raw scenario keys; raise ScenarioError naming the first invalid key path."""
    try:
        return ScenarioModel.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        path = ".".join(str(part) for part in first.get("loc", ())) or "scenario"
        kind = first.get("type", "")
        value = first.get("input")
        shown = value if isinstance(value, str | int | float | bool) or value is None else type(value).__name__
        if kind == "extra_forbidden":
            raise ScenarioError("scenario_unknown_key", f"{source}: unknown key {path}", field=path, source=source) from None
        if kind == "missing":
            raise ScenarioError("scenario_missing_key", f"{source}: key {path} is missing", field=path, source=source) from None
        problem = str(first.get("msg", ""))
        code = f"scenario_{kind}" if kind in TRANSLATED_ERRORS else "scenario_field"
        context = {name: str(value) for name, value in (first.get("ctx") or {}).items() if isinstance(value, str | int | float)}
        raise ScenarioError(
            code, f"{source}: {path} = {shown!r}: {problem}", field=path, source=source, value=shown, problem=problem, **context
        ) from None


def load_scenario(path: Path) -> ScenarioModel:
    """Read, resolve and validate a scenario file."""
    data = read_scenario_data(Path(path))
    scenario = validate_scenario(data, source=Path(path).name)
    logger.info("scenario %s read from %s", scenario.name, path)
    return scenario


__all__ = ["ScenarioError", "ScenarioModel", "load_scenario", "merge_overrides", "read_scenario_data", "validate_scenario"]
