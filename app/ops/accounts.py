"""Operations on the Google accounts Cadence uses: signing in for Sheets, adding and removing
YouTube channels, signing out. Each returns a `Done`; a browser sign-in may take minutes, so
front ends run it where it never holds up quitting."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.changes import Changes, Done

if TYPE_CHECKING:
    from app.services import Services

ACCOUNT = "google.account"  # what `Changes.settings` names when the signed-in account changes
CHANNELS = "google.channels"


def sign_in(services: Services, client_secrets: Path, open_browser: bool = True) -> Done:
    """Google's consent page in the browser, for the user's own account (Sheets)."""
    _remember_client(services, client_secrets)
    account = services.google.login_user(client_secrets, open_browser=open_browser)
    return Done(f"Signed in to Google as {account.email}.", Changes.of(settings=[ACCOUNT]))


def sign_in_service_account(services: Services, key_file: Path) -> Done:
    account = services.google.login_service_account(key_file)
    return Done(
        f"Signed in as the service account {account.email}.", Changes.of(settings=[ACCOUNT])
    )


def add_channel(services: Services, client_secrets: Path, open_browser: bool = True) -> Done:
    """A YouTube channel signed in through its own Google account's consent."""
    _remember_client(services, client_secrets)
    info = services.channels.login(client_secrets, open_browser=open_browser, actor=services.actor)
    handle = f" ({info.handle})" if info.handle else ""
    return Done(
        f"Added the YouTube channel {info.title}{handle}, id {info.id}.",
        Changes.of(settings=[CHANNELS]),
    )


def remove_channel(services: Services, channel: str) -> Done:
    """Forget a channel and revoke its token; uploads planned for it wait on hold."""
    return Done(services.channels.remove(channel, services.actor), Changes.of(settings=[CHANNELS]))


def sign_out(services: Services) -> Done:
    """Revoke the account's token at Google (when reachable) and forget every credential."""
    had = services.google.account() is not None
    return Done(services.google.logout(), Changes.of(settings=[ACCOUNT] if had else []))


def _remember_client(services: Services, client_secrets: Path) -> None:
    """The OAuth desktop client used the first time is the one offered from then on."""
    if not services.settings.get("google.client_secrets"):
        services.settings.set("google.client_secrets", str(client_secrets))
