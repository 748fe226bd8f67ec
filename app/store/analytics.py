"""Published videos' figures in the database: which videos to read, and their history."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.analytics import Reading, VideoHistory
from app.domain.publishing import UploadStatus
from app.store.models import Item, Upload, VideoStat

LIVE = (UploadStatus.PUBLISHED.value, UploadStatus.SCHEDULED.value, UploadStatus.UPLOADED.value)


@dataclass(frozen=True, slots=True)
class Published:
    item_id: int
    job_id: int
    title: str
    video_id: str
    channel_id: str
    published_at: datetime


def published(
    session: Session, now: datetime, channel_id: str | None = None, job_id: int | None = None
) -> list[Published]:
    """Videos on YouTube whose publishing time has come (a scheduled one counts from its
    ``publishAt``; one published at once, from when its upload finished)."""
    query = (
        select(
            Item.id,
            Item.job_id,
            Item.title,
            Upload.video_id,
            Upload.channel_id,
            Upload.publish_at,
            Item.finished_at,
            Upload.updated_at,
        )
        .join(Upload)
        .where(
            Upload.video_id.is_not(None),
            Upload.status.in_(LIVE),
            Upload.destination == "youtube",  # figures are YouTube's
        )
        .order_by(Item.id)
    )
    if channel_id is not None:
        query = query.where(Upload.channel_id == channel_id)
    if job_id is not None:
        query = query.where(Item.job_id == job_id)
    found = []
    for item_id, job, title, video_id, channel, publish_at, finished, updated in session.execute(
        query
    ):
        when = publish_at or finished or updated
        if when is not None and when <= now:
            found.append(Published(item_id, job, title, str(video_id), channel, when))
    return found


def any_published(session: Session) -> bool:
    """Whether any video is on YouTube (one indexed look, however many there are)."""
    live = select(Upload.item_id).where(Upload.status.in_(LIVE), Upload.video_id.is_not(None))
    return session.scalar(live.limit(1)) is not None


def record(session: Session, at: datetime, figures: dict[int, tuple[int, int | None, int | None]],
           videos: dict[int, Published]) -> int:  # fmt: skip
    """Store one reading per item: ``figures`` maps item id → (views, likes, comments)."""
    for item_id, (views, likes, comments) in figures.items():
        video = videos[item_id]
        session.add(
            VideoStat(
                item_id=item_id,
                video_id=video.video_id,
                channel_id=video.channel_id,
                fetched_at=at,
                views=views,
                likes=likes,
                comments=comments,
            )
        )
    return len(figures)


def last_read(session: Session, channel_id: str | None = None) -> datetime | None:
    query = select(func.max(VideoStat.fetched_at))
    if channel_id is not None:
        query = query.where(VideoStat.channel_id == channel_id)
    return session.scalar(query)


def readings_mark(session: Session, channel_id: str | None = None) -> tuple[object, ...]:
    """Changes whenever a channel's readings do (a daily read, a prune): the newest reading's
    time and how many there are — one indexed query, to know a cached result still holds."""
    query = select(func.max(VideoStat.fetched_at), func.count())
    if channel_id is not None:
        query = query.where(VideoStat.channel_id == channel_id)
    return tuple(session.execute(query).one())


def histories(
    session: Session, now: datetime, channel_id: str | None = None, job_id: int | None = None
) -> list[VideoHistory]:
    """Every published video (of a channel, of a job) with its readings, oldest first."""
    videos = published(session, now, channel_id, job_id)
    readings: dict[int, list[Reading]] = defaultdict(list)
    ids = [v.item_id for v in videos]
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(
                VideoStat.item_id,
                VideoStat.fetched_at,
                VideoStat.views,
                VideoStat.likes,
                VideoStat.comments,
            )
            .where(VideoStat.item_id.in_(ids[start : start + 500]))
            .order_by(VideoStat.fetched_at)
        )
        for item_id, at, views, likes, comments in rows:
            readings[item_id].append(Reading(at, views, likes, comments))
    return [
        VideoHistory(
            v.item_id,
            v.job_id,
            v.title,
            v.video_id,
            v.channel_id,
            v.published_at,
            tuple(readings.get(v.item_id, ())),
        )
        for v in videos
    ]
