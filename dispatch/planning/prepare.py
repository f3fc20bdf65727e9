"""A scenario made ready to run: roads, chain parameters, population, time bands and availability draws.

The preparation checks the scenario against the loaded region (site ids, road refs,
profile) and raises ScenarioError naming the key of a value the region does not know.
Everything here is a function of the scenario and the loaded data, so two processes
preparing the same scenario get the same result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
from astral import Observer
from astral.sun import dawn, dusk

from dispatch.calls import parse_call
from dispatch.plans import ChainParameters
from dispatch.recommend import locate
from dispatch.resources import ResourceKind, ResourceSnapshot, ResourceState
from dispatch.service import ServiceContext
from geodata.errors import DataError, InputError
from geodata.sites import Site
from dispatch.planning.population import PopulationModel, build_population
from dispatch.planning.scenario import DATA_PREFIX, ScenarioError, ScenarioModel
from protocols import Profile, available_profiles, load_profile
from routing.router import RoadRouter, SnappedSite
from routing.snap import Snap
from routing.scenario import (
    ClosureIndex,
    RoadScenario,
    edge_departements,
    ref_departements,
    road_scenario,
    split_scoped_ref,
    unmatched_refs,
    unmatched_way_ids,
)

logger = logging.getLogger(__name__)

MINUTES_PER_DAY = 24 * 60

# The identity of every simulated state change in a snapshot.
SIMULATION_ACTOR = "planning-simulation"


@dataclass(frozen=True)
class TimeBand:
    """A part of the day during which daylight and the cath labs closed by hours do not change.

    Minutes count from local midnight. ``moment_min``, the middle of the band, stands for
    it when its plans are built, so that daylight at a base a few minutes off the
    region's centre still matches the band's.
    """

    start_min: int
    end_min: int
    daylight: bool
    closed_labs: frozenset[str]

    @property
    def moment_min(self) -> int:
        return (self.start_min + self.end_min) // 2


@dataclass(frozen=True)
class AvailabilityDraw:
    """One draw of the units' availability: SMUR teams free, helicopters not grounded by weather."""

    smur_available: dict[str, bool]
    heli_flying: dict[str, bool]


