"""Check one case (a CSV row or an API body) and turn it into the values the registry stores.

Every problem becomes a RowError naming the row and the field; a row with any error is
rejected whole and the rest of the file is still imported.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from dispatch.i18n import catalogue, translate
from dispatch.registry.case_id import DEFAULT_CASE_ID_PATTERN, case_id_problem
from dispatch.registry.fields import (
    ADMISSIONS,
    CHAIN_STAGES,
    POSITION_COMMUNE_CENTRE,
    POSITION_MEASURED,
    RECOMMENDED_FIELDS,
    SEXES,
    STRATEGIES,
    TIME_FIELDS,
    TRANSPORTS,
)
from dispatch.registry.privacy import round_position
from dispatch.timeparse import parse_time
from geodata.communes import Commune, CommuneIndex
from geodata.errors import InputError

# How far outside its commune's polygon a point may lie and still be accepted. The
# polygons are simplified to 0.0005° (about 55 m), a stored position is rounded to 100 m
# (at most 71 m off), and a home on a boundary may be geocoded just across it.
COMMUNE_TOLERANCE_M = 500.0
TRUE_WORDS = {"1", "true", "yes", "oui", "o", "y"}
FALSE_WORDS = {"0", "false", "no", "non", "n"}


@dataclass(frozen=True)
class RowError:
    """A rejected field: the row number (the header is row 1), the field, a code and its parameters."""

    row: int
    field: str
    code: str
    params: dict[str, Any]

    def text(self, lang: str, *, api: bool = False) -> str:
        """Return the error's message; ``api`` picks the wording for a JSON body where one exists."""
        # A case posted to the API has keys, not columns, and no other rows, so a code whose
        # file text mentions either has an "_api" text.
        key = f"error.registry_{self.code}"
        if api and f"{key}_api" in catalogue():
            key = f"{key}_api"
        # Time errors reuse the recommendation's texts (invalid, nonexistent, ambiguous time).
        if key not in catalogue():
            key = f"error.{self.code}"
        return translate(key, lang, **{**self.params, "field": self.field})

    def as_json(self, lang: str) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "code": self.code, "message": self.text(lang)}


@dataclass
class CaseCheck:
    """What a case is checked against: the region's communes and sites, and the registry's ids."""

    timezone: ZoneInfo
    crs: str
    communes: CommuneIndex
    destinations: frozenset[str]
    existing_case_ids: set[str] = field(default_factory=set)
    # Returns whether a recommendation id is recorded and whether a case already links to it.
    recommendation_state: Callable[[str], tuple[bool, bool]] = lambda _id: (False, False)
    linked_in_batch: set[str] = field(default_factory=set)
    # Returns whether (lon, lat) lies in the region; None accepts every point.
    contains: Callable[[float, float], bool] | None = None
    # Returns how far (lon, lat) lies outside a commune's polygon in metres (0 inside), or
    # None when the region has no polygon for it; None here skips the check.
    commune_distance_m: Callable[[str, float, float], float | None] | None = None
    # Returns the commune whose polygon contains (lon, lat), or None.
    commune_at: Callable[[float, float], Commune | None] = lambda _lon, _lat: None
    # The registry's case id format (RESURCOR_CASE_ID_PATTERN).
    case_id_pattern: re.Pattern[str] = re.compile(DEFAULT_CASE_ID_PATTERN)


@dataclass
class ValidCase:
    """A checked case: the ``cases`` row, and the recommendation row its CSV columns describe, if any."""

    values: dict[str, Any]
    recommendation: dict[str, Any] | None = None


def _text(raw: dict[str, Any], name: str) -> str:
    value = raw.get(name)
    return "" if value is None else str(value).strip()


