"""A region: its boundary, timezone, projection, sites, communes and network sources.

Everything specific to one SAMU lives in a region directory (``region.yaml`` plus its
sites file) and in the shared data directory it points to. Another SAMU writes its own
region directory; no code changes.
"""

from __future__ import annotations

import gzip
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import shapely
import yaml
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pyproj import CRS, Transformer
from shapely.geometry import shape
from shapely.ops import unary_union

from geodata.communes import Commune, CommuneIndex, load_communes, read_aliases
from geodata.errors import DataError
from geodata.sites import SiteCatalogue, load_sites

logger = logging.getLogger(__name__)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _DataRef(_Strict):
    data: str


class _Boundary(_DataRef):
    property: str
    values: list[str]
    margin_m: float = Field(default=0, ge=0)


class _Aliases(_DataRef):
    code_column: str
    name_column: str


class _Communes(_DataRef):
    departements: list[str] | None = None
    polygons: str | None = None
    aliases: _Aliases | None = None


class _BySource(_Strict):
    osm: float = Field(gt=0)
    skeleton: float = Field(gt=0)


class AccessLeg(_Strict):
    """Speed and detour of the leg between a point and its nearest network node."""

    speed_kmh: float = Field(gt=0, le=130)
    detour_factor: float = Field(ge=1, le=3)
    source: str


class RegionFileModel(_Strict):
    id: str
    name: dict[str, str]
    country: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    timezone: str
    crs: str
    boundary: _Boundary
    download_margin_m: float = Field(default=20000, ge=0)
    communes: _Communes
    skeleton: _DataRef | None = None
    sites: str
    profile: str
    max_snap_m: _BySource
    warn_snap_m: _BySource
    access_leg: dict[Literal["osm", "skeleton"], AccessLeg] = Field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Region:
    """A loaded region. ``boundary`` is in the region's projected CRS (metres)."""

    id: str
    name: dict[str, str]
    country: str
    timezone: ZoneInfo
    crs: str
    boundary: shapely.Geometry
    boundary_wgs84: shapely.Geometry
    boundary_margin_m: float
    download_margin_m: float
    communes: CommuneIndex
    sites: SiteCatalogue
    sites_path: Path
    skeleton_path: Path | None
    profile: str
    max_snap_m: dict[str, float]
    warn_snap_m: dict[str, float]
    access_leg: dict[str, AccessLeg]
    to_projected: Transformer
    communes_polygons_path: Path | None = None

    def project(self, lon: float | np.ndarray, lat: float | np.ndarray) -> tuple:
        """Project WGS84 longitude and latitude to the region's CRS (x, y in metres)."""
        return self.to_projected.transform(lon, lat)

    def commune_polygon(self, insee: str) -> shapely.Geometry | None:
        """Return the commune's polygon in the region's CRS, or None when no polygon file is configured."""
        polygons = self._commune_polygons()
        return polygons.get(insee) if polygons is not None else None

    def _commune_polygons(self) -> dict[str, shapely.Geometry] | None:
        if self.communes_polygons_path is None:
            return None
        cached = self.__dict__.get("_polygons")
        if cached is None:
            wanted = {c.insee for c in self.communes.communes}
            features = _read_geojson(self.communes_polygons_path)["features"]
            cached = {
                f["properties"]["code_insee"]: _project_geometry(self.to_projected, shape(f["geometry"]))
                for f in features
                if f["properties"].get("code_insee") in wanted
            }
            self.__dict__["_polygons"] = cached
        return cached

    def commune_at(self, lon: float, lat: float) -> Commune | None:
        """Return the commune whose polygon contains the point, or None (or no polygon file)."""
        polygons = self._commune_polygons()
        if not polygons:
            return None
        index = self.__dict__.get("_polygon_index")
        if index is None:
            codes = list(polygons)
            geometries = [polygons[code] for code in codes]
            for geometry in geometries:
                shapely.prepare(geometry)
            index = (np.array(shapely.bounds(geometries)), geometries, codes)
            self.__dict__["_polygon_index"] = index
        bounds, geometries, codes = index

        # A bounding-box filter over the arrays leaves one to a few polygons to test,
        # which is several times faster than building a Point for an STRtree query.
        x, y = self.project(lon, lat)
        near = np.flatnonzero((bounds[:, 0] <= x) & (x <= bounds[:, 2]) & (bounds[:, 1] <= y) & (y <= bounds[:, 3]))
        for position in near.tolist():
            if shapely.contains_xy(geometries[position], x, y):
                return self.communes.by_insee(codes[position])
        return None

    def contains(self, lon: float, lat: float) -> bool:
        """True when the point lies inside the boundary widened by its margin."""
        x, y = self.project(lon, lat)
        return self.contains_xy(x, y)

    def contains_xy(self, x: float, y: float) -> bool:
        """True when the projected point lies inside the boundary widened by its margin."""
        return bool(shapely.contains_xy(self.boundary, x, y))


