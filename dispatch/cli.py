"""The ``resurcor`` command line.

Errors in the input end the command with status 2 and one line in the chosen language
(``--lang``, else RESURCOR_LANG, else French); no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from geodata.errors import CacheError, DataError, InputError, NetworkBuildError, ResurcorError
from dispatch.i18n import LANGUAGES, error_text, translate
from dispatch.settings import Settings, get_settings

logger = logging.getLogger(__name__)

EXIT_USAGE = 2
EXIT_FAILURE = 1


class UsageError(Exception):
    """An argparse error, turned into one translated line."""

    def __init__(self, message: str, command: str):
        super().__init__(message)
        self.command = command


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog.removeprefix("resurcor").strip() or "")


_EXPECTED_VALUE = re.compile(r"^argument (\S+?)(?:/\S+)?: expected one argument$")
_INVALID_CHOICE = re.compile(r"^argument (\S+?)(?:/\S+)?: invalid choice: '?([^']*)'? \(choose from (.*)\)$")
_INVALID_VALUE = re.compile(r"^argument (\S+?)(?:/\S+)?: invalid \S+ value: '?([^']*)'?$")
_REQUIRED = re.compile(r"^the following arguments are required: (.*)$")


def _usage_text(err: UsageError, lang: str) -> str:
    """Translate an argparse message into one line of the catalogue; unknown forms pass through."""
    message = str(err)
    command = " ".join(["resurcor", err.command]).strip()
    if message.startswith("unrecognized arguments:"):
        return translate("error.unknown_option", lang, value=message.split(":", 1)[1].strip(), command=command)
    if match := _EXPECTED_VALUE.match(message):
        return translate("error.usage_expected_value", lang, option=match.group(1))
    if match := _INVALID_CHOICE.match(message):
        choices = match.group(3).replace("'", "")
        return translate("error.usage_invalid_choice", lang, option=match.group(1), value=match.group(2), choices=choices)
    if match := _INVALID_VALUE.match(message):
        return translate("error.usage_invalid_value", lang, option=match.group(1), value=match.group(2))
    if match := _REQUIRED.match(message):
        return translate("error.usage_required", lang, names=match.group(1))
    return translate("error.usage", lang, detail=message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="resurcor", description="STEMI reperfusion decision support for a SAMU (the physician decides).")
    parser.add_argument("--log-level", default="WARNING", help="logging level (DEBUG, INFO, WARNING)")
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="{recommend,route,serve,geodata,communes}"
    )

    rec = commands.add_parser("recommend", help="recommend a reperfusion strategy, destination and transport for a STEMI call")
    rec.add_argument("--lat", type=str, help="patient latitude, decimal degrees (WGS84)")
    rec.add_argument("--lon", type=str, help="patient longitude, decimal degrees (WGS84)")
    rec.add_argument("--commune", help="commune name (accents and case ignored); locates the patient when --lat/--lon are absent")
    rec.add_argument("--onset", help="symptom onset, ISO 8601 (e.g. 2026-02-14T08:10+01:00); without offset read as the region's local time")
    rec.add_argument("--at", help="time of the call, ISO 8601; default: now")
    rec.add_argument("--age", help="patient age in years")
    rec.add_argument("--shock", action="store_true", help="cardiogenic shock")
    rec.add_argument("--arrest", action="store_true", help="resuscitated cardiac arrest (ROSC)")
    rec.add_argument("--contraindication", help="contraindication to fibrinolysis: absolute or relative")
    rec.add_argument("--lang", choices=LANGUAGES, help="language of the texts (default fr)")
    rec.add_argument("--json", action="store_true", help="print the answer as JSON")

    route = commands.add_parser("route", help="driving time and distance between two points on the loaded network")
    route.add_argument("--from", dest="origin", required=True, help="origin LAT,LON in decimal degrees")
    route.add_argument("--to", dest="target", required=True, help="destination LAT,LON in decimal degrees")
    route.add_argument("--at", help="date-time of the trip, ISO 8601 (selects seasonal closures); default: now")
    route.add_argument("--lang", choices=LANGUAGES)
    route.add_argument("--json", action="store_true")

    serve = commands.add_parser("serve", help="start the HTTP API and web service")
    serve.add_argument("--host", help="address to bind (default RESURCOR_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default RESURCOR_PORT or 8000)")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")

    geodata = commands.add_parser("geodata", help="build the road network cache")
    geodata_commands = geodata.add_subparsers(dest="geodata_command", required=True, parser_class=_Parser)
    build = geodata_commands.add_parser("build", help="build the network from OSM or the region's skeleton and write the cache")
    source = build.add_mutually_exclusive_group(required=True)
    source.add_argument("--osm", type=Path, metavar="PATH", help="local OpenStreetMap extract (.osm.pbf or .osm XML)")
    source.add_argument("--skeleton", nargs="?", const="", metavar="PATH", help="curated skeleton GeoJSON (default: the region's)")
    source.add_argument("--download", action="store_true", help="download the region (plus its margin) from OpenStreetMap with osmnx")
    build.add_argument("--crs", help="projected CRS for the network (default: the region's)")
    build.add_argument("--if-stale", action="store_true", help="do nothing when the current cache is fresh and built from the same source")

    communes = commands.add_parser("communes", help="search communes by name")
    communes.add_argument("name")
    communes.add_argument("--limit", type=int, default=10)
    return parser


def _lang_from_argv(argv: list[str], settings_lang: str) -> str:
    for index, arg in enumerate(argv):
        if arg == "--lang" and index + 1 < len(argv) and argv[index + 1] in LANGUAGES:
            return argv[index + 1]
        if arg.startswith("--lang=") and arg.split("=", 1)[1] in LANGUAGES:
            return arg.split("=", 1)[1]
    return settings_lang


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = get_settings()
    except ValueError as err:
        print(f"resurcor: invalid setting: {err}".splitlines()[0], file=sys.stderr)
        return EXIT_USAGE
    lang = _lang_from_argv(argv, settings.lang)

    try:
        args = build_parser().parse_args(argv)
    except UsageError as err:
        # Unknown options are reported by the top-level parser: point at the subcommand's help.
        if not err.command and argv and argv[0] in {"recommend", "route", "serve", "geodata", "communes"}:
            err.command = argv[0]
        print(f"resurcor: {_usage_text(err, lang)}", file=sys.stderr)
        return EXIT_USAGE

    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING), format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "recommend":
            return _recommend(args, settings, lang)
        if args.command == "route":
            return _route(args, settings, lang)
        if args.command == "serve":
            return _serve(args, settings)
        if args.command == "geodata":
            return _geodata_build(args, settings)
        if args.command == "communes":
            return _communes(args, settings)
    except InputError as err:
        print(f"resurcor: {error_text(err, lang, field_prefix='--')}", file=sys.stderr)
        return EXIT_USAGE
    except (CacheError, DataError, NetworkBuildError) as err:
        print(f"resurcor: {error_text(err, lang)}", file=sys.stderr)
        return EXIT_FAILURE
    except ResurcorError as err:
        print(f"resurcor: {error_text(err, lang)}", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:
        # The reader (head, less) closed the pipe: stop quietly, as other commands do.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    return EXIT_FAILURE


def _load(settings: Settings):
    from dispatch.service import load_context

    return load_context(settings)


def _recommend(args: argparse.Namespace, settings: Settings, lang: str) -> int:
    from dispatch.calls import parse_call
    from dispatch.recommend import recommend
    from dispatch.render import render_text

    context = _load(settings)
    call = parse_call(
        context.region,
        lat=args.lat,
        lon=args.lon,
        commune=args.commune,
        onset=args.onset,
        at=args.at,
        now=datetime.now(UTC),
        age=args.age,
        shock=args.shock,
        arrest=args.arrest,
        contraindication=args.contraindication,
        lang=lang,
        places=context.places,
    )
    answer = recommend(context, call)
    if args.json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        print(render_text(answer, lang))
    return 0


def parse_point(text: str, field: str) -> tuple[float, float]:
    """Parse ``LAT,LON`` in decimal degrees; raise InputError naming ``field``."""
    from dispatch.calls import check_coordinate

    parts = text.split(",")
    if len(parts) != 2:
        raise InputError("point_invalid", f"{field}: {text!r} is not LAT,LON", field=field, value=text)
    try:
        return check_coordinate(parts[0].strip(), "lat"), check_coordinate(parts[1].strip(), "lon")
    except InputError as err:
        raise InputError("point_invalid", f"{field}: {text!r} is not LAT,LON ({err})", field=field, value=text) from err


def route_answer(context, origin: tuple[float, float], target: tuple[float, float], when: datetime, lang: str) -> dict[str, Any]:
    """Return the fastest car route between two points on the loaded network."""
    from geodata.errors import OutsideRegionError
    from routing.scenario import seasonal_scenario
    from routing.trees import point_to_point
    from dispatch.plans import route_polyline

    snaps = []
    for (lat, lon), field in ((origin, "from"), (target, "to")):
        snap = context.snap_point(lon, lat)
        if snap.distance_m > context.max_snap_m:
            raise OutsideRegionError(
                "too_far_from_network", f"{field}: ({lat}, {lon}) is {snap.distance_m:.0f} m from the network",
                field=field, lat=lat, lon=lon, distance_m=round(snap.distance_m), max_m=round(context.max_snap_m),
            )
        snaps.append(snap)
    scenario = seasonal_scenario(context.network, when.astimezone(context.region.timezone).date())
    time_s, dist_m, path = point_to_point(context.network, scenario, snaps[0].node, snaps[1].node)
    if not math.isfinite(time_s):
        raise InputError("unreachable", "no road route between the two points", field="to")
    factor = context.emergency_time_factor
    return {
        "from": {"lat": origin[0], "lon": origin[1], "snap_distance_m": round(snaps[0].distance_m)},
        "to": {"lat": target[0], "lon": target[1], "snap_distance_m": round(snaps[1].distance_m)},
        "car_time_min": round(time_s / 60.0, 1),
        "smur_time_min": round(time_s * factor / 60.0, 1),
        "emergency_time_factor": factor,
        "distance_km": round(dist_m / 1000.0, 1),
        "path": route_polyline(context.network, path),
        "network": {
            "source": context.network.source.kind,
            "name": context.network.source.name,
            "version": context.network.version,
            "approximate": context.network.source.approximate,
            "scenario": scenario.description,
        },
        "warnings": [{"code": "network_approximate", "text": translate("warning.network_approximate", lang)}]
        if context.network.source.approximate
        else [],
    }


def _route(args: argparse.Namespace, settings: Settings, lang: str) -> int:
    from dispatch.calls import _parse_when

    from dispatch.service import load_route_context

    origin = parse_point(args.origin, "from")
    target = parse_point(args.target, "to")
    context = load_route_context(settings)
    when = _parse_when(args.at, "at", context.region.timezone).value if args.at else datetime.now(UTC)
    answer = route_answer(context, origin, target, when, lang)
    if args.json:
        answer = {k: v for k, v in answer.items()}
        print(json.dumps(answer, ensure_ascii=False, indent=2))
        return 0
    sep = translate("label.sep", lang)
    print(f"{translate('label.route_time', lang)}{sep}{translate('label.minutes', lang, value=answer['car_time_min'])}")
    print(f"{translate('label.route_emergency', lang, factor=answer['emergency_time_factor'])}{sep}{translate('label.minutes', lang, value=answer['smur_time_min'])}")
    print(f"{translate('label.route_distance', lang)}{sep}{translate('label.km', lang, value=answer['distance_km'])}")
    print(translate("label.route_snap", lang, origin_m=answer["from"]["snap_distance_m"], target_m=answer["to"]["snap_distance_m"]))
    for warning in answer["warnings"]:
        print(f"! {warning['text']}")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from dispatch.api import create_app
    from dispatch.service import load_context

    # Load before binding: a missing or stale cache stops the start with its message.
    context = load_context(settings)
    app = create_app(settings, context=context)

    # The loaded network and trees live as long as the process: moving them out of the
    # collector's generations keeps full collections from pausing requests for ~60 ms.
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=1,
        log_level="info",
        access_log=settings.access_log,
    )
    return 0


def _geodata_build(args: argparse.Namespace, settings: Settings) -> int:
    from geodata.network import save_network
    from geodata.region import load_region
    from dispatch.service import network_cache_dir

    region = load_region(settings.region_dir, settings.data_dir)
    crs = args.crs or region.crs
    if args.if_stale and _cache_is_fresh(settings, args, region):
        print(f"{network_cache_dir(settings)}: cache up to date")
        return 0
    if args.skeleton is not None:
        from geodata.skeleton import build_from_skeleton

        path = Path(args.skeleton) if args.skeleton else region.skeleton_path
        if path is None:
            raise DataError("data_missing", "the region names no skeleton; give --skeleton PATH", field="skeleton")
        network = build_from_skeleton(path, crs)
    elif args.osm is not None:
        from geodata.osm import build_from_osm

        network = build_from_osm(args.osm, crs=crs)
    else:
        from geodata.osm import build_from_download

        network = build_from_download(region.boundary_wgs84, crs=crs, margin_m=region.download_margin_m)
    path = save_network(network, network_cache_dir(settings))
    print(f"{network.version}: {network.node_count} nodes, {network.edge_count} edges, source {network.source.kind} {network.source.name} -> {path}")
    return 0


def _cache_is_fresh(settings: Settings, args: argparse.Namespace, region) -> bool:
    """True when the current cache was built from the requested source file and is not stale."""
    from geodata.network import check_cache_fresh, read_cache_header
    from dispatch.service import network_cache_dir

    if args.download:
        return False
    requested = Path(args.skeleton) if args.skeleton else (args.osm or region.skeleton_path)
    try:
        header = read_cache_header(network_cache_dir(settings))
        check_cache_fresh(header)
    except CacheError:
        return False
    return header.get("source", {}).get("path") == str(Path(requested).resolve())


def _communes(args: argparse.Namespace, settings: Settings) -> int:
    from geodata.region import load_region

    region = load_region(settings.region_dir, settings.data_dir)
    for commune in region.communes.search(args.name, limit=args.limit):
        print(f"{commune.insee}  {commune.name} ({commune.departement}), {commune.population} hab., {commune.lat:.5f},{commune.lon:.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