@dataclass(eq=False)
class PreparedScenario:
    """The data the simulation and the coverage read, built once per scenario and process."""

    model: ScenarioModel
    context: ServiceContext
    # The service context with the scenario's profile, chain parameters and door-to-wire
    # minutes: what the recommendation stages read.
    service: ServiceContext
    profile: Profile
    router: RoadRouter
    params: ChainParameters
    days: tuple[date, ...]
    roads: dict[int, RoadScenario]
    population: PopulationModel
    commune_nodes: np.ndarray
    commune_snap_m: np.ndarray
    commune_snaps: tuple[Snap | None, ...]
    commune_lat: np.ndarray
    commune_lon: np.ndarray
    commune_landable: np.ndarray
    bands: tuple[TimeBand, ...]
    band_starts: np.ndarray
    draws: tuple[AvailabilityDraw, ...]
    lab_ids: tuple[str, ...]
    season_keys: dict[date, int] = field(default_factory=dict)
    # The class of each band: bands with the same daylight and closed cath labs share
    # their plans, and the first band of a class stands for it.
    band_class: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _snapshots: dict[tuple, ResourceSnapshot] = field(default_factory=dict)

    def road_for(self, day: date) -> RoadScenario:
        return self.roads[day.month]

    def band_at(self, minute_of_day: int) -> int:
        """Return the band class of a minute of the day."""
        return int(self.band_class[np.searchsorted(self.band_starts, minute_of_day, side="right") - 1])

    def band_classes(self, minutes: np.ndarray) -> np.ndarray:
        return self.band_class[np.searchsorted(self.band_starts, minutes, side="right") - 1]

    def moment(self, day: date, band: TimeBand) -> datetime:
        """Return the aware local time that stands for ``band`` on ``day``."""
        timezone = self.context.region.timezone
        return datetime.combine(day, time(0, 0), tzinfo=timezone) + timedelta(minutes=band.moment_min)

    def snapshot(self, day: date, band_index: int, draw_index: int | None) -> ResourceSnapshot:
        """Return the units' states at the band's moment on ``day``; ``draw_index`` None: every unit free.

        Snapshots are kept per (day, band, draw), since many calls share one.
        """
        key = (day, band_index, draw_index)
        snapshot = self._snapshots.get(key)
        if snapshot is None:
            snapshot = self._build_snapshot(day, band_index, draw_index)
            self._snapshots[key] = snapshot
        return snapshot

    def _build_snapshot(self, day: date, band_index: int, draw_index: int | None) -> ResourceSnapshot:
        band = self.bands[band_index]
        moment = self.moment(day, band)
        until = self.moment(day, TimeBand(band.end_min, band.end_min, band.daylight, frozenset()))
        model = self.model
        states: dict[tuple[ResourceKind, str], ResourceState] = {}

        def put(kind: ResourceKind, unit_id: str, state: str, until_at: datetime | None = None) -> None:
            states[(kind, unit_id)] = ResourceState(kind=kind, unit_id=unit_id, state=state, set_by=SIMULATION_ACTOR, set_at=moment, until=until_at)

        for lab_id in self.lab_ids:
            if lab_id in band.closed_labs:
                put(ResourceKind.CATH_LAB, lab_id, "closed", until)
            else:
                put(ResourceKind.CATH_LAB, lab_id, "open")
        draw = self.draws[draw_index] if draw_index is not None else None
        for site in self.context.region.sites.sites:
            if site.smur_base is not None:
                free = site.id not in model.smur.closed and (draw is None or draw.smur_available[site.id])
                put(ResourceKind.SMUR, site.id, "available" if free else "engaged")
            if site.heli_base is not None:
                put(ResourceKind.HELICOPTER, site.id, self._heli_state(site, band, draw))
        return ResourceSnapshot(states=states, taken_at=moment, store="simulation")

    def _heli_state(self, site: Site, band: TimeBand, draw: AvailabilityDraw | None) -> str:
        """Return a base's state as the scenario sets it; the air model checks seasons and night capability."""
        helicopters = self.model.helicopters
        if helicopters.bases is not None and site.id not in helicopters.bases:
            return "off_season"
        if site.id in helicopters.grounded:
            return "grounded_weather"
        # NOTE: night here is the band's, from the twilight at the region's centre; the
        # air model decides night flying from the twilight at each base.
        if not band.daylight and not helicopters.night_flight:
            return "off_season"
        if draw is not None and not draw.heli_flying[site.id]:
            return "grounded_weather"
        return "available"

    def season_key(self, day: date) -> int:
        """Return a small integer shared by the days whose roads and base seasons are the same."""
        return self.season_keys[day]


def period_days(model: ScenarioModel) -> tuple[date, ...]:
    period = model.period
    return tuple(period.start + timedelta(days=offset) for offset in range((period.end - period.start).days + 1))


def _data_path(value: str | None, data_dir: Path) -> Path | None:
    if value is None:
        return None
    if value.startswith(DATA_PREFIX):
        return data_dir / value.removeprefix(DATA_PREFIX)
    return Path(value)


