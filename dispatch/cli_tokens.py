"""``resurcor tokens add|list|revoke``: the operator's bearer tokens, one per desk, team or person."""

from __future__ import annotations

import argparse
import json
import sys

from dispatch.auth import Role, add_token, list_tokens, revoke_token
from dispatch.i18n import LANGUAGES, translate
from dispatch.settings import Settings
from geodata.errors import InputError

COMMANDS = frozenset({"tokens"})


def add_parser(kit) -> None:  # noqa: ANN001
    tokens = kit.add("tokens")
    actions = kit.subcommands(tokens, "tokens_command")
    create = kit.add("add", "tokens_add", under=actions)
    create.add_argument("--name", required=True, help=kit.help("tokens_name"))
    create.add_argument("--role", required=True, choices=[r.value for r in Role], help=kit.help("tokens_role"))

    listing = kit.add("list", "tokens_list", under=actions)
    listing.add_argument("--json", action="store_true", help=kit.help("json"))

    revoke = kit.add("revoke", "tokens_revoke", under=actions)
    revoke.add_argument("--name", required=True, help=kit.help("tokens_revoke_name"))

    for parser in (create, listing, revoke):
        parser.add_argument("--lang", choices=LANGUAGES, help=kit.help("lang"))


def run(args: argparse.Namespace, settings: Settings, lang: str) -> int:
    if settings.tokens_file is None:
        raise InputError("tokens_file_unset", "RESURCOR_TOKENS_FILE is not set", field="RESURCOR_TOKENS_FILE")
    path = settings.tokens_file

    if args.tokens_command == "add":
        # The token alone goes to standard output, so a script can capture it.
        token = add_token(path, args.name, Role(args.role))
        print(token)
        print(translate("label.token_added", lang, name=args.name, role=args.role, path=path), file=sys.stderr)
        return 0

    if args.tokens_command == "list":
        entries = list_tokens(path)
        if args.json:
            print(json.dumps([{"name": name, "role": role.value} for name, role in entries], ensure_ascii=False, indent=2))
            return 0
        columns = translate("label.token_columns", lang).split("|")
        width = max(len(row[0]) for row in [columns, *((name, "") for name, _ in entries)])
        print(f"{columns[0].ljust(width)}  {columns[1]}")
        for name, role in entries:
            print(f"{name.ljust(width)}  {role.value}")
        return 0

    remaining = revoke_token(path, args.name)
    print(translate("label.token_revoked", lang, name=args.name, path=path, remaining=remaining), file=sys.stderr)
    if remaining == 0:
        print(translate("label.token_none_left", lang, path=path), file=sys.stderr)
    return 0
