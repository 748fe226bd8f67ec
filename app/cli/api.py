"""``api``: the local REST API's address and token (the server runs in the window, or in
``run --headless --api``)."""

from __future__ import annotations

import argparse
from contextlib import closing
from typing import Any

from app import ops
from app.api.server import LOCAL
from app.paths import AppPaths
from app.services import Services


def add_parser(commands: Any) -> None:
    api = commands.add_parser("api", help="the local REST API: its address, its token")
    actions = api.add_subparsers(dest="api_command", metavar="ACTION", required=True)
    actions.add_parser("status", help="whether it is on, and where").set_defaults(
        handler=cmd_status
    )
    actions.add_parser(
        "rotate-token", help="replace the bearer token (the old one stops working)"
    ).set_defaults(handler=cmd_rotate)


def cmd_status(_args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        settings = workspace.settings
        on = settings.flag("api.enabled")
        host, port = settings.text("api.host") or "127.0.0.1", settings.integer("api.port")
    shown = f"[{host}]" if ":" in host else host
    state = "on" if on else "off — `settings set api.enabled true`, or Settings in the window"
    print(f"API: {state}")
    print(f"Address: http://{shown}:{port}/api/v1   (documentation: http://{shown}:{port}/docs)")
    print("Token: `cadence settings reveal api.token`")
    if host not in LOCAL:
        print(
            f"Warning: api.host is {host}, so other computers can reach the API (the token "
            "and the Host check still apply) — `settings unset api.host` keeps it on this one"
        )
    return 0


def cmd_rotate(_args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        print(ops.settings.new_api_token(workspace))
    print("Show it with `cadence settings reveal api.token`.")
    return 0
