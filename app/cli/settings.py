"""``settings``: list, get, set and unset the user's settings (secrets masked, never echoed)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

from app import ops
from app.paths import AppPaths
from app.services import Services
from app.settings import GENERATED, OPTIONS, Kind, SettingError, option
from app.user_files import read_user_text


def add_parser(commands: Any) -> None:
    settings = commands.add_parser("settings", help="show and change settings")
    actions = settings.add_subparsers(dest="settings_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every setting with its value and meaning")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_list)
    get = actions.add_parser("get", help="one setting's value")
    get.add_argument("key")
    get.set_defaults(handler=cmd_get)
    put = actions.add_parser(
        "set", help="change a setting (secrets: - to type it hidden, or @FILE to read a file)"
    )
    put.add_argument("key")
    put.add_argument("value", nargs="?", default="-")
    put.set_defaults(handler=cmd_set)
    reveal = actions.add_parser(
        "reveal", help="print a secret (e.g. webhook.secret to verify signatures)"
    )
    reveal.add_argument("key")
    reveal.set_defaults(handler=cmd_reveal)
    unset = actions.add_parser("unset", help="back to the default")
    unset.add_argument("key")
    unset.set_defaults(handler=cmd_unset)


def cmd_list(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        rows = [(o, workspace.settings.shown(o.key)) for o in OPTIONS]
        where = workspace.settings.secrets.where
    if args.json:
        print(json.dumps({o.key: shown for o, shown in rows}, indent=2, ensure_ascii=False))
        return 0
    width = max(len(o.key) for o in OPTIONS)
    for opt, shown in rows:
        print(f"{opt.key:<{width}}  {shown or '(empty)'}")
        print(f"{'':<{width}}  {opt.description}")
    print(f"\nSecrets are kept in {where}.")
    return 0


def cmd_get(args: argparse.Namespace, paths: AppPaths) -> int:
    option(args.key)
    with closing(Services(paths)) as workspace:
        print(workspace.settings.shown(args.key))
    return 0


def cmd_set(args: argparse.Namespace, paths: AppPaths) -> int:
    opt = option(args.key)
    value = args.value
    if value == "-":
        if sys.stdin.isatty():
            value = getpass.getpass(f"{opt.description}: ")
        else:  # piped: all of it (a JSON key file spans lines)
            value = sys.stdin.read().strip()
    elif opt.kind == Kind.SECRET and value.startswith("@"):  # from a file: @key.json
        value = read_user_text(Path(value[1:]), f"{opt.key}:").strip()
    elif opt.kind == Kind.SECRET:
        raise SettingError(
            f"give {opt.key} as - and type it at the prompt, or as @FILE to read it from a "
            "file, so it stays out of your shell history"
        )
    with closing(Services(paths)) as workspace:
        print(ops.settings.set_setting(workspace, args.key, value))
    return 0


def cmd_unset(args: argparse.Namespace, paths: AppPaths) -> int:
    option(args.key)
    with closing(Services(paths)) as workspace:
        print(ops.settings.unset_setting(workspace, args.key))
    return 0


def cmd_reveal(args: argparse.Namespace, paths: AppPaths) -> int:
    opt = option(args.key)
    if opt.kind != Kind.SECRET:
        raise SettingError(f"{args.key} is not a secret — use settings get")
    with closing(Services(paths)) as workspace:
        if args.key in GENERATED:
            print(workspace.settings.generated(args.key))
        else:
            print(workspace.settings.get(args.key) or "(not set)")
    return 0
