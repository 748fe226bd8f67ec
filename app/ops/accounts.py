"""Operations on the accounts Cadence uses: signing in to Google for Sheets, adding and
removing the accounts it publishes to (YouTube channels, TikTok accounts), signing out. Each
returns a `Done`; a browser sign-in may take minutes, so front ends run it where it never
holds up quitting."""

from __future__ import annotations

from collections.abc import Callable
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


def add_tiktok(
    services: Services,
    client_key: str,
    client_secret: str,
    open_browser: bool = True,
    tell: Callable[[str], None] = print,
) -> Done:
    """A TikTok account signed in through TikTok's consent page, with the user's own app."""
    signed = services.tiktok.login(
        client_key, client_secret, open_browser=open_browser, tell=tell, actor=services.actor
    )
    if not services.settings.get("tiktok.client_key"):
        services.settings.set("tiktok.client_key", client_key.strip())
    return Done(
        f"Added the TikTok account {signed.nickname} (@{signed.username}), id {signed.open_id}.",
        Changes.of(settings=[CHANNELS]),
    )


def add_meta(
    services: Services,
    app_id: str,
    app_secret: str,
    open_browser: bool = True,
    tell: Callable[[str], None] = print,
    port: int | None = None,
) -> Done:
    """One Facebook Login with the user's Meta app: the Pages it manages (Facebook Reels) and
    the Instagram professional accounts linked to them (Instagram Reels)."""
    found = services.meta.login(
        app_id, app_secret, open_browser=open_browser, tell=tell, actor=services.actor,
        port=services.settings.integer("meta.redirect_port") if port is None else port,
    )  # fmt: skip
    if not services.settings.get("meta.app_id"):
        services.settings.set("meta.app_id", app_id.strip())
    parts = []
    if found.instagram:
        parts.append("Instagram " + ", ".join(handle or ig for ig, handle in found.instagram))
    parts.append("the Facebook Page" + ("s " if len(found.pages) > 1 else " ")
                 + ", ".join(name for _id, name in found.pages))  # fmt: skip
    return Done(f"Added {' and '.join(parts)}.", Changes.of(settings=[CHANNELS]))


def remove_account(services: Services, ref: str) -> Done:
    """Forget an account of any platform and revoke its token; its planned posts wait."""
    record = services.channels.resolve(ref, None)
    if record.platform == "youtube":
        return remove_channel(services, record.id)
    from app.store.jobs import audit
    from app.store.models import Channel

    if record.platform in ("instagram_reels", "facebook"):
        services.meta.forget(record.id)
        revoked = True
    else:
        revoked = services.tiktok.forget(record.id)
    with services.db.write() as session:
        found = session.get(Channel, record.id)
        if found is not None:
            session.delete(found)
        audit(session, services.actor, "account.remove", "channel", None, channel=record.id)
    from app.domain.publishing import platform_name

    message = f"Removed the {platform_name(record.platform)} account {record.label}."
    if record.waiting:
        s = "s" if record.waiting != 1 else ""
        message += f" {record.waiting} planned post{s} wait until it is signed in again."
    if not revoked:
        message += (
            " TikTok could not be reached to revoke its token — remove Cadence under "
            "TikTok › Settings › Security › Manage app permissions"
        )
    return Done(message, Changes.of(settings=[CHANNELS]))


def sign_out(services: Services) -> Done:
    """Revoke the account's token at Google (when reachable) and forget every credential."""
    had = services.google.account() is not None
    return Done(services.google.logout(), Changes.of(settings=[ACCOUNT] if had else []))


def _remember_client(services: Services, client_secrets: Path) -> None:
    """The OAuth desktop client used the first time is the one offered from then on."""
    if not services.settings.get("google.client_secrets"):
        services.settings.set("google.client_secrets", str(client_secrets))
