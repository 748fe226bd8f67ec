"""Recurring schedules on the calendar, expanded on the fly for any range — never stored.

`runs_between` lists a schedule's exact run instants in a range, under the DST policy the
engine's triggers follow (`app.domain.wallclock`). `day_counts` answers the month view's
question — how many runs fall on each day — for thousands of schedules without listing
them: a crontab's matching days are a bit mask built from per-month, per-day-of-month and
per-weekday masks of the range, and only days with a clock change (or schedules in another
zone, or bounded inside the range) are expanded one run at a time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy

from app.domain.schedule import CronFields, ScheduleSpec
from app.domain.wallclock import exists, gap_end, instants, offset_change


def parse_moved(stored: dict[str, Any] | None) -> dict[datetime, datetime]:
    """A schedule's ``moved_runs`` column — ISO original → ISO new — as UTC instants."""
    return {
        datetime.fromisoformat(a).astimezone(UTC): datetime.fromisoformat(str(b)).astimezone(UTC)
        for a, b in (stored or {}).items()
    }


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
    moved: tuple[tuple[datetime, datetime], ...] = ()  # (original, new), UTC

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
    """The schedule's runs in [start, end), as UTC instants in order — with runs moved on the
    calendar at their new instants."""
    runs = _regular_runs(plan, start, end)
    if not plan.moved:
        return runs
    gone = {original for original, _new in plan.moved}
    low, high = start.astimezone(UTC), end.astimezone(UTC)
    kept = [t for t in runs if t not in gone]
    kept += [new for _original, new in plan.moved if low <= new < high]
    return sorted(kept)


def is_run(plan: RunPlan, moment: datetime) -> bool:
    """Whether the schedule itself (moves aside) runs at ``moment``."""
    utc = moment.astimezone(UTC)
    return utc in _regular_runs(plan, utc, utc + timedelta(seconds=1))


def _regular_runs(plan: RunPlan, start: datetime, end: datetime) -> list[datetime]:
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


