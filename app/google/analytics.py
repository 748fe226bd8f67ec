"""Reading published videos' views, likes and comments from YouTube: once a day (the engine
asks when it is due) and on demand (`analytics --fetch`, the Analytics page's button).

One ``videos.list`` call with ``part=statistics`` reads 50 videos for 1 quota unit, counted in
the quota ledger like every other call. A channel that is signed out, on hold or out of quota
is skipped with the reason; its earlier figures stay, with the date they were read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.google.channels import Channels
from app.google.quota import QuotaLedger, QuotaLimits
from app.google.youtube import BATCH, YouTubeError
from app.store import analytics as store
from app.store.database import Database
from app.store.models import Channel, utcnow

FETCH_EVERY = timedelta(hours=24)


@dataclass
class FetchReport:
    read: dict[str, int] = field(default_factory=dict)  # channel title → videos read
    skipped: dict[str, str] = field(default_factory=dict)  # channel title → why not

    def summary(self) -> str:
        parts = [f"{count} videos of {title}" for title, count in self.read.items()]
        said = "Read the figures of " + ", ".join(parts) if parts else "Nothing was read"
        skipped = [f"{title}: {why}" for title, why in self.skipped.items()]
        return said + (" — skipped " + "; ".join(skipped) if skipped else "") + "."


class Analytics:
    def __init__(
        self,
        db: Database,
        channels: Channels,
        ledger: QuotaLedger,
        limits: Callable[[], QuotaLimits],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.channels = channels
        self.ledger = ledger
        self.limits = limits
        self.clock = clock

    def due(self) -> bool:
        """Whether published videos exist and their figures are a day old (or were never read)."""
        now = self.clock()
        with self.db.read() as session:
            last = store.last_read(session)
            if last is not None and now - last < FETCH_EVERY:
                return False
            return store.any_published(session)

    def fetch(self) -> FetchReport:
        """Read every published video's figures now, channel by channel."""
        now = self.clock()
        report = FetchReport()
        with self.db.read() as session:
            videos = store.published(session, now)
            channels = {c.id: c for c in session.query(Channel).all()}
            session.expunge_all()
        by_channel: dict[str, list[store.Published]] = defaultdict(list)
        for video in videos:
            by_channel[video.channel_id].append(video)
        for channel_id, listed in by_channel.items():
            channel = channels.get(channel_id)
            title = channel.title if channel is not None else channel_id
            why = self._why_not(channel, len(listed))
            if why:
                report.skipped[title] = why
                continue
            assert channel is not None
            try:
                figures = self._read(channel, listed)
            except YouTubeError as exc:
                report.skipped[title] = (
                    f"{exc} — sign the channel in again in Settings"
                    if exc.kind == "auth"
                    else str(exc)
                )
                continue
            by_id = {v.video_id: v for v in listed}
            found = {by_id[vid].item_id: counts for vid, counts in figures.items() if vid in by_id}
            with self.db.write() as session:
                report.read[title] = store.record(
                    session, now, found, {v.item_id: v for v in listed}
                )
        return report

    def _why_not(self, channel: Channel | None, videos: int) -> str:
        if channel is None:
            return "not signed in — its last figures are kept"
        if channel.hold:
            return f"{channel.hold} — its last figures are kept"
        needed = -(-videos // BATCH) * self.limits().read
        if self.ledger.today(channel.project).units_left < needed:
            return "today's YouTube quota is used up — tomorrow's read catches up"
        return ""

    def _read(
        self, channel: Channel, listed: list[store.Published]
    ) -> dict[str, tuple[int, int | None, int | None]]:
        project = channel.project

        def spend(units: int) -> None:
            self.ledger.spend(project, units=units)

        limits = self.limits()
        youtube = self.channels.client(
            channel.id, spend=spend, costs={"read": limits.read, "write": limits.write}
        )
        return youtube.statistics([v.video_id for v in listed])
