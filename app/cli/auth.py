"""``auth login|logout|status``: signing in to Google for sheet sources and write-back."""

from __future__ import annotations

import argparse
from contextlib import closing
from pathlib import Path
from typing import Any

from app import ops
from app.paths import AppPaths
from app.services import Services


def add_parser(commands: Any) -> None:
    auth = commands.add_parser("auth", help="sign in to Google (Sheets) or a YouTube channel")
    actions = auth.add_subparsers(dest="auth_command", metavar="ACTION", required=True)
    login = actions.add_parser("login", help="sign in: a browser window asks for consent")
    login.add_argument(
        "--service-account",
        type=Path,
        metavar="KEY.json",
        help="use a service account's JSON key instead of your own account",
    )
    login.add_argument(
        "--client-secrets",
        type=Path,
        metavar="FILE",
        help="your OAuth desktop client JSON (default: the google.client_secrets setting)",
    )
    login.add_argument(
        "--youtube",
        action="store_true",
        help="add a YouTube channel to publish to (sign in once per channel)",
    )
    login.add_argument(
        "--no-browser", action="store_true", help="print the sign-in address instead of opening it"
    )
    login.set_defaults(handler=cmd_login)
    logout = actions.add_parser("logout", help="sign out: revoke and forget the stored token")
    logout.set_defaults(handler=cmd_logout)
    status = actions.add_parser("status", help="which Google account Cadence uses")
    status.set_defaults(handler=cmd_status)


def cmd_login(args: argparse.Namespace, paths: AppPaths) -> int:
    from app.google.auth import AuthError  # google-auth: only for the commands that sign in

    with closing(Services(paths)) as workspace:
        if args.youtube:
            if args.service_account:
                raise AuthError(
                    "YouTube does not accept service accounts — sign in with the channel's "
                    "own Google account (drop --service-account)"
                )
            secrets = Path(client_secrets_file(args, workspace))
            print(ops.accounts.add_channel(workspace, secrets, open_browser=not args.no_browser))
            return 0
        if args.service_account:
            print(ops.accounts.sign_in_service_account(workspace, args.service_account))
            print("Share each sheet with that address (Editor, for status write-back).")
            return 0
        secrets = Path(client_secrets_file(args, workspace))
        print(ops.accounts.sign_in(workspace, secrets, open_browser=not args.no_browser))
    return 0


def client_secrets_file(args: argparse.Namespace, workspace: Services) -> str:
    from app.google.auth import AuthError

    chosen = args.client_secrets or workspace.settings.get("google.client_secrets")
    if not chosen:
        youtube = bool(getattr(args, "youtube", False))
        raise AuthError(
            "no OAuth client configured — create one in Google Cloud console (APIs & "
            "Services › Credentials › OAuth client ID › Desktop app), download its JSON, "
            "then: python main.py auth login "
            + (
                "--youtube --client-secrets FILE (enable the YouTube Data API v3 for its project)"
                if youtube
                else "--client-secrets FILE (or use --service-account KEY.json)"
            )
        )
    return str(chosen)


def cmd_logout(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        print(ops.accounts.sign_out(workspace))
    return 0


def cmd_status(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        account = workspace.google.account()
        where = workspace.settings.secrets.where
    if account is None:
        print("Not signed in to Google. Sign in with: python main.py auth login")
        return 0
    kind = "service account" if account.kind == "service_account" else "Google account"
    print(f"Signed in with the {kind} {account.email}; the token is kept in {where}.")
    return 0