def check_case(raw: dict[str, Any], row: int, check: CaseCheck) -> tuple[ValidCase | None, list[RowError]]:
    """Check one case; return it ready to store, or None and every error found in it."""
    errors: list[RowError] = []

    def reject(name: str, code: str, **params: Any) -> None:
        errors.append(RowError(row, name, code, params))

    values: dict[str, Any] = {}

    # Identity: a pseudonymous id, age in years and sex.
    case_id = _text(raw, "case_id")
    problem = case_id_problem(case_id, check.case_id_pattern) if case_id else None
    if not case_id:
        reject("case_id", "missing")
    elif problem is not None:
        reject("case_id", problem[0], **problem[1])
    elif case_id in check.existing_case_ids:
        reject("case_id", "duplicate_case_id", value=case_id)
    values["case_id"] = case_id

    age = _text(raw, "age_years")
    values["age_years"] = None
    if age:
        try:
            values["age_years"] = int(age)
        except ValueError:
            reject("age_years", "integer_invalid", value=age)
        else:
            if not 0 <= values["age_years"] <= 120:
                reject("age_years", "age_range", value=age)
    values["sex"] = _choice(raw, "sex", SEXES, reject, upper=True)

    # Place: the commune, and the position rounded to 100 m. Without one, the commune's
    # centre is stored and marked as such, so the export never passes it off as measured.
    insee = _text(raw, "commune_insee")
    commune = check.communes.by_insee(insee) if insee else None
    if not insee:
        reject("commune_insee", "missing")
    elif commune is None:
        reject("commune_insee", "commune_unknown", value=insee)
    values["commune_insee"] = insee
    values["departement"] = commune.departement if commune else None
    values["lat"], values["lon"], values["position_source"] = _position(raw, commune, check, reject)

    # Times, then their order along the chain.
    for name in TIME_FIELDS:
        values[name] = _time(raw, name, check.timezone, reject)
    if values["call"] is None and not any(e.field == "call" for e in errors):
        reject("call", "missing")
    _check_order(values, check.timezone, reject)

    # What was done, and the outcome.
    values["strategy"] = _choice(raw, "strategy", STRATEGIES, reject)
    values["transport"] = _choice(raw, "transport", TRANSPORTS, reject)
    values["destination"] = _destination(raw, "destination", check, reject)
    values["admission"] = _choice(raw, "admission", ADMISSIONS, reject)
    death = _text(raw, "in_hospital_death").lower()
    values["in_hospital_death"] = None
    if death in TRUE_WORDS:
        values["in_hospital_death"] = True
    elif death in FALSE_WORDS:
        values["in_hospital_death"] = False
    elif death:
        reject("in_hospital_death", "boolean_invalid", value=death)

    # The recommendation: a recorded one by id, or one described by the recommended_* columns.
    recommendation = None
    recommendation_id = _text(raw, "recommendation_id")
    described = any(_text(raw, name) for name in RECOMMENDED_FIELDS)
    if recommendation_id and described:
        reject("recommendation_id", "recommendation_twice", value=recommendation_id)
    elif recommendation_id:
        recorded, linked = check.recommendation_state(recommendation_id)
        if not recorded:
            reject("recommendation_id", "recommendation_unknown", value=recommendation_id)
        elif linked or recommendation_id in check.linked_in_batch:
            reject("recommendation_id", "recommendation_linked", value=recommendation_id)
    elif described:
        recommendation = _described_recommendation(raw, values, check, reject)
        if recommendation is not None:
            recommendation_id = recommendation["id"]
    values["recommendation_id"] = recommendation_id or None

    if errors:
        return None, errors
    check.existing_case_ids.add(case_id)
    if recommendation_id:
        check.linked_in_batch.add(recommendation_id)
    return ValidCase(values, recommendation), []


def _choice(raw: dict[str, Any], name: str, allowed: tuple[str, ...], reject, *, upper: bool = False) -> str | None:  # noqa: ANN001
    value = _text(raw, name)
    if not value:
        return None
    value = value.upper() if upper else value
    if value not in allowed:
        reject(name, "choice_invalid", value=value, choices=", ".join(allowed))
        return None
    return value


def _destination(raw: dict[str, Any], name: str, check: CaseCheck, reject) -> str | None:  # noqa: ANN001
    value = _text(raw, name)
    if value and value not in check.destinations:
        reject(name, "destination_unknown", value=value)
        return None
    return value or None


def _position(raw: dict[str, Any], commune, check: CaseCheck, reject) -> tuple[float | None, float | None, str | None]:  # noqa: ANN001
    """Return the rounded position and its source ("measured" or "commune_centre")."""
    lat_text, lon_text = _text(raw, "lat"), _text(raw, "lon")
    if not lat_text and not lon_text:
        if commune is None:
            return None, None, None
        return (*round_position(commune.lat, commune.lon, check.crs), POSITION_COMMUNE_CENTRE)
    if not lat_text or not lon_text:
        missing = "lat" if not lat_text else "lon"
        reject(missing, "position_half", other="lon" if missing == "lat" else "lat")
        return None, None, None
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        bad = "lat" if not _is_number(lat_text) else "lon"
        reject(bad, "number_invalid", value=lat_text if bad == "lat" else lon_text)
        return None, None, None
    if not -90 <= lat <= 90:
        reject("lat", "latitude_range", value=lat_text)
        return None, None, None
    if not -180 <= lon <= 180:
        reject("lon", "longitude_range", value=lon_text)
        return None, None, None
    if check.contains is not None and not check.contains(lon, lat):
        reject("lat", "position_outside_region", lat=lat_text, lon=lon_text)
        return None, None, None
    if commune is not None and not _in_commune(commune, lat, lon, check, reject):
        return None, None, None
    return (*round_position(lat, lon, check.crs), POSITION_MEASURED)


