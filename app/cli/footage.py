"""``footage test``: ask a stock footage provider one question with the stored key."""

from __future__ import annotations

import argparse
from contextlib import closing
from typing import Any

from app import queries
from app.paths import AppPaths
from app.pipeline.footage import NAMES, PROVIDERS, FootageUnavailable
from app.services import Services


def add_parser(commands: Any) -> None:
    footage = commands.add_parser("footage", help="pictures and footage: test a provider")
    actions = footage.add_subparsers(dest="footage_command", metavar="ACTION", required=True)
    test = actions.add_parser("test", help="search once (with the stored key, if it needs one)")
    test.add_argument(
        "provider",
        choices=[*PROVIDERS, "free"],
        nargs="?",
        help="pexels, pixabay, or free (the providers that need no key); default: the "
        "footage.provider setting",
    )
    test.set_defaults(handler=cmd_test)


def cmd_test(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        provider = args.provider or workspace.settings.text("footage.provider")
        if provider == "auto":
            provider = "free"
        if provider not in (*PROVIDERS, "free"):
            print(f"footage.provider is {provider!r}: name pexels, pixabay or free to test one.")
            return 2
        if provider in PROVIDERS and not workspace.settings.text(f"footage.{provider}_key"):
            raise FootageUnavailable(  # the window's place, and this terminal's way
                f"no {NAMES[provider]} API key — add it in Settings › Footage and voices, or "
                f"here: settings set footage.{provider}_key -"
            )
        print(queries.settings.test_footage(workspace, provider))
    return 0
