"""Sites of a region: cath labs, emergency hospitals, SMUR bases and helicopter bases.

The sites file is YAML, one entry per physical site with the roles it holds. Every fact
is ``{value, verified, source}`` so that an answer can show which figures are checked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from geodata.errors import DataError

logger = logging.getLogger(__name__)

T = TypeVar("T")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FactModel(_Strict, Generic[T]):
    value: T | None
    verified: bool
    source: str


class LocationModel(_Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    kind: str
    verified: bool
    note: str = ""


class CathLabModel(_Strict):
    pci_24_7: FactModel[bool]
    direct_admission: FactModel[bool] | None = None
    door_to_wire_min: FactModel[float] | None = None
    helipad: FactModel[bool] | None = None


_MONTH_DAY = r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


class RoleModel(_Strict):
    value: bool
    verified: bool
    source: str
    name: str = ""
    season: str = ""
    periods: list[tuple[Annotated[str, Field(pattern=_MONTH_DAY)], Annotated[str, Field(pattern=_MONTH_DAY)]]] | None = None
    night_flight: bool | None = None
    # Helicopter bases only: the aircraft and the base's own figures, each a fact with
    # its source; a missing figure takes the protocol profile's default.
    aircraft: FactModel[str] | None = None
    block_speed_kmh: FactModel[Annotated[float, Field(gt=50, lt=400)]] | None = None
    activation_day_min: FactModel[Annotated[float, Field(ge=0, le=120)]] | None = None
    activation_night_min: FactModel[Annotated[float, Field(ge=0, le=120)]] | None = None


class SiteModel(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    finess: str | None = None
    country: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    location: LocationModel
    emergency: FactModel[bool] | None = None
    cath_lab: CathLabModel | None = None
    smur_base: RoleModel | None = None
    heli_base: RoleModel | None = None

    @field_validator("finess")
    @classmethod
    def _finess_digits(cls, value: str | None) -> str | None:
        if value is not None and not value.isdigit():
            raise ValueError(f"finess must be digits, got {value!r}")
        return value


class SitesFileModel(_Strict):
    version: str
    sites: list[SiteModel]


@dataclass(frozen=True)
class Fact(Generic[T]):
    """A value with its verification status and source."""

    value: T | None
    verified: bool
    source: str


@dataclass(frozen=True)
class CathLab:
    pci_24_7: Fact[bool]
    direct_admission: Fact[bool]
    door_to_wire_min: Fact[float]
    helipad: Fact[bool]

    @property
    def is_destination(self) -> bool:
        """True when the site is known to run primary PCI around the clock."""
        return self.pci_24_7.value is True


@dataclass(frozen=True)
class Base:
    """A SMUR or helicopter base role of a site.

    ``periods`` are the (first, last) "MM-DD" days of each season, both included; a
    period may run over the new year ("12-15" to "05-05"). None means all year.
    """

    name: str
    season: str
    verified: bool
    source: str
    night_flight: bool | None = None
    periods: tuple[tuple[str, str], ...] | None = None
    aircraft: Fact[str] | None = None
    block_speed_kmh: Fact[float] | None = None
    activation_day_min: Fact[float] | None = None
    activation_night_min: Fact[float] | None = None

    def in_season(self, day: date) -> bool:
        """True when the base runs on ``day``."""
        if self.periods is None:
            return True
        key = f"{day.month:02d}-{day.day:02d}"
        for first, last in self.periods:
            if first <= last and first <= key <= last:
                return True
            if first > last and (key >= first or key <= last):
                return True
        return False


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    finess: str | None
    country: str
    lat: float
    lon: float
    location_kind: str
    location_verified: bool
    emergency: bool
    cath_lab: CathLab | None
    smur_base: Base | None
    heli_base: Base | None


@dataclass(frozen=True)
class SiteCatalogue:
    version: str
    sites: tuple[Site, ...]

    def by_id(self, site_id: str) -> Site:
        for site in self.sites:
            if site.id == site_id:
                return site
        raise KeyError(site_id)

    @cached_property
    def unconfirmed_cath_labs(self) -> tuple[Site, ...]:
        """Sites with a cath lab whose 24/7 primary PCI is unknown: listed, not routed to."""
        return tuple(s for s in self.sites if s.cath_lab is not None and s.cath_lab.pci_24_7.value is None)

    @cached_property
    def cath_labs(self) -> tuple[Site, ...]:
        """Sites known to run 24/7 primary PCI: the routing destinations."""
        return tuple(s for s in self.sites if s.cath_lab is not None and s.cath_lab.is_destination)

    @cached_property
    def smur_bases(self) -> tuple[Site, ...]:
        return tuple(s for s in self.sites if s.smur_base is not None)

    @property
    def heli_bases(self) -> tuple[Site, ...]:
        return tuple(s for s in self.sites if s.heli_base is not None)


def _fact(model: FactModel[Any] | None, default: Any, default_source: str) -> Fact[Any]:
    if model is None:
        return Fact(value=default, verified=False, source=default_source)
    return Fact(value=model.value, verified=model.verified, source=model.source)


def _base(model: RoleModel | None) -> Base | None:
    if model is None or not model.value:
        return None
    periods = tuple(tuple(p) for p in model.periods) if model.periods is not None else None
    facts = {
        name: Fact(value=fact.value, verified=fact.verified, source=fact.source)
        for name in ("aircraft", "block_speed_kmh", "activation_day_min", "activation_night_min")
        if (fact := getattr(model, name)) is not None and fact.value is not None
    }
    return Base(
        name=model.name, season=model.season, verified=model.verified, source=model.source, night_flight=model.night_flight, periods=periods, **facts
    )


def load_sites(path: Path, *, door_to_wire_direct_min: float = 20.0, door_to_wire_ed_min: float = 45.0) -> SiteCatalogue:
    """Load and validate a sites file; raise DataError naming the entry and key on a bad one.

    A cath lab without a door-to-wire figure gets the profile default for its admission
    route (direct to the cath lab, or through the emergency department).
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise DataError("sites_invalid", f"cannot read the sites file {path}: {err}", field=str(path)) from err
    try:
        parsed = SitesFileModel.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        location = ".".join(str(p) for p in first["loc"])
        raise DataError("sites_invalid", f"invalid sites file {path} at {location}: {first['msg']}", field=location) from err

    ids = [s.id for s in parsed.sites]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise DataError("sites_invalid", f"duplicate site ids in {path}: {duplicates}", field="id")

    sites = []
    for model in parsed.sites:
        cath_lab = None
        if model.cath_lab is not None:
            direct = _fact(model.cath_lab.direct_admission, False, "not stated: admission through the emergency department assumed")
            door_default = door_to_wire_direct_min if direct.value else door_to_wire_ed_min
            cath_lab = CathLab(
                pci_24_7=_fact(model.cath_lab.pci_24_7, None, ""),
                direct_admission=direct,
                door_to_wire_min=_fact(model.cath_lab.door_to_wire_min, door_default, "profile default"),
                helipad=_fact(model.cath_lab.helipad, None, "not stated"),
            )
        sites.append(
            Site(
                id=model.id,
                name=model.name,
                finess=model.finess,
                country=model.country,
                lat=model.location.lat,
                lon=model.location.lon,
                location_kind=model.location.kind,
                location_verified=model.location.verified,
                emergency=bool(model.emergency and model.emergency.value),
                cath_lab=cath_lab,
                smur_base=_base(model.smur_base),
                heli_base=_base(model.heli_base),
            )
        )
    catalogue = SiteCatalogue(version=parsed.version, sites=tuple(sites))
    logger.info(
        "sites %s: %d sites, %d cath labs used as destinations, %d SMUR bases, %d helicopter bases",
        parsed.version, len(sites), len(catalogue.cath_labs), len(catalogue.smur_bases), len(catalogue.heli_bases),
    )
    return catalogue
