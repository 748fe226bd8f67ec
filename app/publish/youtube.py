"""YouTube (and Shorts) as a publishing destination: channels signed in through OAuth
(`app.google.channels`), uploads resumable and never doubled (`app.google.publisher`),
the daily quota kept in `app.google.quota`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.google.publisher import Publisher, PublishOutcome
from app.publish.destination import DestinationError, register
from app.store.models import Channel

if TYPE_CHECKING:
    from app.services import Services


class YouTubeDestination:
    name = "youtube"

    def __init__(
        self, services: Services, publisher: Publisher | None = None, name: str = "youtube"
    ) -> None:
        self.services = services
        self._publisher = publisher
        self.name = name  # youtube, or youtube_shorts (the same channel, the 9:16 copy)

    @property
    def publisher(self) -> Publisher:
        if self._publisher is None:
            s = self.services
            self._publisher = Publisher(
                s.db, s.channels, s.quota, s.publish_settings(), destination=self.name
            )
        return self._publisher

    def signed_in(self) -> list[str]:
        with self.services.db.read() as session:
            return list(
                session.scalars(
                    select(Channel.id).where(Channel.hold.is_(None), Channel.platform == "youtube")
                )
            )

    def uploads_left_today(self, channel: str) -> int:
        with self.services.db.read() as session:
            found = session.get(Channel, channel)
            project = found.project if found else ""
        today = self.services.quota.today(project)
        return today.uploads_left

    def publish(
        self,
        item_id: int,
        progress: Callable[[float], None],
        stop: threading.Event,
        cancel: threading.Event,
    ) -> PublishOutcome:
        return self.publisher.publish(item_id, progress, stop, cancel)

    def status(self, channel: str, video_id: str) -> str | None:
        state = self.services.channels.client(channel).video_state(video_id)
        return state.privacy if state else None

    def reschedule(self, channel: str, video_id: str, when: datetime) -> str:
        from app.google.youtube import YouTubeError

        try:
            state = self.services.channels.client(channel).reschedule(video_id, when)
        except YouTubeError as exc:
            raise DestinationError(f"YouTube did not take the new time: {exc}") from None
        return str(state.privacy)


register("youtube", YouTubeDestination)
register("youtube_shorts", lambda services: YouTubeDestination(services, name="youtube_shorts"))
