"""``footage test``: ask a stock footage provider one question with the stored key."""

from __future__ import annotations

import argparse
from contextlib import closing
from typing import Any

from app.paths import AppPaths
from app.pipeline.footage import PROVIDERS, check_key
from app.services import Services


def add_parser(commands: Any) -> None:
    footage = commands.add_parser("footage", help="stock footage: test a provider's API key")
    actions = footage.add_subparsers(dest="footage_command", metavar="ACTION", required=True)
    test = actions.add_parser("test", help="search once with the stored key")
    test.add_argument(
        "provider", choices=PROVIDERS, nargs="?", help="default: the footage.provider setting"
    )
    test.set_defaults(handler=cmd_test)


def cmd_test(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        provider = args.provider or workspace.settings.text("footage.provider")
        if provider not in PROVIDERS:
            print(f"footage.provider is {provider!r}: name pexels or pixabay to test a key.")
            return 2
        key = workspace.settings.text(f"footage.{provider}_key")
    print(check_key(provider, key))
    return 0
