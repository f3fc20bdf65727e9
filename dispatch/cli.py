"""The ``resurcor`` command line.

Errors in the input end the command with status 2 and one line in the chosen language
(``--lang``, else RESURCOR_LANG, else French), so no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.metadata
import json
import logging
import math
import os
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

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
_NO_VALUE = re.compile(r"^argument (\S+?)(?:/\S+)?: ignored explicit argument '([^']*)'$")
_ONE_OF = re.compile(r"^argument (\S+?)(?:/\S+)?: not allowed with argument (\S+?)(?:/\S+)?$")
_GROUP_REQUIRED = re.compile(r"^one of the arguments (.*) is required$")


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
    if match := _NO_VALUE.match(message):
        return translate("error.usage_no_value", lang, option=match.group(1), value=match.group(2))
    if match := _ONE_OF.match(message):
        return translate("error.usage_exclusive", lang, option=match.group(1), other=match.group(2))
    if match := _GROUP_REQUIRED.match(message):
        return translate("error.usage_one_of", lang, names=match.group(1))
    return translate("error.usage", lang, detail=message)


class _Formatter(argparse.HelpFormatter):
    """Help formatter whose fixed words ("usage:") come from the catalogue."""

    lang = "fr"

    def add_usage(self, usage, actions, groups, prefix=None):  # noqa: ANN001, ANN201
        # argparse passes prefix="" when it builds a subcommand's program name.
        if prefix is None:
            prefix = translate("help.usage_prefix", self.lang)
        return super().add_usage(usage, actions, groups, prefix=prefix)


def _localise(parser: argparse.ArgumentParser, lang: str) -> argparse.ArgumentParser:
    """Translate a parser's section titles and add a translated -h/--help."""
    parser._positionals.title = translate("help.positionals", lang)
    parser._optionals.title = translate("help.options", lang)
    parser.add_argument("-h", "--help", action="help", help=translate("help.help", lang))
    return parser


def build_parser(lang: str = "fr") -> argparse.ArgumentParser:
    """Return the command-line parser, with help texts in ``lang``."""
    h = lambda key: translate(f"help.{key}", lang)  # noqa: E731
    formatter = type("Formatter", (_Formatter,), {"lang": lang})
    common = {"add_help": False, "formatter_class": formatter}

    parser = _localise(_Parser(prog="resurcor", description=h("description"), **common), lang)
    parser.add_argument("--version", action="version", version=f"resurcor {_version()}", help=h("version"))
    parser.add_argument("--log-level", default="WARNING", help=h("log_level"))
    parser.add_argument("--lang", dest="top_lang", choices=LANGUAGES, help=h("lang"))
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, title=h("commands"))

    rec = _localise(commands.add_parser("recommend", help=h("recommend"), description=h("recommend"), **common), lang)
    rec.add_argument("--lat", type=str, help=h("lat"))
    rec.add_argument("--lon", type=str, help=h("lon"))
    rec.add_argument("--commune", help=h("commune"))
    rec.add_argument("--onset", help=h("onset"))
    rec.add_argument("--at", help=h("at"))
    rec.add_argument("--age", help=h("age"))
    rec.add_argument("--shock", action="store_true", help=h("shock"))
    rec.add_argument("--arrest", action="store_true", help=h("arrest"))
    rec.add_argument("--contraindication", help=h("contraindication"))
    rec.add_argument("--not-landable", action="store_true", help=h("not_landable"))
    rec.add_argument("--lang", choices=LANGUAGES, help=h("lang"))
    rec.add_argument("--json", action="store_true", help=h("json"))

    route = _localise(commands.add_parser("route", help=h("route"), description=h("route"), **common), lang)
    route.add_argument("--from", dest="origin", required=True, help=h("route_from"))
    route.add_argument("--to", dest="target", required=True, help=h("route_to"))
    route.add_argument("--at", help=h("route_at"))
    route.add_argument("--lang", choices=LANGUAGES, help=h("lang"))
    route.add_argument("--json", action="store_true", help=h("json"))

    serve = _localise(commands.add_parser("serve", help=h("serve"), description=h("serve"), **common), lang)
    serve.add_argument("--host", help=h("host"))
    serve.add_argument("--port", type=_port, help=h("port"))

    geodata = _localise(commands.add_parser("geodata", help=h("geodata"), description=h("geodata"), **common), lang)
    geodata_commands = geodata.add_subparsers(dest="geodata_command", required=True, parser_class=_Parser, metavar="{build}")
    build = _localise(geodata_commands.add_parser("build", help=h("build"), description=h("build"), **common), lang)
    source = build.add_mutually_exclusive_group(required=True)
    source.add_argument("--osm", type=Path, metavar="PATH", help=h("osm"))
    source.add_argument("--skeleton", nargs="?", const="", metavar="PATH", help=h("skeleton"))
    source.add_argument("--download", action="store_true", help=h("download"))
    build.add_argument("--crs", help=h("crs"))
    build.add_argument("--if-stale", action="store_true", help=h("if_stale"))

    communes = _localise(commands.add_parser("communes", help=h("communes"), description=h("communes"), **common), lang)
    communes.add_argument("name", nargs="+", help=h("communes_name"))
    communes.add_argument("--limit", type=int, default=10, help=h("communes_limit"))

    kit = CommandKit(commands=commands, help=h, common=common, lang=lang)
    for module in _command_modules():
        module.add_parser(kit)
    return parser


