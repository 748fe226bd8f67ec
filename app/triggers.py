"""APScheduler triggers from schedule specs, with crontab(5) meaning and a stated DST policy.

`CrontabTrigger` finds the next matching minute on naive local wall-clock times — minute,
hour, month and the two day fields read exactly as crontab(5) reads them (either day field
matches when both are restricted) — and only then maps it to a real instant. APScheduler's own
`CronTrigger` is not used: when it rolls over to the next hour, day or month it steps in
wall-clock time but adds the step in real time, overshooting by the DST shift, and loses runs
after a spring-forward change (Berlin's ``0 0 * * *`` skipped 29 March 2027).

Daylight-saving changes, for every schedule with a wall-clock time:
- a time that does not exist on the change day (02:30 when clocks jump 02:00 → 03:00) runs
  once, at the first moment after the jump (03:00); several such times run once together;
- a time that occurs twice (02:30 when clocks fall back 03:00 → 02:00) runs once, at its first
  occurrence;
- cron expressions with ``*`` leading the minute or the hour field (every N minutes, every
  hour …) follow real time instead: skipped times do not run, repeated times run again — as
  cron(8) does for "jobs specified with wildcards".
Interval schedules (every@6h) count elapsed time and are unaffected by the change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from app.domain.schedule import CronFields, ScheduleSpec, parse_schedule, zone
from app.domain.wallclock import (
    SLACK,
    exists,
    gap_end,
    instants,
    is_second_occurrence,
    naive_matches,
)

_APS_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _listing(values: frozenset[int], full: range) -> str:
    return "*" if set(values) == set(full) else ",".join(str(v) for v in sorted(values))


def cron_triggers(fields: CronFields, tz: ZoneInfo) -> list[CronTrigger]:
    minute = _listing(fields.minutes, range(60))
    hour = _listing(fields.hours, range(24))
    month = _listing(fields.months, range(1, 13))
    dom = _listing(fields.doms, range(1, 32))
    dow = "*" if len(fields.dows) == 7 else ",".join(_APS_DAYS[d] for d in sorted(fields.dows))
    common: dict[str, Any] = {"minute": minute, "hour": hour, "month": month, "timezone": tz}
    if fields.dom_star or fields.dow_star:
        return [CronTrigger(day=dom, day_of_week=dow, **common)]
    return [
        CronTrigger(day=dom, day_of_week="*", **common),
        CronTrigger(day="*", day_of_week=dow, **common),
    ]


class CrontabTrigger(BaseTrigger):
    """crontab(5) in a time zone, with the DST policy in this module's docstring."""

    def __init__(self, fields: CronFields, tz: ZoneInfo, *, follow_real_time: bool) -> None:
        self.fields = fields
        self.timezone = tz
        self.follow_real_time = follow_real_time

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is not None:  # as APScheduler's own triggers read these
            start = min(now, previous_fire_time + timedelta(microseconds=1))
        else:
            start = now
        start_utc = start.astimezone(UTC)
        local = start.astimezone(self.timezone).replace(tzinfo=None, second=0, microsecond=0)
        best: datetime | None = None
        best_real: datetime | None = None
        best_local: datetime | None = None
        settled = False  # the best is away from a clock change: no later match comes first
        # Wall-clock times before ``local`` can map to a later instant only next to a clock
        # change; away from one the search starts at ``local`` and ends at the first match.
        near_change = self._near_change(start_utc)
        for naive in naive_matches(self.fields, local - SLACK if near_change else local):
            if best_local is not None and (settled or naive > best_local + SLACK):
                break  # later wall-clock times cannot map to an earlier instant
            for moment in instants(naive, self.timezone, follow_real_time=self.follow_real_time):
                real = moment.astimezone(UTC)
                if real < start_utc or (
                    previous_fire_time is not None and real <= previous_fire_time
                ):
                    continue
                if best_real is None or real < best_real:
                    best, best_real, best_local = moment, real, naive
                    settled = not self._near_change(real)
        return best

    def _near_change(self, instant: datetime) -> bool:
        """Whether the zone's offset changes within ``SLACK`` of ``instant`` (no zone changes
        it twice in that time, so comparing both ends tells)."""
        before = (instant - SLACK).astimezone(self.timezone).utcoffset()
        return before != (instant + SLACK).astimezone(self.timezone).utcoffset()

    def __str__(self) -> str:
        return f"crontab(tz={self.timezone}, follow_real_time={self.follow_real_time})"

    def __getstate__(self) -> dict[str, Any]:
        return {
            "version": 1,
            "fields": self.fields,
            "timezone": self.timezone,
            "follow": self.follow_real_time,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.fields = state["fields"]
        self.timezone = state["timezone"]
        self.follow_real_time = state["follow"]


class WallClockTrigger(BaseTrigger):
    """The trigger of earlier versions, kept so that their stored jobs still load; the first
    sync replaces every one of them with a `CrontabTrigger` (keeping its next run)."""

    def __init__(self, inner: list[BaseTrigger], tz: ZoneInfo, *, follow_real_time: bool) -> None:
        self.inner = inner[0] if len(inner) == 1 else OrTrigger(inner)
        self.timezone = tz
        self.follow_real_time = follow_real_time

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        previous = previous_fire_time
        for _ in range(64):  # more skips than any real zone needs in one step
            candidate = self.inner.get_next_fire_time(previous, now)
            if candidate is None:
                return None
            local = candidate.replace(tzinfo=None)
            if not exists(local, self.timezone):
                if not self.follow_real_time:
                    moved = gap_end(local, self.timezone)
                    if previous_fire_time is None or moved > previous_fire_time:
                        return moved
                previous = now = _after(candidate)
                continue
            moment = _match_offset(local, candidate, self.timezone)
            if not self.follow_real_time and is_second_occurrence(moment, self.timezone):
                previous, now = moment, _after(moment)
                continue
            return moment
        return None

    def __str__(self) -> str:
        return f"wall-clock({self.inner})"

    def __getstate__(self) -> dict[str, Any]:
        return {"inner": self.inner, "timezone": self.timezone, "follow": self.follow_real_time}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.inner = state["inner"]
        self.timezone = state["timezone"]
        self.follow_real_time = state["follow"]


class MovedRunsTrigger(BaseTrigger):
    """A schedule's trigger with single runs moved on the calendar: each original instant is
    skipped, and the run fires at its new instant instead."""

    def __init__(self, inner: BaseTrigger, moved: dict[datetime, datetime]) -> None:
        self.inner = inner
        self.moved = {a.astimezone(UTC): b.astimezone(UTC) for a, b in moved.items()}

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        previous, current = previous_fire_time, now
        regular = self.inner.get_next_fire_time(previous, current)
        for _ in range(len(self.moved) + 1):
            if regular is None or regular.astimezone(UTC) not in self.moved:
                break
            previous, current = regular, _after(regular)
            regular = self.inner.get_next_fire_time(previous, current)
        if previous_fire_time is not None:  # as the crontab trigger reads them
            start = min(now, previous_fire_time + timedelta(microseconds=1))
        else:
            start = now
        targets = [
            t
            for t in self.moved.values()
            if t >= start and (previous_fire_time is None or t > previous_fire_time)
        ]
        options = [t for t in (regular, min(targets, default=None)) if t is not None]
        return min(options, key=lambda t: t.astimezone(UTC)) if options else None

    def __str__(self) -> str:
        return f"moved({self.inner}, {len(self.moved)} runs)"

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "inner": self.inner, "moved": self.moved}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.inner = state["inner"]
        self.moved = state["moved"]


