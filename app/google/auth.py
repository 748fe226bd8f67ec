"""Signing in to Google: a personal account (installed-app flow) or a service account.

Tokens and keys are secrets: they live in the system keyring (or the user-only fallback file)
and never reach logs or messages. A personal account's access token is refreshed
automatically when it expires, and the new one is stored again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import requests
from google.auth import jwt
from google.auth.credentials import Credentials
from google.auth.exceptions import GoogleAuthError
from google.auth.transport.requests import Request
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account

from app.domain.errors import UserError
from app.google import endpoints
from app.secrets import SecretStore
from app.user_files import read_user_text

log = logging.getLogger(__name__)

SCOPES = [
    "https://www.googleapis.com/auth/spreadsheets",
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
]
SHEETS_SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
USER_TOKEN = "google.user_token"  # secret: the authorized-user JSON (refresh token inside)
SERVICE_KEY = "google.service_account_key"  # secret: the service account's JSON key
ACCOUNT_FILE = "google-account.json"  # not secret: which account, for messages


class AuthError(UserError):
    """Not signed in, or sign-in failed; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Account:
    kind: str  # user | service_account
    email: str

    def share_hint(self) -> str:
        if self.kind == "service_account":
            return f"share the sheet with the service account {self.email} (Viewer to read, Editor for status write-back)"  # noqa: E501
        return f"share the sheet with {self.email}, or sign in with the account that owns it"