@dataclass(frozen=True)
class CommandKit:
    """What a command module needs to add its subcommand: the subparsers, help texts, options."""

    commands: Any
    help: Any
    common: dict[str, Any]
    lang: str

    def add(self, name: str, help_key: str | None = None, under: Any = None) -> argparse.ArgumentParser:
        """Add subcommand ``name`` with its translated help, to the top level or ``under`` a command's subparsers."""
        text = self.help(help_key or name)
        parent = self.commands if under is None else under
        return _localise(parent.add_parser(name, help=text, description=text, **self.common), self.lang)

    def subcommands(self, parser: argparse.ArgumentParser, dest: str) -> Any:
        """Return the subparsers of a command such as ``resources list|set``."""
        return parser.add_subparsers(dest=dest, required=True, parser_class=_Parser)


# Commands defined in modules of their own, each with add_parser(kit) and run(args, settings, lang).
COMMAND_MODULES: tuple[str, ...] = ("dispatch.cli_tokens", "dispatch.cli_resources", "dispatch.cli_registry", "dispatch.cli_planning")


def _command_modules():
    return [importlib.import_module(name) for name in COMMAND_MODULES]


def _port(text: str) -> int:
    """Return a TCP port number, or raise the argparse error for an invalid value."""
    port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError(text)
    return port


def _version() -> str:
    try:
        return importlib.metadata.version("resurcor")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


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
    except ValidationError as err:
        first = err.errors()[0]
        name = "RESURCOR_" + str(first["loc"][0]).upper() if first.get("loc") else "RESURCOR_*"
        lang = _lang_from_argv(argv, "fr")
        print(f"resurcor: {translate('error.setting_invalid', lang, name=name, value=first.get('input'))}", file=sys.stderr)
        return EXIT_USAGE
    lang = _lang_from_argv(argv, settings.lang)

    try:
        args = build_parser(lang).parse_args(argv)
    except UsageError as err:
        # Unknown options are reported by the top-level parser: point at the subcommand's help.
        known = {"recommend", "route", "serve", "geodata", "communes"}.union(*(m.COMMANDS for m in _command_modules()))
        if not err.command and argv and argv[0] in known:
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
        for module in _command_modules():
            if args.command in module.COMMANDS:
                return module.run(args, settings, lang)
    except InputError as err:
        if getattr(args, "json", False):
            # An integrator reading --json output gets the API's error body on stdout.
            print(json.dumps({"error": {"code": err.code, "field": err.field, "message": error_text(err, lang)}}, ensure_ascii=False))
        else:
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
        landable=not args.not_landable,
    )
    answer = recommend(context, call, resources=_shared_resources(settings, context.region))
    if args.json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        print(render_text(answer, lang))
    return 0


