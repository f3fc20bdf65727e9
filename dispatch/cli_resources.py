"""``resurcor resources list|set|claim|release``: the live state of SMUR teams, helicopters and cath labs.

The command uses the service's store: Redis when RESURCOR_REDIS_URL is set, so it changes
what every desk reads. Without it the store is this process's memory, which a running
service does not share; ``--url`` then sends the change through that service's HTTP API
with the token of ``--token`` or RESURCOR_TOKEN.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from geodata.errors import InputError, ResurcorError
from dispatch.i18n import LANGUAGES, error_text, translate
from dispatch.resources.model import ResourceKind, ResourceState
from dispatch.resources.units import list_units, parse_kind, parse_until, state_view
from dispatch.settings import Settings

COMMANDS = frozenset({"resources"})
EXIT_USAGE = 2

# Seconds to wait for a running service's response with --url.
HTTP_TIMEOUT_S = 10.0


class RemoteInputError(InputError):
    """The service rejected the request's input (HTTP 404 or 422)."""


class RemoteError(ResurcorError):
    """The service returned an error other than invalid input (401, 403, 409, 503...)."""


def add_parser(kit) -> None:  # noqa: ANN001
    resources = kit.add("resources")
    actions = kit.subcommands(resources, "resources_command")
    kinds = [kind.value for kind in ResourceKind]

    listing = kit.add("list", "resources_list", under=actions)
    parsers = [listing]

    change = kit.add("set", "resources_set", under=actions)
    change.add_argument("kind", choices=kinds, help=kit.help("resources_kind"))
    change.add_argument("unit_id", help=kit.help("resources_unit"))
    change.add_argument("state", help=kit.help("resources_state"))
    change.add_argument("--until", help=kit.help("resources_until"))
    change.add_argument("--returns-to", dest="returns_to", help=kit.help("resources_returns_to"))
    change.add_argument("--by", help=kit.help("resources_by"))
    parsers.append(change)

    for name in ("claim", "release"):
        action = kit.add(name, f"resources_{name}", under=actions)
        action.add_argument("kind", choices=kinds, help=kit.help("resources_kind"))
        action.add_argument("unit_id", help=kit.help("resources_unit"))
        action.add_argument("--call-id", dest="call_id", required=True, help=kit.help("resources_call_id"))
        action.add_argument("--by", help=kit.help("resources_by"))
        parsers.append(action)

    for parser in parsers:
        parser.add_argument("--url", help=kit.help("resources_url"))
        parser.add_argument("--token", help=kit.help("resources_token"))
        parser.add_argument("--json", action="store_true", help=kit.help("json"))
        parser.add_argument("--lang", choices=LANGUAGES, help=kit.help("lang"))


# Fields that are positional arguments here: their errors must not read "--unit_id".
_POSITIONALS = {"kind": "KIND", "unit_id": "UNIT_ID", "state": "STATE"}


def run(args: argparse.Namespace, settings: Settings, lang: str) -> int:
    try:
        answer = _remote(args, lang) if args.url else _local(args, settings, lang)
    except InputError as err:
        if args.json or err.field not in _POSITIONALS:
            if err.field == "returns_to":
                err.field = "returns-to"
            raise
        err.field = _POSITIONALS[err.field]
        print(f"resurcor: {error_text(err, lang)}", file=sys.stderr)
        return EXIT_USAGE

    if args.json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    elif args.resources_command == "list":
        print(render_table(answer, lang))
    else:
        print(render_unit(answer, lang))
    return 0


def _local(args: argparse.Namespace, settings: Settings, lang: str) -> dict[str, Any]:
    """Run the command on the store the settings name."""
    from geodata.region import load_region
    from dispatch.resources.factory import open_store

    region = load_region(settings.region_dir, settings.data_dir)
    store = open_store(settings, region)
    if store.name == "memory":
        print(translate("label.resource_store_memory", lang), file=sys.stderr)
    try:
        if args.resources_command == "list":
            return list_units(store)

        kind = parse_kind(args.kind)
        by = args.by or f"cli:{getpass.getuser()}"
        if args.resources_command == "set":
            now = datetime.now(UTC)
            until = parse_until(args.until, region.timezone, now) if args.until else None
            state = ResourceState(kind, store.units.check(kind, args.unit_id), args.state, set_by=by, set_at=now, until=until, returns_to=args.returns_to)
            return state_view(store, store.set_state(state))
        if args.resources_command == "claim":
            return state_view(store, store.claim(kind, args.unit_id, args.call_id, by))
        return state_view(store, store.release(kind, args.unit_id, args.call_id, by))
    finally:
        store.close()


