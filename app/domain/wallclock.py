"""Wall-clock time under daylight saving: which naive local times exist, where a
spring-forward gap ends, and the real instants a local match runs at (the DST policy stated
in `app.triggers`). Pure: the engine's triggers and the content calendar share it."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from datetime import MAXYEAR, UTC, datetime, time, timedelta, tzinfo
from functools import lru_cache

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
    # Every minute of one gap has the same change: found once, on whole hours around it (no
    # zone changes its clock twice within them).
    hour = min(low, high).replace(minute=0, second=0, microsecond=0)
    later = max(low, high).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return _change_between(hour, later, tz).astimezone(tz)


@lru_cache(maxsize=256)
def _change_between(low: datetime, high: datetime, tz: tzinfo) -> datetime:
    return offset_change(low, high, tz)


SLACK = timedelta(hours=3)  # more than any zone's clock change: naive and real time differ less
SEARCH_DAYS = 366 * 30  # 29 February on a given weekday can be decades away
MAXYEAR_SEARCH = MAXYEAR - 31  # a search never walks off the end of the calendar


def naive_matches(fields: CronFields, start: datetime) -> Iterator[datetime]:
    """Naive wall-clock minutes matching ``fields``, from ``start`` (naive) on, in order.

    Field by field, as a person reads a calendar: a month that does not match is skipped
    whole, then a day, then an hour, and only the minutes of a matching hour are looked at —
    29 February is found in a few hundred steps, not by walking four years of minutes."""
    months, hours, minutes = sorted(fields.months), sorted(fields.hours), sorted(fields.minutes)
    doms = sorted(fields.doms)
    moment = start.replace(second=0, microsecond=0)
    if moment < start:
        moment += timedelta(minutes=1)
    limit = start + timedelta(days=SEARCH_DAYS)
    while moment <= limit:
        if moment.month not in fields.months:
            later = bisect_right(months, moment.month)
            year = moment.year + (later == len(months))
            if year > MAXYEAR_SEARCH:
                return
            moment = datetime(year, months[later % len(months)], 1)
            continue
        if not fields.day_matches(moment):
            moment = datetime.combine(
                moment.date() + timedelta(days=_days_on(fields, doms, moment)), time(0)
            )
            continue
        at = bisect_left(hours, moment.hour)
        if at == len(hours):
            moment = datetime.combine(moment.date() + timedelta(days=1), time(0))
            continue
        if hours[at] != moment.hour:
            moment = moment.replace(hour=hours[at], minute=0)
        at = bisect_left(minutes, moment.minute)
        if at == len(minutes):
            moment = moment.replace(minute=0) + timedelta(hours=1)
            continue
        moment = moment.replace(minute=minutes[at])
        yield moment
        moment += timedelta(minutes=1)


def _days_on(fields: CronFields, doms: list[int], day: datetime) -> int:
    """Days from ``day`` (which does not match) to the next that may: the next day of the
    month named, the next weekday named, or simply tomorrow (when either day field may
    match, or past the month's end — the month check then moves on)."""
    if fields.dow_star and not fields.dom_star:  # only the day of the month counts
        month_end = (day.replace(day=28) + timedelta(days=4)).replace(day=1)  # next month's 1st
        to_month_end = (month_end.date() - day.date()).days
        later = bisect_right(doms, day.day)
        if later < len(doms) and doms[later] - day.day < to_month_end:
            return doms[later] - day.day
        return to_month_end
    if fields.dom_star and not fields.dow_star:  # only the weekday counts
        today = day.isoweekday() % 7
        return min((d - today) % 7 or 7 for d in fields.dows)
    return 1


def instants(local: datetime, tz: tzinfo, *, follow_real_time: bool) -> list[datetime]:
    """The real instants a naive local match runs at, under the DST policy."""
    if not exists(local, tz):
        return [] if follow_real_time else [gap_end(local, tz)]
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    if follow_real_time and first.astimezone(UTC) != second.astimezone(UTC):
        return [first, second]
    return [first]
