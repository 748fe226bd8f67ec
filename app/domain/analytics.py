"""How published videos do: views, likes and comments read once a day, and what they say.

Each video's readings are kept (oldest first); from them come its views at a given age (so a
video published last week and one published last year compare fairly), the best and worst
videos, views by the weekday and hour they were published, and the hours worth preferring
when planning the next ones.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

DAY = timedelta(days=1)
COMPARE_DAYS = 7  # videos are compared by their views a week after publishing
MIN_VIDEOS = 4  # fewer than this with a week's figures: no hour is preferred from results
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class Reading:
    at: datetime  # aware, UTC
    views: int
    likes: int | None = None  # None: the channel hides them
    comments: int | None = None  # None: comments are off


@dataclass(frozen=True, slots=True)
class VideoHistory:
    item_id: int
    job_id: int
    title: str
    video_id: str
    channel_id: str
    published_at: datetime  # aware
    readings: tuple[Reading, ...]  # oldest first

    @property
    def latest(self) -> Reading | None:
        return self.readings[-1] if self.readings else None

    def age(self, at: datetime) -> float:
        """Days from publishing to ``at``."""
        return (at - self.published_at) / DAY

    def views_at(self, days: float) -> int | None:
        """Views ``days`` after publishing: the reading nearest that age, if one was taken
        within a day of it (readings are daily); None for a younger video or a gap."""
        near = [r for r in self.readings if abs(self.age(r.at) - days) <= 1.0]
        if not near:
            return None
        return min(near, key=lambda r: abs(self.age(r.at) - days)).views

    def curve(self, days: float) -> tuple[list[float], list[int]]:
        """(age in days, views) of the readings in its first ``days`` days."""
        points = [(self.age(r.at), r.views) for r in self.readings if 0 <= self.age(r.at) <= days]
        return [p[0] for p in points], [p[1] for p in points]


@dataclass(frozen=True, slots=True)
class Ranked:
    video: VideoHistory
    views: int
    at_days: int | None  # the age compared, or None: the latest figure (too young to compare)


def ranked(videos: Iterable[VideoHistory], days: int = COMPARE_DAYS) -> list[Ranked]:
    """Best first: by views ``days`` after publishing, for the videos that old; when fewer
    than two are, by their latest views."""
    aged = [Ranked(v, n, days) for v in videos if (n := v.views_at(days)) is not None]
    if len(aged) < 2:
        aged = [Ranked(v, v.latest.views, None) for v in videos if v.latest is not None]
    return sorted(aged, key=lambda r: (-r.views, r.video.title))


@dataclass(frozen=True, slots=True)
class Bucket:
    label: str
    videos: int
    mean_views: float | None


def _buckets(
    videos: Iterable[VideoHistory], zone: tzinfo, days: int, key: str, labels: Sequence[str]
) -> list[Bucket]:
    views: dict[int, list[int]] = {n: [] for n in range(len(labels))}
    for video in videos:
        seen = video.views_at(days)
        if seen is None:
            continue
        local = video.published_at.astimezone(zone)
        views[local.weekday() if key == "weekday" else local.hour].append(seen)
    return [
        Bucket(labels[n], len(found), statistics.fmean(found) if found else None)
        for n, found in views.items()
    ]


def by_weekday(
    videos: Iterable[VideoHistory], zone: tzinfo, days: int = COMPARE_DAYS
) -> list[Bucket]:
    """Mean views ``days`` after publishing, by the local weekday it was published on."""
    return _buckets(videos, zone, days, "weekday", WEEKDAYS)


def by_hour(videos: Iterable[VideoHistory], zone: tzinfo, days: int = COMPARE_DAYS) -> list[Bucket]:
    """Mean views ``days`` after publishing, by the local hour it was published at."""
    return _buckets(videos, zone, days, "hour", [f"{h:02d}" for h in range(24)])


def hour_scores(
    videos: Sequence[VideoHistory], zone: tzinfo, days: int = COMPARE_DAYS
) -> dict[int, float]:
    """Each publishing hour's mean views at ``days``, relative to the channel's mean (1.0 is
    average) — only with at least `MIN_VIDEOS` videos that old, else nothing (too little to
    go by)."""
    hours = by_hour(videos, zone, days)
    counted = sum(b.videos for b in hours)
    if counted < MIN_VIDEOS:
        return {}
    overall = (
        statistics.fmean(v for video in videos if (v := video.views_at(days)) is not None) or 1.0
    )
    return {
        hour: bucket.mean_views / overall
        for hour, bucket in enumerate(hours)
        if bucket.mean_views is not None
    }


def median_curve(
    videos: Iterable[VideoHistory], days: int = 30, least: int = 3
) -> tuple[list[float], list[float]]:
    """(day, median views of the videos that old) for days 1…``days`` with figures of at
    least ``least`` videos (a median of one or two old videos says little)."""
    listed = list(videos)
    ages: list[float] = []
    medians: list[float] = []
    for day in range(1, days + 1):
        seen = [v for video in listed if (v := video.views_at(day)) is not None]
        if len(seen) >= least:
            ages.append(float(day))
            medians.append(float(statistics.median(seen)))
    return ages, medians


def best_hours(scores: dict[int, float], top: int = 3) -> list[int]:
    """The hours whose videos did better than the channel's average, best first."""
    better = sorted((h for h, s in scores.items() if s > 1.0), key=lambda h: (-scores[h], h))
    return better[:top]