def _minute(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _in_window(minute: int, start: int, end: int) -> bool:
    """True when ``minute`` lies in [start, end), a window that may run over midnight."""
    if start == end:
        return True
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def daylight_window(context: ServiceContext, day: date) -> tuple[int, int]:
    """Return civil dawn and dusk (minutes after local midnight) at the region's centre on ``day``.

    NOTE: one point stands for the whole region; dawn and dusk differ by a few minutes
    across it, and valleys see the sun later than the civil twilight.
    """
    centre = context.region.boundary_wgs84.representative_point()
    observer = Observer(latitude=centre.y, longitude=centre.x)
    timezone = context.region.timezone
    start = dawn(observer, day, tzinfo=timezone)
    end = dusk(observer, day, tzinfo=timezone)
    return start.hour * 60 + start.minute, end.hour * 60 + end.minute


def time_bands(context: ServiceContext, model: ScenarioModel, reference_day: date) -> tuple[TimeBand, ...]:
    """Split the day at dawn, dusk and every closure's start and end."""
    dawn_min, dusk_min = daylight_window(context, reference_day)
    cuts = {0, dawn_min, dusk_min}
    windows = []
    for closure in model.cath_labs.closed:
        if closure.start is None:
            windows.append((closure.site, 0, 0))
            continue
        start, end = _minute(closure.start), _minute(closure.end)
        windows.append((closure.site, start, end))
        cuts.update({start, end})
    bands = []
    ordered = sorted(cuts)
    for index, start in enumerate(ordered):
        end = ordered[index + 1] if index + 1 < len(ordered) else MINUTES_PER_DAY
        closed = frozenset(site for site, first, last in windows if _in_window(start, first, last))
        bands.append(TimeBand(start, end, dawn_min <= start < dusk_min, closed))
    return tuple(bands)


def availability_draws(context: ServiceContext, model: ScenarioModel) -> tuple[AvailabilityDraw, ...]:
    """Draw the units' availability ``calls.availability_draws`` times, from the scenario's seed."""
    rng = np.random.default_rng([model.calls.seed, 1])
    sites = context.region.sites.sites
    smur_ids = [s.id for s in sites if s.smur_base is not None]
    heli_ids = [s.id for s in sites if s.heli_base is not None]
    draws = []
    for _ in range(model.calls.availability_draws):
        smur = rng.random(len(smur_ids)) < model.smur.availability
        heli = rng.random(len(heli_ids)) >= model.helicopters.weather_grounded_probability
        draws.append(AvailabilityDraw(dict(zip(smur_ids, smur.tolist())), dict(zip(heli_ids, heli.tolist()))))
    return tuple(draws)


def _check_sites(context: ServiceContext, model: ScenarioModel) -> None:
    sites = context.region.sites.sites
    labs = {s.id for s in sites if s.cath_lab is not None}
    smur = {s.id for s in sites if s.smur_base is not None}
    heli = {s.id for s in sites if s.heli_base is not None}
    names = {s.id: s.name for s in sites}
    checks = [(f"cath_labs.closed.{i}.site", c.site, labs, "cath_lab") for i, c in enumerate(model.cath_labs.closed)]
    checks += [(f"smur.closed.{i}", site, smur, "smur_base") for i, site in enumerate(model.smur.closed)]
    checks += [(f"helicopters.grounded.{i}", site, heli, "heli_base") for i, site in enumerate(model.helicopters.grounded)]
    checks += [(f"helicopters.bases.{i}", site, heli, "heli_base") for i, site in enumerate(model.helicopters.bases or ())]
    checks += [(f"chain.door_to_wire_by_site.{site}", site, labs, "cath_lab") for site in model.chain.door_to_wire_by_site]
    for key, site, known, kind in checks:
        choices = ", ".join(sorted(known))
        if site in names and site not in known:
            # The site exists but lacks what the key needs: SMUR La Mure is no cath lab.
            raise ScenarioError(
                f"scenario_site_not_{kind}", f"{key}: site {site!r} ({names[site]}) is not a {kind}", field=key, value=site, name=names[site], choices=choices
            )
        if site not in known:
            raise ScenarioError("scenario_unknown_site", f"{key}: site {site!r} is unknown", field=key, value=site, choices=choices)


def region_edge_departements(context: ServiceContext) -> np.ndarray:
    """Return each edge's département, from the region's communes (see ``edge_departements``)."""
    cached = context.__dict__.get("_planning_edge_departements")
    if cached is None:
        communes = context.region.communes.communes
        x, y = context.region.project(np.array([c.lon for c in communes]), np.array([c.lat for c in communes]))
        cached = edge_departements(context.network, np.asarray(x), np.asarray(y), np.array([c.departement for c in communes]))
        context.__dict__["_planning_edge_departements"] = cached
    return cached


def _check_roads(context: ServiceContext, model: ScenarioModel, edge_departement: np.ndarray) -> None:
    network = context.network
    for ref in model.roads.closed_refs:
        road, departement = split_scoped_ref(ref)
        spans = ref_departements(network, road, edge_departement) if departement is None else []
        if len(spans) > 1:
            scoped = ", ".join(f"{road}@{d}" for d in spans)
            raise ScenarioError(
                "scenario_road_departements",
                f"roads.closed_refs: {road} lies in départements {', '.join(spans)}: name one, such as {scoped}",
                field="roads.closed_refs", value=road, departements=", ".join(spans), scoped=scoped, first=spans[0],
            )
    refs = unmatched_refs(network, frozenset(model.roads.closed_refs), edge_departement)
    if refs:
        raise ScenarioError("scenario_unknown_road", f"roads.closed_refs: {refs} match no road of the network", field="roads.closed_refs", value=", ".join(refs))
    ways = unmatched_way_ids(network, frozenset(model.roads.closed_way_ids))
    if ways:
        raise ScenarioError("scenario_unknown_road", f"roads.closed_way_ids: {ways} match no road of the network", field="roads.closed_way_ids", value=", ".join(map(str, ways)))


def chain_parameters(base: ChainParameters, model: ScenarioModel) -> ChainParameters:
    """Return the service's chain parameters with the scenario's replacements."""
    chain = model.chain
    changes = {
        name: getattr(chain, name)
        for name in ("dispatch_delay_min", "fmc_to_diagnosis_min", "on_scene_pci_min", "on_scene_lysis_min", "emergency_time_factor")
        if getattr(chain, name) is not None
    }
    return replace(base, **changes)


def _router_with_door_to_wire(router: RoadRouter, model: ScenarioModel) -> RoadRouter:
    """Return a router whose cath labs carry the scenario's door-to-wire minutes.

    The copy shares the trees and snappers of the service's router: the destinations'
    nodes do not change, only the minutes a plan adds at the door.
    """
    chain = model.chain
    if chain.door_to_wire_min is None and not chain.door_to_wire_by_site:
        return router
    copy = object.__new__(RoadRouter)
    copy.__dict__.update(router.__dict__)
    destinations = {}
    for site_id, snapped in router.destinations.items():
        minutes = chain.door_to_wire_by_site.get(site_id, chain.door_to_wire_min)
        if minutes is None:
            destinations[site_id] = snapped
            continue
        lab = snapped.site.cath_lab
        fact = replace(lab.door_to_wire_min, value=float(minutes), verified=False, source="planning scenario")
        site = replace(snapped.site, cath_lab=replace(lab, door_to_wire_min=fact))
        destinations[site_id] = SnappedSite(site=site, snap=snapped.snap)
    copy.destinations = destinations
    return copy


@dataclass(frozen=True)
class CommuneCalls:
    """The origin of each commune's calls, located as a call naming the commune is."""

    snaps: tuple[Snap | None, ...]
    lat: np.ndarray
    lon: np.ndarray
    landable: np.ndarray

    @property
    def nodes(self) -> np.ndarray:
        return np.array([snap.node if snap is not None else -1 for snap in self.snaps], dtype=np.int64)

    @property
    def snap_m(self) -> np.ndarray:
        return np.array([snap.distance_m if snap is not None else 0.0 for snap in self.snaps])


def locate_communes(context: ServiceContext, road: RoadScenario, communes) -> CommuneCalls:
    """Locate each commune as a call naming it is located; a commune the service cannot locate gets None."""
    snaps: list[Snap | None] = []
    lat, lon, landable = [], [], []
    now = datetime.now(context.region.timezone)
    for commune in communes:
        call = None
        try:
            call = parse_call(context.region, commune=commune.insee, at=now, now=now, lang="en", places=None)
            snaps.append(locate(context, call, road))
        except InputError as err:
            logger.warning("commune %s (%s) cannot be located: %s", commune.insee, commune.name, err)
            snaps.append(None)
        lat.append(call.lat if call else commune.lat)
        lon.append(call.lon if call else commune.lon)
        landable.append(call.landable if call else True)
    return CommuneCalls(tuple(snaps), np.array(lat), np.array(lon), np.array(landable, dtype=bool))


def scenario_service(context: ServiceContext, router: RoadRouter, profile: Profile, params: ChainParameters) -> ServiceContext:
    """Return a copy of the service context that reads the scenario's router, profile and chain parameters."""
    if router is context.router and profile is context.profile and params == context.chain_parameters:
        return context
    service = replace(context, router=router, profile=profile)
    # chain_parameters is a cached property: setting its cache serves the scenario's values.
    service.__dict__["chain_parameters"] = params
    return service


def year_round_roads(context: ServiceContext, road: RoadScenario) -> RoadScenario:
    """Return ``road`` with every seasonal closure of the year applied, to locate communes on.

    A commune located on the roads of its season may join the network at a pass that
    lies in its area when the pass is open. That would move the commune's patients
    between seasons, so communes are located on the roads open all year.
    """
    closures = ClosureIndex.of(context.network)
    open_all_year = road.open_edges.copy()
    for month in range(1, 13):
        open_all_year &= ~closures.closed_in(month)
    return RoadScenario(open_edges=open_all_year, description="roads open all year", speed_factor=road.speed_factor)


def prepare(context: ServiceContext, model: ScenarioModel) -> PreparedScenario:
    """Check ``model`` against the loaded region and build everything a run reads."""
    region = context.region
    if model.region is not None and model.region != region.id:
        raise ScenarioError("scenario_region", f"region {model.region!r} is not the loaded region {region.id!r}", field="region", value=model.region, loaded=region.id)
    _check_sites(context, model)
    edge_departement = region_edge_departements(context)
    _check_roads(context, model, edge_departement)
    profile = context.profile
    if model.profile is not None and model.profile != context.profile.name:
        try:
            profile = load_profile(model.profile)
        except (InputError, DataError) as err:
            raise ScenarioError(
                "scenario_unknown_profile", f"profile: {err}", field="profile", value=model.profile, choices=", ".join(available_profiles())
            ) from err

    days = period_days(model)
    roads_model = model.roads
    roads = {}
    for day in days:
        if day.month not in roads:
            roads[day.month] = road_scenario(
                context.network,
                day,
                seasonal=roads_model.seasonal_closures,
                closed_refs=frozenset(roads_model.closed_refs),
                closed_way_ids=frozenset(roads_model.closed_way_ids),
                speed_factor=roads_model.snow_speed_factor,
                edge_departement=edge_departement,
            )
    router = _router_with_door_to_wire(context.router, model)
    # Another profile brings its own chain parameters, before the scenario's replacements.
    profile_params = context.chain_parameters if profile is context.profile else replace(context, profile=profile).chain_parameters
    params = chain_parameters(profile_params, model)

    data_dir = context.settings.data_dir
    population_model = model.population
    population = build_population(
        region.communes.communes,
        _data_path(population_model.tourist_beds, data_dir) if population_model.include_tourists else None,
        _data_path(population_model.occupancy, data_dir) if population_model.include_tourists else None,
        named_period=population_model.occupancy_period,
        rate_override=population_model.occupancy_rate,
    )
    located = locate_communes(context, year_round_roads(context, roads[days[0].month]), population.communes)
    nodes = located.nodes
    middle = days[len(days) // 2]
    bands = time_bands(context, model, middle)
    season_signatures: dict[tuple, int] = {}
    season_keys = {}
    for day in days:
        signature = (day.month, tuple(router.bases_in_season(day).tolist()))
        season_keys[day] = season_signatures.setdefault(signature, len(season_signatures))
    classes: dict[tuple[bool, frozenset[str]], int] = {}
    band_class = np.array([classes.setdefault((band.daylight, band.closed_labs), index) for index, band in enumerate(bands)])
    prepared = PreparedScenario(
        model=model,
        context=context,
        service=scenario_service(context, router, profile, params),
        profile=profile,
        router=router,
        params=params,
        days=days,
        roads=roads,
        population=population,
        commune_nodes=nodes,
        commune_snap_m=located.snap_m,
        commune_snaps=located.snaps,
        commune_lat=located.lat,
        commune_lon=located.lon,
        commune_landable=located.landable,
        bands=bands,
        band_starts=np.array([band.start_min for band in bands]),
        draws=availability_draws(context, model),
        lab_ids=tuple(router.destinations),
        season_keys=season_keys,
        band_class=band_class,
    )
    logger.info(
        "scenario %s prepared: %d days, %d time bands, %d communes located of %d",
        model.name, len(days), len(bands), int((nodes >= 0).sum()), len(nodes),
    )
    return prepared
