"""Wall-clock time under daylight saving: which naive local times exist, where a
spring-forward gap ends, and the real instants a local match runs at (the DST policy stated
in `app.triggers`). Pure: the engine's triggers and the content calendar share it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta, tzinfo

from app.domain.schedule import CronFields


def exists(local: datetime, tz: tzinfo) -> bool:
    """Whether a naive wall-clock time exists in ``tz`` (it does not inside a spring gap)."""
    aware = local.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local


def is_second_occurrence(moment: datetime, tz: tzinfo) -> bool:
    local = moment.astimezone(tz).replace(tzinfo=None)
    first = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return first != second and moment.astimezone(UTC) == second


def offset_change(low: datetime, high: datetime, tz: tzinfo) -> datetime:
    """The instant in (low, high] where ``tz``'s offset changes (to the second), found by
    halving the interval."""
    before = low.astimezone(tz).utcoffset()
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(tz).utcoffset() == before:
            low = mid
        else:
            high = mid
    return high.replace(microsecond=0)


def gap_end(local: datetime, tz: tzinfo) -> datetime:
    """The first real instant after the spring-forward gap containing ``local``."""
    low = local.replace(tzinfo=tz, fold=1).astimezone(UTC)  # using the later (summer) offset
    high = local.replace(tzinfo=tz, fold=0).astimezone(UTC)  # using the earlier offset
    return offset_change(min(low, high), max(low, high), tz).astimezone(tz)


SLACK = timedelta(hours=3)  # more than any zone's clock change: naive and real time differ less
SEARCH_DAYS = 366 * 30  # 29 February on a given weekday can be decades away


def naive_matches(fields: CronFields, start: datetime) -> Iterator[datetime]:
    """Naive wall-clock minutes matching ``fields``, from ``start`` (naive) on, in order."""
    hours, minutes = sorted(fields.hours), sorted(fields.minutes)
    day = start.date()
    for _ in range(SEARCH_DAYS):
        if fields.day_matches(datetime.combine(day, time(0))):
            for hour in hours:
                for minute in minutes:
                    moment = datetime.combine(day, time(hour, minute))
                    if moment >= start:
                        yield moment
        day += timedelta(days=1)


def instants(local: datetime, tz: tzinfo, *, follow_real_time: bool) -> list[datetime]:
    """The real instants a naive local match runs at, under the DST policy."""
    if not exists(local, tz):
        return [] if follow_real_time else [gap_end(local, tz)]
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    if follow_real_time and first.astimezone(UTC) != second.astimezone(UTC):
        return [first, second]
    return [first]