def _shared_resources(settings: Settings, region):  # noqa: ANN001, ANN202
    """Return the live resource states every desk shares (Redis), or None without RESURCOR_REDIS_URL.

    A command's in-memory store would be empty, because it is not the running service's.
    """
    if not settings.redis_url:
        return None
    from dispatch.resources.factory import open_store

    store = open_store(settings, region)
    try:
        return store.snapshot()
    finally:
        store.close()


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
    from routing.scenario import routable_nodes, seasonal_scenario
    from routing.snap import Snapper
    from routing.trees import point_to_point
    from dispatch.plans import route_polyline

    # Both ends join the roads open on the day, as a patient does.
    scenario = seasonal_scenario(context.network, when.astimezone(context.region.timezone).date())
    snapper = Snapper(context.network, routable_nodes(context.network, scenario))
    snaps = []
    for (lat, lon), field in ((origin, "from"), (target, "to")):
        snap = snapper.snap(*context.project(lon, lat))
        if snap.distance_m > context.max_snap_m:
            raise OutsideRegionError(
                "too_far_from_network", f"{field}: ({lat}, {lon}) is {snap.distance_m:.0f} m from the network",
                field=field, lat=lat, lon=lon, distance_km=round(snap.distance_m / 1000, 1), max_km=round(context.max_snap_m / 1000, 1),
            )
        snaps.append(snap)
    time_s, dist_m, path = point_to_point(context.network, scenario, snaps[0].node, snaps[1].node)
    if not math.isfinite(time_s):
        raise InputError("unreachable", "no road route between the two points", field="to")
    factor = context.emergency_time_factor
    names = []
    for lat, lon in (origin, target):
        commune = context.region.commune_at(lon, lat)
        names.append(commune.name if commune else None)
    return {
        "from": {"lat": origin[0], "lon": origin[1], "commune": names[0], "snap_distance_m": round(snaps[0].distance_m)},
        "to": {"lat": target[0], "lon": target[1], "commune": names[1], "snap_distance_m": round(snaps[1].distance_m)},
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
    from dispatch.render import decimal

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
    ends = [answer[end]["commune"] or f"{answer[end]['lat']},{answer[end]['lon']}" for end in ("from", "to")]
    print(f"{ends[0]} → {ends[1]}")
    print(f"{translate('label.route_time', lang)}{sep}{translate('label.minutes', lang, value=decimal(answer['car_time_min'], lang))}")
    factor = decimal(answer["emergency_time_factor"], lang)
    print(f"{translate('label.route_emergency', lang, factor=factor)}{sep}{translate('label.minutes', lang, value=decimal(answer['smur_time_min'], lang))}")
    print(f"{translate('label.route_distance', lang)}{sep}{translate('label.km', lang, value=decimal(answer['distance_km'], lang))}")
    print(translate("label.route_snap", lang, origin_m=answer["from"]["snap_distance_m"], target_m=answer["to"]["snap_distance_m"]))
    for warning in answer["warnings"]:
        print(f"! {warning['text']}")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from dispatch.api import create_app
    from dispatch.api_resources import GracefulServer
    from dispatch.service import load_context

    from dispatch.auth import is_loopback

    host = args.host or settings.host
    if settings.tokens_file is None and not is_loopback(host):
        raise DataError(
            "open_mode_not_loopback",
            f"without RESURCOR_TOKENS_FILE the service only listens on the loopback, not {host}",
            field="RESURCOR_TOKENS_FILE",
            host=host,
        )

    # Load before binding: a missing or stale cache stops the start with its message.
    context = load_context(settings)
    app = create_app(settings, context=context)

    # The loaded network and trees live as long as the process: moving them out of the
    # collector's generations keeps full collections from pausing requests for ~60 ms.
    gc.collect()
    gc.freeze()
    from dispatch.registry import recorder

    recorder.FREEZE_AFTER_WRITE = True
    config = uvicorn.Config(
        app,
        host=host,
        port=args.port or settings.port,
        workers=1,
        log_level="info",
        access_log=settings.access_log,
        # No proxy headers are trusted, and no Server or Date header is sent: clients
        # need neither, and each is work on every response.
        proxy_headers=False,
        server_header=False,
        date_header=False,
        # Open event streams are ended on the stop signal; this bounds any other request.
        timeout_graceful_shutdown=10,
    )
    GracefulServer(config, app).run()
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
    name = " ".join(args.name)
    resolved, candidates = region.communes.resolve(name)
    found = [resolved] if resolved is not None else candidates or region.communes.suggest(name, limit=args.limit)
    if not found:
        raise InputError("commune_unknown", f"commune {name!r} is unknown in the region", field="commune", value=name)
    for commune in found[: args.limit]:
        print(f"{commune.insee}  {commune.name} ({commune.departement}), {commune.population} hab., {commune.lat:.5f},{commune.lon:.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
