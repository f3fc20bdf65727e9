"""Protocol profiles: the thresholds, time-chain parameters and rule texts of one guideline.

A profile is a YAML file, one per protocol version, so that a network can edit its
regional rules without code and planners can compare profiles. ``load_profile`` validates
the file with pydantic and checks it against what its engine needs (every threshold,
chain parameter and rule text), then returns plain frozen dataclasses.
"""

from __future__ import annotations

import logging
import os
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from geodata.errors import DataError
from protocols._requirements import CHAIN_PARAMETERS, ENGINE_RULES, ENGINE_THRESHOLDS, RULE_VALUES
from protocols.model import LANGUAGES, RuleFiring

logger = logging.getLogger(__name__)

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
DEFAULT_PROFILE = "esc2023"

_PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_BOOLEAN_WORDS = {"fr": ("oui", "non"), "en": ("yes", "no")}


class Confidence(StrEnum):
    """How far a value was checked: the marks used in the project's clinical research notes."""

    read = "read"  # read in a stored copy of the source
    from_memory = "from_memory"  # guideline content written from memory, to check against the text
    uncertain = "uncertain"  # approximate, dated, an estimate, or to confirm with the network
    secondary_source = "secondary_source"  # read in a summary, not in the original text


@dataclass(frozen=True)
class Threshold:
    """A rule threshold with its unit, source and confidence.

    A whole-number value is an int, so that it reads "120", not "120.0", in decisions.
    """

    value: int | float
    unit: str
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class Parameter:
    """A time-chain parameter: default value, plausible range, unit, source and confidence."""

    value: float
    low: float
    high: float
    unit: str
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class RuleText:
    """Sources and text templates of one rule, in French and English.

    ``source`` is the English source. ``load_profile`` always sets ``source_fr``, and its
    None default keeps the older three-argument form working.
    """

    source: str
    text_fr: str
    text_en: str
    source_fr: str | None = None


@dataclass(frozen=True)
class Profile:
    """A validated protocol profile.

    ``engine`` names the rules engine that ``protocols.decide`` runs for this profile.
    """

    name: str
    version: str
    engine: str
    title: str
    path: Path
    thresholds: Mapping[str, Threshold]
    chain: Mapping[str, Parameter]
    rules: Mapping[str, RuleText]
    description: str | None = None

    def threshold(self, key: str) -> int | float:
        """Return the value of threshold ``key``."""
        return self.thresholds[key].value

    def render_rule(self, rule_id: str, values: Mapping[str, int | float | str | bool]) -> RuleFiring:
        """Render the texts of ``rule_id`` with ``values`` and return the firing.

        ``values`` must carry exactly the names that the rule declares, so a template
        validated at load always renders.
        """
        expected = RULE_VALUES[rule_id]
        if set(values) != expected:
            raise ValueError(
                f"Internal error: rule {rule_id!r} fired with values {sorted(values)}, expected {sorted(expected)}"
            )
        try:
            rule = self.rules[rule_id]
        except KeyError:
            raise DataError(
                "profile_invalid",
                f"Profile {self.name!r} ({self.path}) has no text for rule {rule_id!r}. Add rules.{rule_id}.",
                field=f"rules.{rule_id}",
                path=str(self.path),
            ) from None

        texts = {}
        for lang, template in (("fr", rule.text_fr), ("en", rule.text_en)):
            formatted = {name: _format_value(value, lang) for name, value in values.items()}
            if DURATION_SUFFIX in template:
                formatted.update(_durations(values))
            texts[lang] = template.format_map(formatted)
        return RuleFiring(rule_id, values, rule.source, texts["fr"], texts["en"], source_fr=rule.source_fr)


DURATION_SUFFIX = "_hm"


def _with_durations(names: frozenset[str]) -> frozenset[str]:
    """Add the ``<name>_hm`` placeholder of every value counted in minutes (``*_min``)."""
    return names | {name + DURATION_SUFFIX for name in names if name.endswith("_min")}


