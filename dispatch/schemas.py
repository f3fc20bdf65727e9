"""Pydantic models of the HTTP API's bodies.

The request model validates input. The answer models document the response in OpenAPI
and are checked against real answers by the tests; the service itself returns plain
dicts serialised with orjson, because validating its own output would add to the cost of
every request.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RecommendationRequest(BaseModel):
    """A STEMI call: where the patient is, when symptoms began, and the patient flags."""

    model_config = ConfigDict(extra="forbid")

    lat: float | None = Field(default=None, strict=True, description="patient latitude, decimal degrees (WGS84)", examples=[45.9237])
    lon: float | None = Field(default=None, strict=True, description="patient longitude, decimal degrees (WGS84)", examples=[6.8694])
    commune: str | None = Field(
        default=None,
        description="commune name, 'Name (département)' or INSEE code; locates the patient when lat/lon are absent",
        examples=["Chamonix"],
    )
    onset: str | None = Field(default=None, description="symptom onset: ISO 8601 date-time, or a clock time alone (08:30) read as the last time the clock showed it before the call; without offset, the region's local time", examples=["2026-02-14T08:30+01:00"])
    at: str | None = Field(default=None, description="time of the call, ISO 8601; default: now", examples=["2026-02-14T10:00+01:00"])
    age: int | None = Field(default=None, strict=True, description="age in years")
    shock: bool = Field(default=False, strict=True, description="cardiogenic shock")
    arrest: bool = Field(default=False, strict=True, description="resuscitated cardiac arrest")
    contraindication: Literal["absolute", "relative"] | None = Field(default=None, description="contraindication to fibrinolysis")
    landable: bool = Field(default=True, strict=True, description="false when a helicopter cannot land at the patient's point: it lands at a landing zone a road leg away")
    lang: Literal["fr", "en"] | None = Field(default=None, description="language of the texts; default fr")


class SiteRef(BaseModel):
    id: str
    finess: str | None = Field(description="FINESS establishment number; null for a site outside France")
    name: str
    lat: float
    lon: float


class HelicopterLeg(BaseModel):
    """The helicopter part of an air plan."""

    base_id: str
    base_name: str
    aircraft: str | None
    night: bool = Field(description="activated between civil dusk and dawn (night activation delay)")
    activation_min: int
    flight_to_scene_min: int
    flight_to_scene_km: float
    flight_to_lab_km: float
    first_on_scene: bool = Field(description="the helicopter team lands before the road SMUR and makes the first medical contact")
    liftoff_after_call_min: int
    on_scene_after_call_min: int
    block_speed_kmh: float
    helipad_verified: bool


class AirBaseStatus(BaseModel):
    id: str
    name: str
    state: str = Field(description="live state: available, engaged, grounded_weather, off_season or unknown")
    available: bool
    reason: str = Field(description="daylight, night_flight, night, night_unknown, dusk_before_landing, off_season or state_<state>")
    reason_text: str
    night_flight: bool
    flight_to_scene_km: float
    dawn: str | None = Field(description="civil dawn at the base, local time")
    dusk: str | None = Field(description="civil dusk at the base, local time")


class AirAssessmentOut(BaseModel):
    """Why air transport was or was not chosen."""

    assessed: bool
    chosen: bool
    reason_code: Literal["air_faster", "road_faster", "no_base", "no_helipad"]
    reason: str
    landable: bool
    best_air: PlanSummary | None
    best_road: PlanSummary | None
    labs_without_helipad: list[str]
    bases: list[AirBaseStatus]


class ClosedCathLab(BaseModel):
    id: str
    name: str
    state: str
    state_text: str
    until: str | None
    set_by: str | None
    set_at: str | None


class ResourcesUsed(BaseModel):
    store: str = Field(description="memory, redis, or none when the call was answered without a store")
    reachable: bool = Field(description="false when the shared store could not be read: every state is then unknown")
    taken_at: str
    closed_cath_labs: list[ClosedCathLab]


class PlanSummary(BaseModel):
    """One cath lab reached by one transport, with its time chain."""

    destination: SiteRef
    transport: Literal["road", "helicopter"]
    diagnosis_to_wire_min: int
    call_to_wire_min: int
    transport_min: int
    transport_km: float
    door_to_wire_min: int
    chain_min: dict[str, int] = Field(description="each interval of the chain, in whole minutes, in chain order")
    helicopter: HelicopterLeg | None = Field(default=None, description="for an air plan, the helicopter's base and legs")


class RuleApplied(BaseModel):
    id: str
    text: str = Field(description="the rule and the numbers that decided, in the answer's language")
    values: dict[str, int | float | str | bool]
    source: str = Field(description="guideline and class/level, or the project's own rule")


class Warning(BaseModel):
    """A warning; its other keys are the values named in its text."""

    model_config = ConfigDict(extra="allow")

    code: str
    text: str


class SmurPassedOver(BaseModel):
    id: str
    name: str
    state: str
    state_text: str
    drive_min: int
    extra_min: int = Field(description="minutes the team sent takes beyond this one")


class SmurProposed(BaseModel):
    id: str
    name: str
    state: str = Field(description="live state: available, engaged, off_duty or unknown")
    state_text: str
    drive_min: int | None
    drive_km: float
    first_on_scene: bool
    none_available: bool = Field(description="no SMUR team is available: the nearest is counted as if it left now")
    passed_over: list[SmurPassedOver]


class Patient(BaseModel):
    lat: float
    lon: float
    commune: dict[str, str] | None
    snap_distance_m: int
    located_by: Literal["commune", "coordinates", "place"]
    place: str | None = Field(description="the network's named place the patient was located at, if any")
    access_min: int = Field(description="minutes between the point and its network node, counted in the SMUR drive and in the transport")
    onset: str | None
    at: str
    symptom_min_at_diagnosis: int | None
    age_years: int | None
    cardiogenic_shock: bool
    resuscitated_arrest: bool
    contraindication: Literal["none", "relative", "absolute"]
    landable: bool


class NetworkInfo(BaseModel):
    source: str = Field(description="osm_pbf, osm_xml, osm_download or skeleton")
    name: str
    version: str
    approximate: bool
    built_at: str
    date: str = Field(description="date of the call, which selects the seasonal closures")
    closed_sections: int


class Recommendation(BaseModel):
    """The recommendation and every figure and rule behind it."""

    strategy: Literal["primary_pci", "fibrinolysis_then_transfer", "pci_centre_no_lysis", "no_emergency_reperfusion"]
    strategy_text: str
    destination: SiteRef | None
    transport: Literal["road", "helicopter"] | None
    chain_min: dict[str, int]
    diagnosis_to_wire_min: int | None = Field(description="anticipated diagnosis to wire crossing of the fastest PCI plan")
    threshold_min: float | None
    decisive_delay: dict[str, str | int | float | None] = Field(description="the delay the profile compares with its threshold: name (diagnosis_to_wire or fmc_to_wire), value_min, threshold_min")
    diagnosis_to_wire_range_min: list[int] | None = Field(description="low and high diagnosis-to-wire minutes of the fastest PCI plan over the profile's parameter ranges (on-scene time, emergency driving factor, unverified door-to-wire)")
    domestic_alternative: dict[str, object] | None = Field(description="when the destination is abroad, the best plan in the region's country and the strategy it leads to")
    call_to_wire_min: int | None = Field(description="call to wire crossing of the fastest PCI plan")
    call_to_arrival_min: int | None = Field(description="call to arrival at the destination of the chosen plan: the sum of its chain without door-to-wire")
    bolus_within_min: int | None = Field(description="for fibrinolysis, the bolus is given within this many minutes of the diagnosis, during the on-scene time")
    lysis_dose: str | None
    timeline: dict[str, str] = Field(description="estimated clock time of each step, in the region's timezone")
    smur: SmurProposed | None
    helicopter: HelicopterLeg | None = Field(description="the chosen air plan's helicopter, when the transport is by air")
    air: AirAssessmentOut
    alternatives: list[PlanSummary] = Field(description="every road and air plan to an open cath lab, fastest first")
    resources: ResourcesUsed
    geometry: dict[str, list[list[float]] | None] = Field(description="lines to draw as [lon, lat] points: road (the chosen road route) and flight (base, patient, cath lab)")
    rules: list[RuleApplied]
    warnings: list[Warning]
    patient: Patient
    network: NetworkInfo
    profile: dict[str, str]
    sites_version: str
    lang: Literal["fr", "en"]
    recommendation_id: str | None = Field(
        default=None, description="id of this answer in the registry, to link the case to it; absent when the service does not record answers"
    )


class ErrorDetail(BaseModel):
    code: str = Field(description="stable error code")
    field: str | None = Field(description="the request field at fault, when there is one")
    message: str = Field(description="what failed and how to fix it, in the request's language")


class ErrorBody(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="degraded: the shared resource store is unreachable and unit states read unknown, or the registry database is unreachable"
    )
    message: str
    region: str
    network: dict[str, str | int | bool]
    profile: str
    sites_version: str
    started_at: str
    resources: dict[str, str | int | bool | None] = Field(description="the resource store: name, reachable, since when it is not")
    registry: dict[str, str | int | bool | None] = Field(
        description="the registry database: backend, reachable, recording, pending_writes (live answers not yet stored), error code"
    )