class GoogleAuth:
    def __init__(self, secrets: SecretStore, config_dir: Path) -> None:
        self.secrets = secrets
        self.account_file = config_dir / ACCOUNT_FILE

    # Who is signed in

    def account(self) -> Account | None:
        try:
            data = json.loads(self.account_file.read_text(encoding="utf-8"))
            return Account(str(data["kind"]), str(data["email"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _remember(self, account: Account) -> None:
        self.account_file.parent.mkdir(parents=True, exist_ok=True)
        self.account_file.write_text(
            json.dumps({"kind": account.kind, "email": account.email}), encoding="utf-8"
        )

    def credentials(self) -> tuple[Credentials, Account]:
        """Usable credentials, or an `AuthError` saying how to sign in."""
        key = self.secrets.get(SERVICE_KEY)
        if key:
            info = json.loads(key)
            creds = service_account.Credentials.from_service_account_info(
                info, scopes=SHEETS_SCOPES
            )
            return creds, Account("service_account", str(info.get("client_email", "")))
        token = self.secrets.get(USER_TOKEN)
        if token:
            info = json.loads(token)
            creds = user_credentials.Credentials.from_authorized_user_info(info)
            account = self.account() or Account("user", "your Google account")
            return creds, account
        raise AuthError(
            "not signed in to Google — run: python main.py auth login "
            "(or auth login --service-account KEY.json)"
        )

    def save_refreshed(self, creds: Credentials) -> None:
        """Store a personal account's token again after it was refreshed."""
        if isinstance(creds, user_credentials.Credentials):
            self.secrets.set(USER_TOKEN, creds.to_json())

    # Signing in and out

    def login_service_account(self, key_file: Path) -> Account:
        try:
            info = json.loads(read_user_text(key_file, "the service account key"))
        except UserError as exc:
            raise AuthError(str(exc)) from None
        except ValueError:
            raise AuthError(f"{key_file} is not a JSON key file") from None
        if not isinstance(info, dict) or info.get("type") != "service_account":
            raise AuthError(
                f"{key_file} is not a service account key — in Google Cloud console, open the "
                "service account, Keys › Add key › JSON, and pass the downloaded file"
            )
        try:
            service_account.Credentials.from_service_account_info(info, scopes=SHEETS_SCOPES)
        except (ValueError, GoogleAuthError) as exc:
            raise AuthError(f"{key_file} is not a usable key ({exc})") from None
        self.secrets.set(SERVICE_KEY, json.dumps(info))
        self.secrets.delete(USER_TOKEN)
        account = Account("service_account", str(info["client_email"]))
        self._remember(account)
        log.info("signed in with a service account")
        return account

    def login_user(
        self,
        client_secrets: Path,
        *,
        open_browser: bool = True,
    ) -> Account:
        """The installed-app flow: the browser opens Google's consent page, which redirects
        to a one-off server on this computer's loopback address."""
        creds = installed_app_flow(
            client_secrets,
            SCOPES,
            open_browser=open_browser,
            prompt="Opening your browser to sign in to Google…\nIf it does not open, visit: {url}",
        )
        email = _email_from(getattr(creds, "id_token", None)) or "your Google account"
        self.secrets.set(USER_TOKEN, creds.to_json())
        self.secrets.delete(SERVICE_KEY)
        account = Account("user", email)
        self._remember(account)
        log.info("signed in to Google with a personal account")
        return account

    def logout(self) -> str:
        """Revoke the personal token at Google (when reachable) and forget every credential."""
        message = "Signed out of Google."
        token = self.secrets.get(USER_TOKEN)
        if token:
            info = json.loads(token)
            revoke = info.get("refresh_token") or info.get("token")
            try:
                session = endpoints.mount(requests.Session())
                session.post(
                    endpoints.url(endpoints.REVOKE_URI),
                    data={"token": revoke},
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    timeout=15,
                )
            except requests.RequestException:
                message = (
                    "Signed out here, but Google could not be reached to revoke the token — "
                    "revoke Cadence at https://myaccount.google.com/permissions"
                )
        elif self.secrets.get(SERVICE_KEY):
            message = "Forgot the service account key (the key itself stays valid in Google Cloud)."
        else:
            message = "Not signed in to Google."
        self.secrets.delete(USER_TOKEN)
        self.secrets.delete(SERVICE_KEY)
        self.account_file.unlink(missing_ok=True)
        log.info("signed out of Google")
        return message


def installed_app_flow(
    client_secrets: Path, scopes: list[str], *, open_browser: bool, prompt: str
) -> user_credentials.Credentials:
    """Run google-auth-oauthlib's installed-app flow with the user's own desktop client:
    consent in a browser, the redirect received on 127.0.0.1. ``prompt`` shows ``{url}``."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    try:
        config = json.loads(read_user_text(client_secrets, "the OAuth client file"))
    except UserError as exc:
        raise AuthError(str(exc)) from None
    except ValueError:
        raise AuthError(f"{client_secrets} is not an OAuth client JSON file") from None
    if not isinstance(config, dict) or "installed" not in config:
        raise AuthError(
            f"{client_secrets} is not a desktop-app OAuth client — in Google Cloud console "
            "create credentials › OAuth client ID › Desktop app, and download its JSON"
        )
    flow = InstalledAppFlow.from_client_config(config, scopes)
    endpoints.mount(flow.oauth2session)
    try:
        creds = flow.run_local_server(
            host="127.0.0.1",
            port=0,
            open_browser=open_browser,
            timeout_seconds=300,
            authorization_prompt_message=prompt,
            success_message="Cadence is signed in. You can close this tab.",
        )
    except Exception as exc:  # oauthlib raises many kinds; none may leak a token
        raise AuthError(
            f"Google sign-in did not complete ({type(exc).__name__}) — try again"
        ) from None
    if creds is None:
        raise AuthError("Google sign-in did not complete (no answer within 5 minutes)")
    return creds


def refresh(creds: Credentials, session: requests.Session) -> None:
    """Fetch an access token now (service accounts and expired personal tokens)."""
    try:
        creds.refresh(Request(session))
    except GoogleAuthError as exc:
        raise AuthError(
            "Google refused the stored sign-in (it may have been revoked or expired) — "
            f"sign in again with: python main.py auth login ({type(exc).__name__})"
        ) from None


def _email_from(id_token: str | None) -> str | None:
    if not id_token:
        return None
    try:
        claims = jwt.decode(id_token, verify=False)
    except (ValueError, GoogleAuthError):
        return None
    email = claims.get("email")
    return str(email) if email else None