def _after(moment: datetime) -> datetime:
    """One second later in real time (aware arithmetic is wall-clock and would lose the fold)."""
    return moment.astimezone(UTC) + timedelta(seconds=1)


def _match_offset(local: datetime, candidate: datetime, tz: tzinfo) -> datetime:
    """The aware local time for ``candidate``'s instant (keeping which of two folds it was)."""
    for fold in (0, 1):
        option = local.replace(tzinfo=tz, fold=fold)
        if option.utcoffset() == candidate.utcoffset():
            return option
    return candidate.astimezone(tz)


def build_trigger(
    spec: ScheduleSpec,
    tz: ZoneInfo,
    *,
    start: datetime | None = None,
    moved: dict[datetime, datetime] | None = None,
) -> BaseTrigger:
    """The trigger that fires ``spec`` in ``tz`` (with single runs moved, if any)."""
    trigger = _plain_trigger(spec, tz, start)
    return MovedRunsTrigger(trigger, moved) if moved else trigger


def _plain_trigger(spec: ScheduleSpec, tz: ZoneInfo, start: datetime | None) -> BaseTrigger:
    if spec.kind == "interval":
        assert spec.every is not None
        return IntervalTrigger(
            seconds=int(spec.every.total_seconds()), start_date=start, timezone=tz
        )
    if spec.kind == "once":
        assert spec.at is not None
        local = spec.at
        if not exists(local, tz):
            return DateTrigger(run_date=gap_end(local, tz))
        return DateTrigger(run_date=local.replace(tzinfo=tz, fold=0))
    assert spec.cron is not None
    follow = spec.kind == "cron" and spec.cron.wildcard
    return CrontabTrigger(spec.cron, tz, follow_real_time=follow)


def preview(spec: ScheduleSpec, tz: ZoneInfo, start: datetime, count: int = 5) -> list[datetime]:
    """The next ``count`` run times after ``start`` (aware), in ``tz``."""
    trigger = build_trigger(spec, tz, start=start)
    times: list[datetime] = []
    previous: datetime | None = None
    now = start.astimezone(tz)
    while len(times) < count:
        moment = trigger.get_next_fire_time(previous, now)
        if moment is None:
            break
        if moment <= start:  # an interval trigger's first tick is its start
            previous, now = moment, _after(moment)
            continue
        times.append(moment.astimezone(tz))
        previous, now = moment, _after(moment)
    return times


def upcoming(
    expression: str,
    tz_name: str,
    now: datetime,
    count: int = 1,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
) -> list[datetime]:
    """A schedule's next ``count`` runs from ``now``, inside its start/end dates."""
    after = max(now, start_at) if start_at else now
    runs = preview(parse_schedule(expression), zone(tz_name), after, count)
    return [t for t in runs if end_at is None or t <= end_at]