def _project_geometry(transformer: Transformer, geometry: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _read_geojson(path: Path) -> dict:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def load_region(region_dir: Path, data_dir: Path) -> Region:
    """Load ``region_dir/region.yaml`` and the files it names; raise DataError on any problem."""
    region_file = region_dir / "region.yaml"
    try:
        raw = yaml.safe_load(region_file.read_text(encoding="utf-8"))
        model = RegionFileModel.model_validate(raw)
    except OSError as err:
        raise DataError("region_invalid", f"cannot read {region_file}: {err}; set RESURCOR_REGION_DIR to a region directory", field="RESURCOR_REGION_DIR") from err
    except (yaml.YAMLError, ValidationError) as err:
        raise DataError("region_invalid", f"invalid region file {region_file}: {err}", field=str(region_file)) from err

    try:
        timezone = ZoneInfo(model.timezone)
    except ZoneInfoNotFoundError as err:
        raise DataError("region_invalid", f"unknown timezone {model.timezone!r} in {region_file}", field="timezone") from err
    try:
        CRS.from_user_input(model.crs)
    except Exception as err:  # pyproj raises CRSError, a plain Exception subclass
        raise DataError("region_invalid", f"unknown crs {model.crs!r} in {region_file}: {err}", field="crs") from err

    def shared(relative: str, key: str) -> Path:
        path = data_dir / relative
        if not path.is_file():
            raise DataError(
                "data_missing",
                f"{key}: the data file {path} does not exist; set RESURCOR_DATA_DIR to the shared data directory",
                field="RESURCOR_DATA_DIR",
                path=str(path),
            )
        return path

    # Boundary: union of the selected features, projected, then widened by the margin.
    to_projected = Transformer.from_crs("EPSG:4326", model.crs, always_xy=True)
    features = _read_geojson(shared(model.boundary.data, "boundary"))["features"]
    selected = [shape(f["geometry"]) for f in features if str(f["properties"].get(model.boundary.property)) in model.boundary.values]
    if not selected:
        raise DataError("region_invalid", f"no boundary feature has {model.boundary.property} in {model.boundary.values}", field="boundary.values")
    boundary_wgs84 = unary_union(selected)
    boundary = _project_geometry(to_projected, boundary_wgs84)
    if model.boundary.margin_m:
        boundary = boundary.buffer(model.boundary.margin_m)
    shapely.prepare(boundary)

    aliases = None
    if model.communes.aliases is not None:
        alias_file = model.communes.aliases
        aliases = read_aliases(shared(alias_file.data, "communes.aliases"), alias_file.code_column, alias_file.name_column)
    communes = load_communes(shared(model.communes.data, "communes"), set(model.communes.departements or []) or None, aliases)
    sites_path = (region_dir / model.sites).resolve()
    sites = load_sites(sites_path)
    skeleton_path = (data_dir / model.skeleton.data) if model.skeleton else None

    region = Region(
        id=model.id,
        name=model.name,
        country=model.country,
        timezone=timezone,
        crs=model.crs,
        boundary=boundary,
        boundary_wgs84=boundary_wgs84,
        boundary_margin_m=model.boundary.margin_m,
        download_margin_m=model.download_margin_m,
        communes=communes,
        sites=sites,
        sites_path=sites_path,
        skeleton_path=skeleton_path,
        profile=model.profile,
        max_snap_m=model.max_snap_m.model_dump(),
        warn_snap_m=model.warn_snap_m.model_dump(),
        access_leg=dict(model.access_leg),
        to_projected=to_projected,
        communes_polygons_path=shared(model.communes.polygons, "communes.polygons") if model.communes.polygons else None,
    )
    logger.info("region %s loaded from %s", region.id, region_dir)
    return region