def _durations(values: Mapping[str, int | float | str | bool]) -> dict[str, str]:
    """Format every minute value as hours and minutes ("12 h 28", "12 h", "47 min") for a reader."""
    durations = {}
    for name, value in values.items():
        if not name.endswith("_min") or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        minutes = round(value)
        hours, rest = divmod(minutes, 60)
        if hours and rest:
            durations[name + DURATION_SUFFIX] = f"{hours} h {rest:02d}"
        else:
            durations[name + DURATION_SUFFIX] = f"{hours} h" if hours else f"{rest} min"
    return durations


def _format_value(value: int | float | str | bool, lang: str) -> str:
    """Format a rule value for a text: whole numbers without decimals, else one decimal."""
    if isinstance(value, bool):
        yes, no = _BOOLEAN_WORDS[lang]
        return yes if value else no
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        text = f"{value:.1f}"
        # French writes a decimal comma.
        return text.replace(".", ",") if lang == "fr" else text
    return str(value)


# --- File schema (pydantic, used only while loading) ---

NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
FiniteNumber = Annotated[float, Field(ge=0, allow_inf_nan=False)]
ConfidenceField = Annotated[Confidence, Field(strict=False)]


class _ThresholdEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    value: FiniteNumber
    unit: NonEmptyText
    source: NonEmptyText
    confidence: ConfidenceField


class _ParameterEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    value: FiniteNumber
    low: FiniteNumber
    high: FiniteNumber
    unit: NonEmptyText
    source: NonEmptyText
    confidence: ConfidenceField

    @model_validator(mode="after")
    def _check_range(self) -> _ParameterEntry:
        if not self.low <= self.value <= self.high:
            raise ValueError(f"value {self.value} must lie between low {self.low} and high {self.high}")
        return self


