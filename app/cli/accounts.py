"""``accounts``: the accounts Cadence publishes to, every platform in one list — YouTube
channels, TikTok accounts — with ``add PLATFORM`` and ``remove ID``. ``channels`` remains
for YouTube's alone."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

from app import ops
from app.domain.errors import UserError
from app.domain.publishing import NOT_YET, platform_name
from app.paths import AppPaths
from app.services import Services
from app.user_files import read_user_text

PLATFORMS = ("youtube", "tiktok", "instagram", "facebook")


def add_parser(commands: Any) -> None:
    accounts = commands.add_parser("accounts", help="the accounts Cadence publishes to")
    actions = accounts.add_subparsers(dest="accounts_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every signed-in account, by platform")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_list)
    add = actions.add_parser(
        "add", help="sign an account in: a browser asks for consent (once per account)"
    )
    add.add_argument("platform", choices=PLATFORMS, metavar="PLATFORM", help=", ".join(PLATFORMS))
    add.add_argument("--client-key", metavar="KEY", help="TikTok: your app's client key")
    add.add_argument("--app-id", metavar="ID", help="Instagram/Facebook: your Meta app's id")
    add.add_argument(
        "--app-secret",
        metavar="SECRET|@FILE|-",
        help="Instagram/Facebook: your Meta app's secret (- to type it hidden, @FILE to read)",
    )
    add.add_argument(
        "--client-secret",
        metavar="SECRET|@FILE|-",
        help="TikTok: your app's client secret (- to type it hidden, @FILE to read a file)",
    )
    add.add_argument(
        "--client-secrets",
        type=Path,
        metavar="FILE",
        help="YouTube: your OAuth desktop client JSON (default: the google.client_secrets setting)",
    )
    add.add_argument(
        "--no-browser", action="store_true", help="print the sign-in address instead of opening it"
    )
    add.set_defaults(handler=cmd_add)
    remove = actions.add_parser("remove", help="forget an account (its token is revoked)")
    remove.add_argument("account", metavar="ID", help="its id, name or handle")
    remove.set_defaults(handler=cmd_remove)


def cmd_list(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        records = workspace.channels.records(None)
    if args.json:
        print(json.dumps([r.to_dict() for r in records], indent=2, ensure_ascii=False))
        return 0
    if not records:
        print(
            "No account yet. Add one with: python main.py accounts add "
            "youtube|tiktok|instagram|facebook"
        )
        return 0
    for record in records:
        line = f"{platform_name(record.platform):8}  {record.id}  {record.title}"
        line += f"  {record.handle}" if record.handle else ""
        if record.waiting:
            line += f"  ({record.waiting} post{'s' if record.waiting != 1 else ''} planned)"
        print(line)
        if record.hold:
            print(f"    on hold: {record.hold}")
    return 0


def cmd_add(args: argparse.Namespace, paths: AppPaths) -> int:
    platform = {"instagram": "instagram_reels"}.get(args.platform, args.platform)
    if platform in NOT_YET:
        raise UserError(f"Cadence cannot publish to {platform_name(platform)} yet")
    with closing(Services(paths)) as workspace:
        if platform == "youtube":
            from app.cli.auth import client_secrets_file

            secrets = Path(client_secrets_file(args, workspace))
            print(ops.accounts.add_channel(workspace, secrets, open_browser=not args.no_browser))
            return 0
        if platform in ("instagram_reels", "facebook"):
            app_id = args.app_id or str(workspace.settings.get("meta.app_id") or "")
            if not app_id:
                raise UserError(
                    "give your Meta app's id with --app-id (developers.facebook.com › My Apps; "
                    "README › Publishing to Instagram and Facebook)"
                )
            done = ops.accounts.add_meta(
                workspace, app_id, _secret(args.app_secret, "Meta app secret"),
                open_browser=not args.no_browser, tell=lambda text: print(text, flush=True),
            )  # fmt: skip
            print(done)
            return 0
        key = args.client_key or str(workspace.settings.get("tiktok.client_key") or "")
        if not key:
            raise UserError(
                "give your TikTok app's client key with --client-key (developers.tiktok.com › "
                "Manage apps; README › Publishing to TikTok)"
            )
        secret = _secret(args.client_secret, "TikTok client secret")
        done = ops.accounts.add_tiktok(
            workspace, key, secret, open_browser=not args.no_browser,
            tell=lambda text: print(text, flush=True),
        )  # fmt: skip
        print(done)
    return 0


def _secret(value: str | None, what: str) -> str:
    flag = "--client-secret" if what.startswith("TikTok") else "--app-secret"
    if not value:
        raise UserError(f"give your {what} with {flag} - (typed hidden), @FILE, or the secret")
    if value == "-":
        if sys.stdin.isatty():
            return getpass.getpass(f"{what}: ").strip()
        return sys.stdin.read().strip()
    if value.startswith("@"):
        return read_user_text(Path(value[1:]), f"the {what} file").strip()
    return value.strip()


def cmd_remove(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        print(ops.accounts.remove_account(workspace, args.account))
    return 0
