"""``resurcor tokens add``: create the operator's bearer tokens, one per desk, team or person."""

from __future__ import annotations

import argparse
import sys

from dispatch.auth import Role, add_token
from dispatch.i18n import translate
from dispatch.settings import Settings
from geodata.errors import InputError

COMMANDS = frozenset({"tokens"})


def add_parser(kit) -> None:
    tokens = kit.add("tokens")
    actions = kit.subcommands(tokens, "tokens_command")
    create = kit.add("add", "tokens_add", under=actions)
    create.add_argument("--name", required=True, help=kit.help("tokens_name"))
    create.add_argument("--role", required=True, choices=[r.value for r in Role], help=kit.help("tokens_role"))


def run(args: argparse.Namespace, settings: Settings, lang: str) -> int:
    """Print a new token on standard output, alone, so a script can capture it."""
    if settings.tokens_file is None:
        raise InputError("tokens_file_unset", "RESURCOR_TOKENS_FILE is not set", field="RESURCOR_TOKENS_FILE")
    token = add_token(settings.tokens_file, args.name, Role(args.role))
    print(token)
    print(translate("label.token_added", lang, name=args.name, role=args.role, path=settings.tokens_file), file=sys.stderr)
    return 0