@dataclass(frozen=True, slots=True)
class _Change:
    """A day's clock change, as minutes of the day: the wall-clock times that do not exist
    (spring) or occur twice (autumn)."""

    gap: tuple[int, int] | None  # [start, end) of the skipped times
    repeat: tuple[int, int] | None  # [start, end) of the repeated times


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
        self.bounds = [  # each day's first instant, and the end of the last day
            datetime.combine(self.first + timedelta(days=n), time(0), tzinfo=self.tz).astimezone(
                UTC
            )
            for n in range(self.days + 1)
        ]
        self.changes: dict[int, _Change | None] = {}  # None: a change the counts cannot model
        for n in range(self.days):
            day = self.first + timedelta(days=n)
            bit = 1 << n
            self.month_masks[day.month] = self.month_masks.get(day.month, 0) | bit
            self.dom_masks[day.day] = self.dom_masks.get(day.day, 0) | bit
            dow = day.isoweekday() % 7  # crontab: 0 = Sunday
            self.dow_masks[dow] = self.dow_masks.get(dow, 0) | bit
            old = self.bounds[n].astimezone(self.tz).utcoffset()
            new = self.bounds[n + 1].astimezone(self.tz).utcoffset()
            if old != new and old is not None and new is not None:
                self.changes[n] = self._change(n, old, new)
        self.start, self.end = self.bounds[0], self.bounds[-1]
        self.stamps = [bound.timestamp() for bound in self.bounds]
        self.cache: dict[tuple[object, ...], int] = {}

    def _change(self, n: int, old: timedelta, new: timedelta) -> _Change | None:
        moment = offset_change(self.bounds[n], self.bounds[n + 1], self.tz)
        shift = int((new - old).total_seconds() // 60)
        offset = old if shift > 0 else new
        local = (moment + offset).replace(tzinfo=None)
        if local.date() != self.first + timedelta(days=n):
            return None  # a change at midnight: counted run by run
        minute = local.hour * 60 + local.minute
        span = (minute, minute + abs(shift))
        if span[1] > 24 * 60:
            return None
        return _Change(span, None) if shift > 0 else _Change(None, span)

    def mask(self, fields: CronFields) -> int:
        """The days (bits) of the range a crontab matches, cached by its day fields (many
        schedules share them: every day, weekdays, Mondays …)."""
        key = (fields.months, fields.doms, fields.dows, fields.dom_star, fields.dow_star)
        cached = self.cache.get(key)
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
        self.cache[key] = result
        return result


def _pairs_in(fields: CronFields, low: int, high: int) -> int:
    """How many of the crontab's times of day fall in [low, high) minutes."""
    return sum(1 for h in fields.hours for m in fields.minutes if low <= h * 60 + m < high)


def _change_count(fields: CronFields, per_day: int, follow: bool, change: _Change) -> int:
    """Runs on a day with a clock change, under the schedules' DST policy."""
    if change.gap is not None:
        skipped = _pairs_in(fields, *change.gap)
        if follow:
            return per_day - skipped  # wildcard crontabs follow real time: gone
        end = change.gap[1]
        joins = end // 60 in fields.hours and end % 60 in fields.minutes
        # The skipped times run once together at the gap's end (with a run already there).
        return per_day - skipped + (1 if skipped and not joins else 0)
    assert change.repeat is not None
    return per_day + (_pairs_in(fields, *change.repeat) if follow else 0)


def _interval_counts(plan: RunPlan, span: _Range, start: datetime, counts: list[int]) -> None:
    """Per-day counts of an interval schedule: ticks before each day boundary, subtracted."""
    assert plan.spec.every is not None
    step = plan.spec.every.total_seconds()
    anchor = plan.anchor.astimezone(UTC).timestamp()
    low, high = (moment.timestamp() for moment in plan.bounds(start, span.end))
    ticks = [
        max(0, math.ceil((min(max(bound, low), high) - anchor) / step)) for bound in span.stamps
    ]  # ticks strictly before each boundary
    for n in range(span.days):
        counts[n] += ticks[n + 1] - ticks[n]


def _all_intervals(plans: list[RunPlan], span: _Range, counts: list[int]) -> None:
    """Interval schedules bounded by nothing inside the range, all at once: ticks before
    each day boundary (none before the anchor), differenced day by day and summed."""
    anchors = numpy.array([p.anchor.astimezone(UTC).timestamp() for p in plans])
    steps = numpy.array([p.spec.every.total_seconds() for p in plans if p.spec.every])
    stamps = numpy.array(span.stamps)
    ticks = numpy.ceil((stamps[None, :] - anchors[:, None]) / steps[:, None]).clip(min=0)
    for n, runs in enumerate(numpy.diff(ticks, axis=1).sum(axis=0)):
        counts[n] += int(runs)


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
    # Days wholly after `after` take the fast path; the day `after` falls in is exact.
    cut = next(n for n in range(days) if span.bounds[n + 1] > start)
    partial = start > span.bounds[cut]
    special = sum(1 << n for n in span.changes) | ((1 << cut) if partial else 0)
    regular = ((1 << days) - 1) & ~((1 << cut) - 1) & ~special
    weights: dict[int, int] = {}  # a day mask → runs a day on each of its days, summed
    moving: list[RunPlan] = []
    intervals: list[RunPlan] = []
    for plan in plans:
        spec = plan.spec
        inside = (plan.start_at is None or plan.start_at <= start) and (
            plan.end_at is None or plan.end_at >= span.end
        )
        fast = spec.cron is not None and plan.tz.key == tz.key and inside
        if plan.moved and fast:
            moving.append(plan)  # counted as usual below, then its moves corrected
        if spec.kind == "interval" and not partial and not plan.moved:
            if inside:
                intervals.append(plan)  # counted together below
            else:
                _interval_counts(plan, span, start, counts)
            continue
        if not fast:
            for moment in runs_between(plan, start, span.end):  # moves included
                index = (moment.astimezone(tz).date() - first).days
                if 0 <= index < days:
                    counts[index] += 1
            continue
        fields = spec.cron
        assert fields is not None  # `fast` holds only crontabs
        per_day = len(fields.hours) * len(fields.minutes)
        mask = span.mask(fields)
        common = mask & regular
        weights[common] = weights.get(common, 0) + per_day
        odd = mask & special
        while odd:  # a clock change, or the partly past first day: few days, each its own way
            low = odd & -odd
            index = low.bit_length() - 1
            odd ^= low
            follow = spec.kind == "cron" and fields.wildcard
            change = span.changes.get(index)
            if (index == cut and partial) or change is None:
                counts[index] += len(
                    _cron_runs(fields, tz, follow, max(start, span.bounds[index]),
                               span.bounds[index + 1])
                )  # fmt: skip
            else:
                counts[index] += _change_count(fields, per_day, follow, change)
    if intervals:
        _all_intervals(intervals, span, counts)
    for plan in moving:  # a moved run leaves its own day and joins the new one
        unmoved = replace(plan, moved=())
        for original, new in plan.moved:
            for moment, step in ((original, -1), (new, 1)):
                if not start <= moment < span.end or (step < 0 and not is_run(unmoved, moment)):
                    continue
                index = (moment.astimezone(tz).date() - first).days
                if 0 <= index < days:
                    counts[index] += step
    for mask, runs in weights.items():
        while mask:
            low = mask & -mask
            counts[low.bit_length() - 1] += runs
            mask ^= low
    return counts