def _remote(args: argparse.Namespace, lang: str) -> dict[str, Any]:
    """Run the command through the HTTP API of the service at ``--url``.

    The service records ``--by`` when it has no tokens file; with tokens it records the
    token's name, followed by ``(--by)`` when that differs.
    """
    base = args.url.rstrip("/") + "/api/v1/resources"
    if args.resources_command == "list":
        return _request("GET", base, None, args, lang)
    path = f"{base}/{args.kind}/{args.unit_id}"
    if args.resources_command == "set":
        body = {"state": args.state, "until": args.until, "returns_to": args.returns_to, "by": args.by}
        return _request("PUT", path, {k: v for k, v in body.items() if v is not None}, args, lang)
    body = {"call_id": args.call_id, "by": args.by}
    return _request("POST", f"{path}/{args.resources_command}", {k: v for k, v in body.items() if v is not None}, args, lang)


def _request(method: str, url: str, body: dict[str, Any] | None, args: argparse.Namespace, lang: str) -> dict[str, Any]:
    headers = {"accept": "application/json", "accept-language": lang}
    token = args.token or os.environ.get("RESURCOR_TOKEN")
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["content-type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310 (the operator gives the URL)
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        raise _remote_error(err) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
        reason = getattr(err, "reason", err)
        raise ResurcorError("service_unreachable", f"the service {args.url} does not respond: {reason}", url=args.url, detail=str(reason)) from err


def _remote_error(err: urllib.error.HTTPError) -> ResurcorError:
    """Return the service's error message as a project error, with the exit status its kind calls for."""
    try:
        error = json.loads(err.read())["error"]
        message, field = error["message"], error.get("field")
    except (ValueError, KeyError, TypeError):
        message, field = err.reason, None
    cls = RemoteInputError if err.code in (404, 422) else RemoteError
    return cls("service_error", message, field=field, status=err.code)


def _age_text(age_s: int | None) -> str:
    if age_s is None:
        return "-"
    minutes = age_s // 60
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d}"


def _state_text(unit: dict[str, Any], lang: str) -> str:
    text = translate(f"state.{unit['state']}", lang)
    details = []
    if unit["raw_state"] and unit["raw_state"] != unit["state"]:
        details.append(translate(f"state.{unit['raw_state']}", lang))
    if unit["stale"]:
        details.append(translate("label.resource_stale", lang))
    if unit["call_id"]:
        details.append(translate("label.resource_call", lang, call_id=unit["call_id"]))
    if unit["until"]:
        details.append(translate("label.resource_until", lang, until=unit["until"][:16].replace("T", " ")))
    return f"{text} ({', '.join(details)})" if details else text


# Characters of a unit's name in the table, so a row fits a wide terminal; --json gives the whole name.
NAME_WIDTH = 40


def _short(name: str) -> str:
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"


def render_table(answer: dict[str, Any], lang: str) -> str:
    """Return the units as a text table: kind, unit id, name, state, age, set by."""
    store = answer["store"]
    lines = []
    if not store.get("reachable", True):
        lines.append(translate("label.resource_store_unreachable", lang, address=store.get("address", store["name"]), since=store.get("since", "?")))
    columns = translate("label.resource_columns", lang).split("|")
    rows = [columns]
    for unit in answer["units"]:
        rows.append([translate(f"kind.{unit['kind']}", lang), unit["unit_id"], _short(unit["name"]), _state_text(unit, lang), _age_text(unit["age_s"]), unit["set_by"] or "-"])
    age_column = 4
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns) - 1)]
    for row in rows:
        cells = [cell.ljust(width) if i != age_column else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths, strict=False))]
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines)


def render_unit(unit: dict[str, Any], lang: str) -> str:
    """Return one line: the unit, its new state, who set it."""
    kind = translate(f"kind.{unit['kind']}", lang)
    return f"{kind} {unit['unit_id']}{translate('label.sep', lang)}{_state_text(unit, lang)} · {unit['set_by']}"


__all__ = ["COMMANDS", "add_parser", "render_table", "run"]
