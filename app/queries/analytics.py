"""Published videos' figures, as the Analytics page and `analytics` show them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

if TYPE_CHECKING:
    from app.google.analytics import Analytics
    from app.services import Services

log = logging.getLogger(__name__)


def analytics(services: Services) -> Analytics:
    """Reads published videos' figures from YouTube (`due` once a day; `fetch` now)."""
    from app.google.analytics import Analytics

    return Analytics(services.db, services.channels, services.quota, services.quota_limits)


def analytics_report(
    services: Services, channel: str | None = None, job_id: int | None = None, days: int = 7
) -> dict[str, Any]:
    """What the Analytics page and `analytics` show: every published video (of a
    channel, of a job) with its readings, best first, by weekday and hour published,
    the median views over the first 30 days, the hours worth preferring, and when the
    figures were read."""
    from app.domain import analytics as figures
    from app.domain.schedule import local_zone_name
    from app.store import analytics as store
    from app.store.models import Channel, Job

    zone = ZoneInfo(local_zone_name())
    now = services.clock()
    with services.db.read() as session:
        videos = store.histories(session, now, channel, job_id)
        last = store.last_read(session, channel)
        channels = [(c.id, c.title) for c in session.scalars(select(Channel))]
        job_ids = sorted({v.job_id for v in store.published(session, now)})
        jobs = [(j.id, j.title) for j in session.scalars(select(Job).where(Job.id.in_(job_ids)))]
    return {
        "videos": videos,
        "last_read": last,
        "ranked": figures.ranked(videos, days),
        "weekday": figures.by_weekday(videos, zone, days),
        "hour": figures.by_hour(videos, zone, days),
        "median_curve": figures.median_curve(videos),
        "best_hours": figures.best_hours(figures.hour_scores(videos, zone, days)),
        "channels": channels,
        "jobs": jobs,
    }
