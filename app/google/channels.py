"""YouTube channels signed in for publishing: several, each with its own Google account.

A channel's token is a secret (keyring, else the user-only file) under
``youtube.token.<channel id>``; the `channels` table keeps only its id, title, handle, the
OAuth client's project (whose quota its uploads spend) and, when its uploads must wait, why.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
from google.oauth2 import credentials as user_credentials
from sqlalchemy import func, select

from app.domain.errors import NotFound, UserError
from app.google import endpoints
from app.google.auth import installed_app_flow
from app.google.youtube import SCOPE, ChannelInfo, YouTube, YouTubeError
from app.secrets import SecretStore
from app.store.database import Database
from app.store.jobs import audit
from app.store.models import Channel, Upload

log = logging.getLogger(__name__)
PROMPT = "Open this address in a browser to sign in to YouTube:\n{url}\n"


def token_key(channel_id: str) -> str:
    return f"youtube.token.{channel_id}"


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    id: str
    title: str
    handle: str
    hold: str | None
    waiting: int  # uploads planned for it that have not happened yet
    platform: str = "youtube"

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "platform": self.platform,
            "title": self.title,
            "handle": self.handle,
            "hold": self.hold,
            "waiting_uploads": self.waiting,
        }

    @property
    def label(self) -> str:
        return f"{self.title} ({self.handle})" if self.handle else self.title


class Channels:
    def __init__(self, db: Database, secrets: SecretStore) -> None:
        self.db = db
        self.secrets = secrets

    # Signing in

    def login(
        self,
        client_secrets: Path,
        *,
        open_browser: bool = True,
        actor: str = "Cadence",
        client: Callable[[user_credentials.Credentials], YouTube] | None = None,
    ) -> ChannelInfo:
        """Sign a channel in (or again): consent in a browser, then the channel is read and
        stored. Uploads held for it resume."""
        creds = installed_app_flow(
            client_secrets, [SCOPE], open_browser=open_browser, prompt=PROMPT
        )
        youtube = (client or YouTube)(creds)
        try:
            info = youtube.my_channel()
        except YouTubeError as exc:
            raise UserError(f"signed in, but the channel could not be read: {exc}") from None
        self.secrets.set(token_key(info.id), creds.to_json())
        with self.db.write() as session:
            channel = session.get(Channel, info.id)
            if channel is None:
                channel = Channel(id=info.id, title=info.title)
                session.add(channel)
            channel.title, channel.handle = info.title, info.handle
            channel.project = str(getattr(creds, "client_id", "") or "")
            channel.hold = None
            audit(session, actor, "channel.add", "channel", None, channel=info.id)
        log.info("signed in to a YouTube channel")
        return info

    def credentials(self, channel_id: str) -> user_credentials.Credentials:
        token = self.secrets.get(token_key(channel_id))
        if not token:
            raise YouTubeError("auth", "no stored sign-in for this channel")
        return user_credentials.Credentials.from_authorized_user_info(json.loads(token))

    def save_refreshed(self, channel_id: str, creds: user_credentials.Credentials) -> None:
        self.secrets.set(token_key(channel_id), creds.to_json())

    def client(self, channel_id: str, **kwargs: object) -> YouTube:
        creds = self.credentials(channel_id)
        return YouTube(
            creds,
            on_refreshed=lambda c: self.save_refreshed(channel_id, c),  # type: ignore[arg-type]
            **kwargs,  # type: ignore[arg-type]
        )

    # The list

    def records(self, platform: str | None = "youtube") -> list[ChannelRecord]:
        """The signed-in accounts of ``platform`` (None: of every platform)."""
        with self.db.read() as session:
            waiting = dict(
                session.execute(
                    select(Upload.channel_id, func.count())
                    .where(Upload.video_id.is_(None), Upload.status != "rejected")
                    .group_by(Upload.channel_id)
                ).all()
            )
            query = select(Channel).order_by(Channel.platform.desc(), Channel.title)
            if platform is not None:
                query = query.where(Channel.platform == platform)
            return [
                ChannelRecord(c.id, c.title, c.handle, c.hold, waiting.get(c.id, 0), c.platform)
                for c in session.scalars(query)
            ]

    def resolve(self, ref: str, platform: str | None = "youtube") -> ChannelRecord:
        """A channel by id, title or handle (any case), or a `NotFound` listing them."""
        wanted = ref.strip().casefold()
        records = self.records(platform)
        for record in records:
            names = (record.id, record.title, record.handle, record.handle.lstrip("@"))
            if wanted in (n.casefold() for n in names):
                return record
        known = ", ".join(f"{r.title} ({r.id})" for r in records) or "none yet"
        if platform is None or platform == "youtube":
            what, add = "channel", "`accounts add youtube` (or `auth login --youtube`)"
        else:
            what, add = f"{platform} account", f"`accounts add {platform}`"
        raise NotFound(f"no signed-in {what} {ref!r} — signed in: {known}; add one with {add}")

    def remove(self, ref: str, actor: str) -> str:
        """Forget a channel and revoke its token; uploads planned for it wait on hold."""
        record = self.resolve(ref)
        token = self.secrets.get(token_key(record.id))
        revoked = True
        if token:
            info = json.loads(token)
            try:
                http = endpoints.mount(requests.Session())
                http.post(
                    endpoints.url(endpoints.REVOKE_URI),
                    data={"token": info.get("refresh_token") or info.get("token")},
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    timeout=15,
                )
            except requests.RequestException:
                revoked = False
        self.secrets.delete(token_key(record.id))
        with self.db.write() as session:
            channel = session.get(Channel, record.id)
            if channel is not None:
                session.delete(channel)
            audit(session, actor, "channel.remove", "channel", None, channel=record.id)
        message = f"Removed the channel {record.label}."
        if record.waiting:
            message += (
                f" {record.waiting} planned upload{'s' if record.waiting != 1 else ''} wait "
                "until it is signed in again."
            )
        if not revoked:
            message += (
                " Google could not be reached to revoke its token — revoke Cadence at "
                "https://myaccount.google.com/permissions"
            )
        return message

    def hold(self, channel_id: str, reason: str) -> bool:
        """Put a channel's uploads on hold; True when it was not on hold before."""
        with self.db.write() as session:
            channel = session.get(Channel, channel_id)
            if channel is None or channel.hold == reason:
                return False
            channel.hold = reason
            audit(session, "Cadence", "channel.hold", "channel", None, channel=channel_id)
            return True

    def title_of(self, channel_id: str) -> str:
        with self.db.read() as session:
            channel = session.get(Channel, channel_id)
            return channel.title if channel is not None else channel_id
