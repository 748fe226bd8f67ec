"""Recurring schedules on the calendar, expanded on the fly for any range — never stored.

`runs_between` lists a schedule's exact run instants in a range, under the DST policy the
engine's triggers follow (`app.domain.wallclock`). `day_counts` answers the month view's
question — how many runs fall on each day — for thousands of schedules without listing
them: a crontab's matching days are a bit mask built from per-month, per-day-of-month and
per-weekday masks of the range, and only days with a clock change (or schedules in another
zone, or bounded inside the range) are expanded one run at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.domain.schedule import CronFields, ScheduleSpec
from app.domain.wallclock import exists, gap_end, instants


@dataclass(frozen=True, slots=True)
class RunPlan:
    """A schedule as the calendar sees it."""

    schedule_id: int
    name: str
    spec: ScheduleSpec
    tz: ZoneInfo
    anchor: datetime  # where an interval schedule counts from (its start, else its creation)
    start_at: datetime | None = None
    end_at: datetime | None = None
    channel: str = ""

    def bounds(self, start: datetime, end: datetime) -> tuple[datetime, datetime]:
        low = max(start, self.start_at) if self.start_at else start
        high = min(end, self.end_at + timedelta(microseconds=1)) if self.end_at else end
        return low, high


def _cron_runs(
    fields: CronFields, tz: ZoneInfo, follow: bool, start: datetime, end: datetime
) -> list[datetime]:
    """Exact instants of a crontab in [start, end)."""
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    hours, minutes = sorted(fields.hours), sorted(fields.minutes)
    day = first
    found: list[datetime] = []
    while day <= last:
        if fields.day_matches(datetime.combine(day, time(0))):
            seen: set[datetime] = set()
            for hour in hours:
                for minute in minutes:
                    for moment in instants(
                        datetime.combine(day, time(hour, minute)), tz, follow_real_time=follow
                    ):
                        utc = moment.astimezone(UTC)
                        if start <= utc < end and utc not in seen:  # gap times run once together
                            seen.add(utc)
                            found.append(utc)
        day += timedelta(days=1)
    return found


def runs_between(plan: RunPlan, start: datetime, end: datetime) -> list[datetime]:
    """The schedule's runs in [start, end), as UTC instants in order."""
    low, high = plan.bounds(start.astimezone(UTC), end.astimezone(UTC))
    if low >= high:
        return []
    spec = plan.spec
    if spec.kind == "once":
        assert spec.at is not None
        local = spec.at
        moment = (
            gap_end(local, plan.tz)
            if not exists(local, plan.tz)
            else local.replace(tzinfo=plan.tz, fold=0)
        )
        utc = moment.astimezone(UTC)
        return [utc] if low <= utc < high else []
    if spec.kind == "interval":
        assert spec.every is not None
        step = spec.every.total_seconds()
        anchor = plan.anchor.astimezone(UTC)
        first = max(0, -(-int((low - anchor).total_seconds()) // int(step)))
        found = []
        k = first
        while True:
            moment = anchor + timedelta(seconds=k * step)
            if moment >= high:
                break
            if moment >= low:
                found.append(moment)
            k += 1
        return found
    assert spec.cron is not None
    follow = spec.kind == "cron" and spec.cron.wildcard
    return sorted(_cron_runs(spec.cron, plan.tz, follow, low, high))


@dataclass
class _Range:
    """The days of a view in one zone, with the masks crontab fields are matched against."""

    tz: ZoneInfo
    first: date
    days: int

    def __post_init__(self) -> None:
        self.month_masks: dict[int, int] = {}
        self.dom_masks: dict[int, int] = {}
        self.dow_masks: dict[int, int] = {}
        self.changes: set[int] = set()  # day indexes with a clock change
        for n in range(self.days):
            day = self.first + timedelta(days=n)
            bit = 1 << n
            self.month_masks[day.month] = self.month_masks.get(day.month, 0) | bit
            self.dom_masks[day.day] = self.dom_masks.get(day.day, 0) | bit
            dow = day.isoweekday() % 7  # crontab: 0 = Sunday
            self.dow_masks[dow] = self.dow_masks.get(dow, 0) | bit
            midnight = datetime.combine(day, time(0), tzinfo=self.tz)
            following = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
            if midnight.utcoffset() != following.utcoffset():
                self.changes.add(n)
        self.start = datetime.combine(self.first, time(0), tzinfo=self.tz).astimezone(UTC)
        self.end = datetime.combine(
            self.first + timedelta(days=self.days), time(0), tzinfo=self.tz
        ).astimezone(UTC)
        self.cache: dict[CronFields, int] = {}

    def mask(self, fields: CronFields) -> int:
        cached = self.cache.get(fields)
        if cached is not None:
            return cached
        months = 0
        for month in fields.months:
            months |= self.month_masks.get(month, 0)
        doms = 0
        for dom in fields.doms:
            doms |= self.dom_masks.get(dom, 0)
        dows = 0
        for dow in fields.dows:
            dows |= self.dow_masks.get(dow % 7, 0)
        # crontab(5): either day field matches when both are restricted, both must otherwise.
        days = doms & dows if fields.dom_star or fields.dow_star else doms | dows
        result = months & days
        self.cache[fields] = result
        return result


def day_counts(
    plans: Iterable[RunPlan], first: date, days: int, tz: ZoneInfo, after: datetime
) -> list[int]:
    """How many runs fall on each of ``days`` days from ``first`` (days in ``tz``), counting
    only runs after ``after``."""
    span = _Range(tz, first, days)
    counts = [0] * days
    start = max(span.start, after.astimezone(UTC))
    if start >= span.end:
        return counts
    # Days wholly after `after` take the fast path; the day holding `after` is exact.
    cut = (start.astimezone(tz).date() - first).days
    for plan in plans:
        spec = plan.spec
        fast = (
            spec.cron is not None
            and plan.tz.key == tz.key
            and (plan.start_at is None or plan.start_at <= start)
            and (plan.end_at is None or plan.end_at >= span.end)
        )
        if not fast:
            for moment in runs_between(plan, start, span.end):
                index = (moment.astimezone(tz).date() - first).days
                if 0 <= index < days:
                    counts[index] += 1
            continue
        fields = spec.cron
        assert fields is not None
        per_day = len(fields.hours) * len(fields.minutes)
        mask = span.mask(fields)
        exact = {cut, *span.changes}
        while mask:
            low = mask & -mask
            index = low.bit_length() - 1
            mask ^= low
            if index < cut:
                continue
            if index in exact:
                day_start = datetime.combine(first + timedelta(days=index), time(0), tzinfo=tz)
                day_end = datetime.combine(first + timedelta(days=index + 1), time(0), tzinfo=tz)
                low_bound = max(start, day_start.astimezone(UTC))
                follow = spec.kind == "cron" and fields.wildcard
                counts[index] += len(
                    _cron_runs(fields, tz, follow, low_bound, day_end.astimezone(UTC))
                )
            else:
                counts[index] += per_day
    return counts