class _FrenchEnglish(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    fr: NonEmptyText
    en: NonEmptyText


class _RuleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    source: _FrenchEnglish
    text: _FrenchEnglish

    @field_validator("source", mode="before")
    @classmethod
    def _check_source_languages(cls, source: Any) -> Any:
        # Profiles written before sources were translated give a plain string, so the error
        # explains the new shape.
        if isinstance(source, str):
            raise ValueError(
                "is a plain string, but must be a mapping with keys fr and en that gives the source in each language"
            )
        return source


class _ProfileFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: NonEmptyText
    version: NonEmptyText
    engine: NonEmptyText
    title: NonEmptyText
    description: NonEmptyText | None = None
    thresholds: dict[str, _ThresholdEntry]
    chain: dict[str, _ParameterEntry]
    rules: dict[str, _RuleEntry]

    @field_validator("engine")
    @classmethod
    def _check_engine(cls, engine: str) -> str:
        if engine not in ENGINE_RULES:
            raise ValueError(f"unknown engine {engine!r}, expected one of {sorted(ENGINE_RULES)}")
        return engine


# --- Loading ---


def available_profiles() -> tuple[str, ...]:
    """Return the names of the profiles shipped in ``protocols/profiles/``."""
    return tuple(sorted(path.stem for path in PROFILES_DIR.glob("*.yaml")))


def load_profile(name_or_path: str | os.PathLike[str] = DEFAULT_PROFILE) -> Profile:
    """Load and validate a profile, by shipped name ("esc2023") or by file path.

    Raises ``DataError`` with code ``profile_not_found`` when there is no such profile,
    and ``profile_invalid`` when the file cannot be parsed or breaks the schema. The
    error's ``field`` is the dotted key at fault (``chain.dispatch_delay_min.low``) and
    its message names the file.
    """
    path = _resolve_profile_path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(
            "profile_not_found",
            f"Profile file {path} not found. Use one of {list(available_profiles())} or the path of a YAML file.",
            field="profile",
            path=str(path),
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(
            "profile_invalid", f"Profile file {path} cannot be read: {err}", field=None, path=str(path)
        ) from err

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise DataError(
            "profile_invalid", f"Profile file {path} is not valid YAML: {err}", field=None, path=str(path)
        ) from err
    if not isinstance(raw, dict):
        raise DataError(
            "profile_invalid",
            f"Profile file {path} must contain a YAML mapping at top level, got {type(raw).__name__}",
            field=None,
            path=str(path),
        )

    try:
        entries = _ProfileFile.model_validate(raw)
    except ValidationError as err:
        raise _schema_error(err, path) from err
    _check_engine_requirements(entries, path)

    profile = Profile(
        name=entries.name,
        version=entries.version,
        engine=entries.engine,
        title=entries.title,
        description=entries.description,
        path=path,
        thresholds=MappingProxyType(
            {
                key: Threshold(_whole_as_int(entry.value), entry.unit, entry.source, entry.confidence)
                for key, entry in entries.thresholds.items()
            }
        ),
        chain=MappingProxyType(
            {
                key: Parameter(entry.value, entry.low, entry.high, entry.unit, entry.source, entry.confidence)
                for key, entry in entries.chain.items()
            }
        ),
        rules=MappingProxyType(
            {
                rule_id: RuleText(entry.source.en, entry.text.fr, entry.text.en, source_fr=entry.source.fr)
                for rule_id, entry in entries.rules.items()
            }
        ),
    )
    logger.info("loaded profile %s version %s (engine %s) from %s", profile.name, profile.version, profile.engine, path)
    return profile


def _whole_as_int(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _resolve_profile_path(name_or_path: str | os.PathLike[str]) -> Path:
    if isinstance(name_or_path, os.PathLike):
        return Path(name_or_path)
    text = str(name_or_path)
    if "/" in text or os.sep in text or text.endswith((".yaml", ".yml")):
        return Path(text)
    if not _PROFILE_NAME.match(text):
        raise DataError(
            "profile_not_found",
            f"Profile name {text!r} is invalid. Use one of {list(available_profiles())} or the path of a YAML file.",
            field="profile",
        )
    return PROFILES_DIR / f"{text}.yaml"


def _schema_error(err: ValidationError, path: Path) -> DataError:
    """Turn a pydantic error into a DataError whose field is the first key at fault."""
    problems = []
    for error in err.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        problems.append((key, error["msg"]))
    first_key = problems[0][0]
    listed = "; ".join(f"{key}: {message}" for key, message in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return DataError(
        "profile_invalid",
        f"Profile file {path} is invalid at {first_key}. {listed}{more}. Fix the file or choose another profile.",
        field=first_key,
        path=str(path),
    )


def _check_engine_requirements(entries: _ProfileFile, path: Path) -> None:
    """Raise DataError unless the profile has exactly the keys its engine reads, and
    every rule template uses only the values that its rule carries."""
    engine = entries.engine
    sections: tuple[tuple[str, Mapping[str, Any], frozenset[str]], ...] = (
        ("thresholds", entries.thresholds, ENGINE_THRESHOLDS[engine]),
        ("chain", entries.chain, frozenset(CHAIN_PARAMETERS)),
        ("rules", entries.rules, ENGINE_RULES[engine]),
    )
    for section, present, required in sections:
        missing = sorted(required - set(present))
        if missing:
            raise DataError(
                "profile_invalid",
                f"Profile file {path}: {section}.{missing[0]} is missing. The {engine} engine needs "
                f"{section} {missing}. Add the missing keys to the file.",
                field=f"{section}.{missing[0]}",
                path=str(path),
            )
        unknown = sorted(set(present) - required)
        if unknown:
            raise DataError(
                "profile_invalid",
                f"Profile file {path}: {section}.{unknown[0]} is not used by the {engine} engine. "
                f"Remove it or correct its name. Expected keys: {sorted(required)}.",
                field=f"{section}.{unknown[0]}",
                path=str(path),
            )

    for rule_id, entry in entries.rules.items():
        for lang in LANGUAGES:
            key = f"rules.{rule_id}.text.{lang}"
            problem = _template_problem(getattr(entry.text, lang), _with_durations(RULE_VALUES[rule_id]))
            if problem:
                raise DataError(
                    "profile_invalid", f"Profile file {path}: {key} is invalid: {problem}", field=key, path=str(path)
                )


def _template_problem(template: str, allowed: frozenset[str]) -> str | None:
    """Return why ``template`` cannot be rendered with the ``allowed`` value names, or None."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as err:
        return f"{err}. Write a literal brace as {{{{ or }}}}."
    for _literal, name, format_spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed:
            return f"placeholder {{{name}}} is not a value of this rule. Available: {sorted(allowed) or 'none'}"
        if format_spec or conversion:
            return f"placeholder {{{name}}} must not carry a format or conversion, because values are pre-formatted"
    return None