def _in_commune(commune: Commune, lat: float, lon: float, check: CaseCheck, reject) -> bool:  # noqa: ANN001
    """Check that the point lies in the commune's polygon or within COMMUNE_TOLERANCE_M of it; reject it and return False otherwise."""
    if check.commune_distance_m is None:
        return True
    distance = check.commune_distance_m(commune.insee, lon, lat)
    if distance is None or distance <= COMMUNE_TOLERANCE_M:
        return True
    params = {
        "insee": commune.insee,
        "commune": commune.name,
        "lat": f"{lat:.5f}",
        "lon": f"{lon:.5f}",
        "distance_m": round(distance),
        "tolerance_m": round(COMMUNE_TOLERANCE_M),
    }
    found = check.commune_at(lon, lat)
    if found is not None:
        reject("commune_insee", "position_other_commune", found_insee=found.insee, found_commune=found.name, **params)
    else:
        reject("commune_insee", "position_far_from_commune", **params)
    return False


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _time(raw: dict[str, Any], name: str, timezone: ZoneInfo, reject) -> datetime | None:  # noqa: ANN001
    text = _text(raw, name)
    if not text:
        return None
    try:
        return parse_time(text, name, timezone).value
    except InputError as err:
        reject(name, err.code, **err.params)
        return None


def _check_order(values: dict[str, Any], timezone: ZoneInfo, reject) -> None:  # noqa: ANN001
    """Reject each time that precedes a time of an earlier stage of the chain (CHAIN_STAGES)."""
    latest_name, latest = None, None
    for stage in CHAIN_STAGES:
        stage_name, stage_latest = latest_name, latest
        for name in stage:
            moment = values.get(name)
            if moment is None:
                continue
            if latest is not None and moment < latest:
                reject(name, "chain_order", value=_local(moment, timezone), earlier=latest_name, earlier_value=_local(latest, timezone))
            if stage_latest is None or moment > stage_latest:
                stage_name, stage_latest = name, moment
        latest_name, latest = stage_name, stage_latest


def _local(moment: datetime, timezone: ZoneInfo) -> str:
    return moment.astimezone(timezone).isoformat(timespec="minutes")


def _described_recommendation(raw: dict[str, Any], values: dict[str, Any], check: CaseCheck, reject) -> dict[str, Any] | None:  # noqa: ANN001
    strategy = _choice(raw, "recommended_strategy", STRATEGIES, reject)
    destination = _destination(raw, "recommended_destination", check, reject)
    transport = _choice(raw, "recommended_transport", TRANSPORTS, reject)
    predicted: dict[str, float | None] = {}
    failed = False
    for name in ("predicted_call_to_arrival_min", "predicted_diagnosis_to_wire_min"):
        text = _text(raw, name)
        predicted[name] = None
        if text:
            try:
                predicted[name] = float(text)
            except ValueError:
                reject(name, "number_invalid", value=text)
                failed = True
                continue
            if not 0 <= predicted[name] <= 24 * 60:
                reject(name, "minutes_range", value=text)
                failed = True
    if failed or strategy is None:
        if strategy is None and not _text(raw, "recommended_strategy"):
            reject("recommended_strategy", "missing")
        return None
    answer = {
        "strategy": strategy,
        "destination": {"id": destination} if destination else None,
        "transport": transport,
        "call_to_arrival_min": predicted["predicted_call_to_arrival_min"],
        "diagnosis_to_wire_min": predicted["predicted_diagnosis_to_wire_min"],
    }
    return {
        "id": str(uuid.uuid4()),
        "source": "import",
        "call_at": values.get("call"),
        "strategy": strategy,
        "destination": destination,
        "transport": transport,
        "predicted_call_to_arrival_min": predicted["predicted_call_to_arrival_min"],
        "predicted_diagnosis_to_wire_min": predicted["predicted_diagnosis_to_wire_min"],
        "answer": answer,
    }
