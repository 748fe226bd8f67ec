"""The content calendar's planning: occurrences, conflicts a person understands, free slots,
gaps and day/week/month views. Pure: the store supplies occurrences, the window and the
command line show the answers.

Times are aware instants kept in UTC, so a gap is measured in real hours; days and slots are
wall-clock dates and times in the calendar's zone, so a 17:00 slot stays 17:00 across a
daylight-saving change.
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from app.domain.calendar_config import CalendarConfig, local_instant
from app.domain.publishing import quota_day


class Kind(StrEnum):
    ITEM = "item"  # a video with a planned publish time
    JOB = "job"  # a one-off job's start
    RUN = "run"  # a recurring schedule's run (expanded on the fly, never stored)


class Conflicts(StrEnum):
    TIME = "time"
    TOPIC = "topic"
    CAPACITY = "capacity"
    QUOTA = "quota"


# States an occurrence is shown in (counted per day, coloured in the window).
PLANNED, RENDERING, READY, UPLOADED, PUBLISHED, FAILED, RUN = (
    "planned",
    "rendering",
    "ready",
    "uploaded",
    "published",
    "failed",
    "run",
)
STATES = (PLANNED, RENDERING, READY, UPLOADED, PUBLISHED, FAILED, RUN)
FALLBACK_HOURS = tuple(range(8, 22))  # when a channel has neither slots nor preferred hours
SAME_TIME = 60.0  # seconds: two videos closer than this are at the same time


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One thing on the calendar at one instant."""

    key: str  # "item:12", "job:3", "run:5@2027-03-29T15:00:00+00:00"
    when: datetime  # aware; kept in UTC
    title: str
    kind: Kind
    state: str = PLANNED
    channel: str = ""  # the YouTube channel id; "" for render-only work
    job_id: int | None = None
    item_id: int | None = None
    schedule_id: int | None = None
    needs_render: bool = False
    needs_upload: bool = False
    zone: str = ""  # the zone it was planned in (a schedule's), when it has one

    def __post_init__(self) -> None:
        if self.when.tzinfo is None:
            raise ValueError("an occurrence needs an aware time")
        if self.when.tzinfo is not UTC:
            object.__setattr__(self, "when", self.when.astimezone(UTC))

    @property
    def movable(self) -> bool:
        """Whether dragging it elsewhere means something Cadence can do."""
        if self.kind is Kind.ITEM:
            return self.state not in (PUBLISHED, FAILED)
        return True  # a job's start, or one run of a schedule

    def moved(self, when: datetime) -> Occurrence:
        return Occurrence(
            self.key,
            when,
            self.title,
            self.kind,
            self.state,
            self.channel,
            self.job_id,
            self.item_id,
            self.schedule_id,
            self.needs_render,
            self.needs_upload,
            self.zone,
        )

    def to_dict(self, tz: Any = None) -> dict[str, Any]:
        return {
            "key": self.key,
            "when": self.when.astimezone(tz).isoformat() if tz else self.when.isoformat(),
            "title": self.title,
            "kind": self.kind.value,
            "state": self.state,
            "channel": self.channel,
            "job_id": self.job_id,
            "item_id": self.item_id,
            "schedule_id": self.schedule_id,
        }


@dataclass(frozen=True, slots=True)
class Conflict:
    kind: Conflicts
    when: datetime
    reason: str
    keys: tuple[str, ...]

    def to_dict(self, tz: Any = None) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "when": self.when.astimezone(tz).isoformat() if tz else self.when.isoformat(),
            "reason": self.reason,
            "keys": list(self.keys),
        }


ConfigFor = Callable[[str], CalendarConfig]


def _at(moment: datetime, config: CalendarConfig) -> str:
    return f"{moment.astimezone(config.tz):%a %d %b %H:%M}"


def _local(moment: datetime) -> str:
    return f"{moment.astimezone():%a %d %b %H:%M}"


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h".replace(".0 h", " h")


def _by_channel(occurrences: Iterable[Occurrence]) -> dict[str, list[Occurrence]]:
    groups: dict[str, list[Occurrence]] = defaultdict(list)
    for occurrence in occurrences:
        groups[occurrence.channel].append(occurrence)
    for group in groups.values():
        group.sort(key=lambda o: o.when)
    return groups


def time_conflicts(occurrences: Iterable[Occurrence], config_for: ConfigFor) -> list[Conflict]:
    """Closer than the channel's minimum gap, over its daily maximum, on a blackout day.
    Render-only work (no channel) publishes nothing, so these rules do not apply to it."""
    found: list[Conflict] = []
    for channel, group in _by_channel(o for o in occurrences if o.channel).items():
        config = config_for(channel)
        gap = config.min_gap
        if gap:
            for before, after in itertools.pairwise(group):
                apart = after.when - before.when
                if apart < gap:
                    together = (
                        f"“{after.title}” and “{before.title}” are both at "
                        f"{_at(after.when, config)}"
                        if apart.total_seconds() < SAME_TIME
                        else f"“{after.title}” at {_at(after.when, config)} is {_hours(apart)} "
                        f"after “{before.title}”"
                    )
                    found.append(
                        Conflict(
                            Conflicts.TIME,
                            after.when,
                            f"{together} — keep at least {_hours(gap)} between videos",
                            (before.key, after.key),
                        )
                    )
        per_day: dict[date, list[Occurrence]] = defaultdict(list)
        for occurrence in group:
            per_day[occurrence.when.astimezone(config.tz).date()].append(occurrence)
        for day, planned in sorted(per_day.items()):
            if config.is_blackout(day):
                for occurrence in planned:
                    found.append(
                        Conflict(
                            Conflicts.TIME,
                            occurrence.when,
                            f"“{occurrence.title}” is planned on {day:%a %d %b}, a day with "
                            "nothing published — move it to another day",
                            (occurrence.key,),
                        )
                    )
            elif config.max_per_day and len(planned) > config.max_per_day:
                found.append(
                    Conflict(
                        Conflicts.TIME,
                        planned[config.max_per_day].when,
                        f"{len(planned)} videos on {day:%a %d %b}, more than the "
                        f"{config.max_per_day} a day allowed",
                        tuple(o.key for o in planned),
                    )
                )
    return found


def topic_conflicts(occurrences: Iterable[Occurrence], config_for: ConfigFor) -> list[Conflict]:
    """The same or nearly the same title on one channel within the channel's topic window
    (case, punctuation and word order ignored)."""
    from rapidfuzz import fuzz  # only when conflicts are looked for (not to open the window)
    from rapidfuzz.utils import default_process

    found: list[Conflict] = []
    videos = [o for o in occurrences if o.kind is Kind.ITEM]
    for channel, group in _by_channel(videos).items():
        config = config_for(channel)
        window = timedelta(days=config.topic_days)
        if not window:
            continue
        clean = [default_process(o.title) for o in group]
        for i, first in enumerate(group):
            for j in range(i + 1, len(group)):
                second = group[j]
                if second.when - first.when > window:
                    break
                score = fuzz.token_sort_ratio(
                    clean[i], clean[j], score_cutoff=config.topic_similarity
                )
                if score:
                    days = (second.when - first.when).days
                    apart = "the same day" if days == 0 else f"{days} days apart"
                    found.append(
                        Conflict(
                            Conflicts.TOPIC,
                            second.when,
                            f"“{second.title}” repeats “{first.title}” ({apart}, "
                            f"{score:.0f} % alike) — change the topic or move one of them",
                            (first.key, second.key),
                        )
                    )
    return found


def capacity_conflicts(
    occurrences: Iterable[Occurrence],
    now: datetime,
    seconds_per_video: float | None,
    workers: int,
) -> list[Conflict]:
    """Videos that cannot be rendered before their publish time at this machine's measured
    pace, even if Cadence renders them in publish-time order."""
    if not seconds_per_video or seconds_per_video <= 0:
        return []
    waiting = sorted(
        (o for o in occurrences if o.needs_render and o.kind is Kind.ITEM and o.when > now),
        key=lambda o: o.when,
    )
    workers = max(1, workers)
    found: list[Conflict] = []
    for position, occurrence in enumerate(waiting, start=1):
        rounds = -(-position // workers)  # videos render `workers` at a time
        ready = now + timedelta(seconds=rounds * seconds_per_video)
        if ready > occurrence.when:
            ahead = position - 1
            found.append(
                Conflict(
                    Conflicts.CAPACITY,
                    occurrence.when,
                    f"“{occurrence.title}” publishes at {_local(occurrence.when)} but would be "
                    f"ready about {_local(ready)}: "
                    f"{ahead} {'video renders' if ahead == 1 else 'videos render'} before it "
                    f"at about {seconds_per_video / 60:.0f} min each here ({workers} at a "
                    "time) — move it later",
                    (occurrence.key,),
                )
            )
    return found


def quota_conflicts(
    occurrences: Iterable[Occurrence],
    uploads_per_day: int,
    used: dict[date, int] | None = None,
) -> list[Conflict]:
    """More uploads on one Pacific-time day than YouTube's daily upload quota. A video is
    counted on the day it publishes — the latest day it can be uploaded."""
    counts: dict[date, list[Occurrence]] = defaultdict(list)
    for occurrence in occurrences:
        if occurrence.needs_upload:
            counts[quota_day(occurrence.when)].append(occurrence)
    found = []
    for day, planned in sorted(counts.items()):
        total = len(planned) + (used or {}).get(day, 0)
        if total > uploads_per_day:
            found.append(
                Conflict(
                    Conflicts.QUOTA,
                    planned[0].when,
                    f"{total} uploads on {day:%a %d %b} (Pacific time), YouTube allows "
                    f"{uploads_per_day} a day — {total - uploads_per_day} would wait for the "
                    "next day; spread them out",
                    tuple(o.key for o in planned),
                )
            )
    return found


def conflicts(
    occurrences: Sequence[Occurrence],
    config_for: ConfigFor,
    *,
    now: datetime,
    seconds_per_video: float | None = None,
    workers: int = 1,
    uploads_per_day: int = 100,
    uploads_used: dict[date, int] | None = None,
) -> list[Conflict]:
    """Every conflict, in time order."""
    found = (
        time_conflicts(occurrences, config_for)
        + topic_conflicts(occurrences, config_for)
        + capacity_conflicts(occurrences, now, seconds_per_video, workers)
        + quota_conflicts(occurrences, uploads_per_day, uploads_used)
    )
    return sorted(found, key=lambda c: (c.when, c.kind.value))


class _Plan:
    """A channel's taken instants and per-day counts, for fast "does this fit?" checks."""

    def __init__(self, occurrences: Iterable[Occurrence], config: CalendarConfig) -> None:
        self.config = config
        self.stamps = sorted(o.when.timestamp() for o in occurrences)
        self.per_day: Counter[date] = Counter(
            datetime.fromtimestamp(s, config.tz).date() for s in self.stamps
        )

    def refusal(self, moment: datetime, now: datetime) -> str | None:
        """Why ``moment`` breaks a rule, or None when it fits."""
        config = self.config
        if moment <= now:
            return "that time has passed"
        day = moment.astimezone(config.tz).date()
        if config.is_blackout(day):
            return f"{day:%a %d %b} is a day with nothing published"
        if config.max_per_day and self.per_day[day] >= config.max_per_day:
            return f"{day:%a %d %b} already has {config.max_per_day} videos, the daily maximum"
        gap = max(config.min_gap_hours * 3600, SAME_TIME)  # never two at one time
        stamp = moment.timestamp()
        at = bisect.bisect_left(self.stamps, stamp)
        for near in self.stamps[max(0, at - 1) : at + 1]:
            if abs(near - stamp) < gap:
                if not config.min_gap_hours:
                    return "another video is planned at that time"
                apart = timedelta(seconds=abs(near - stamp))
                return (
                    f"another video is {_hours(apart)} away — keep at least "
                    f"{config.min_gap_hours:g} h between videos"
                )
        return None

    def take(self, moment: datetime) -> None:
        bisect.insort(self.stamps, moment.timestamp())
        self.per_day[moment.astimezone(self.config.tz).date()] += 1


def check_move(
    occurrences: Iterable[Occurrence],
    key: str,
    when: datetime,
    config: CalendarConfig,
    now: datetime,
) -> str | None:
    """Why the occurrence ``key`` may not move to ``when`` (None: it may)."""
    rest = list(occurrences)
    moving = next((o for o in rest if o.key == key), None)
    if moving is None:
        return "it is no longer on the calendar"
    if not moving.movable:
        return f"a {moving.state} video cannot move"
    if not moving.channel:  # render-only work publishes nothing: only time itself limits it
        return "that time has passed" if when <= now else None
    others = [o for o in rest if o.channel == moving.channel and o.key != key]
    return _Plan(others, config).refusal(when, now)


def _candidates(
    config: CalendarConfig,
    day: date,
    preferred: Sequence[int],
    performance: Mapping[int, float] | None = None,
) -> list[tuple[int, datetime]]:
    """(rank, instant) of the times worth offering on a day: posting slots first, then
    preferred hours; ordinary daytime hours only for a channel that has neither. Within a
    rank, the hours whose videos did best (``performance``: hour → views against the
    channel's mean) come first."""
    if config.is_blackout(day):
        return []
    seen: set[time] = set()
    ranked: list[tuple[int, datetime]] = []
    fallback = [] if config.slots or preferred else [time(h) for h in FALLBACK_HOURS]
    for rank, times in (
        (0, config.slot_times(day)),
        (1, [time(h) for h in preferred]),
        (2, fallback),
    ):
        for at in times:
            if at not in seen:
                seen.add(at)
                ranked.append((rank, local_instant(day, at, config.tz)))
    scores = performance or {}
    return sorted(
        ranked,
        key=lambda pair: (
            pair[0],
            -scores.get(pair[1].astimezone(config.tz).hour, 1.0),
            pair[1].timestamp(),
        ),
    )


def suggest_slots(
    occurrences: Iterable[Occurrence],
    config: CalendarConfig,
    count: int,
    start: datetime,
    days: int,
    channel: str = "",
    preferred_hours: Sequence[int] | None = None,
    performance: Mapping[int, float] | None = None,
) -> list[datetime]:
    """Up to ``count`` free instants from ``start`` over ``days`` days that keep every rule
    and stay clear of every occurrence on the channel: posting slots first, then preferred
    hours, spread one a day before a day gets a second. Sorted by time.

    ``performance`` (hour → the channel's views at that hour against its mean, from its own
    results) orders each day's times best first; with no posting slots or preferred hours
    set, the hours that did better than average are the preferred ones."""
    if count <= 0 or days <= 0:
        return []
    plan = _Plan((o for o in occurrences if o.channel == channel), config)
    preferred = config.preferred_hours if preferred_hours is None else tuple(preferred_hours)
    if not preferred and performance:
        preferred = tuple(h for h, s in sorted(performance.items()) if s > 1.0)
    first = start.astimezone(config.tz).date()
    offers = [
        _candidates(config, first + timedelta(days=n), preferred, performance) for n in range(days)
    ]
    chosen: list[datetime] = []
    while len(chosen) < count:
        progress = False
        for options in offers:
            for index, (_rank, moment) in enumerate(options):
                if plan.refusal(moment, start) is None:
                    plan.take(moment)
                    chosen.append(moment)
                    del options[index]
                    progress = True
                    break
            if len(chosen) >= count:
                break
        if not progress:
            break
    return sorted(chosen, key=lambda moment: moment.timestamp())  # real time, not wall-clock


def gaps(
    occurrences: Iterable[Occurrence],
    first: date,
    days: int,
    config: CalendarConfig,
    channel: str | None = None,
) -> list[date]:
    """Days with nothing to publish (on ``channel``, or on any channel): render-only work
    publishes nothing, and blackout days are not gaps — nothing is meant to be there."""
    busy = {
        o.when.astimezone(config.tz).date()
        for o in occurrences
        if (o.channel if channel is None else o.channel == channel)
    }
    span = (first + timedelta(days=n) for n in range(days))
    return [day for day in span if day not in busy and not config.is_blackout(day)]


@dataclass
class DayEntry:
    """One day of a view: what is on it, by state, against what the day allows."""

    day: date
    occurrences: list[Occurrence] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    slots: list[datetime] = field(default_factory=list)
    allowed: int | None = None
    conflicts: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def videos(self) -> int:
        """What publishes this day: everything but recurring runs."""
        return self.total - self.counts.get(RUN, 0)

    @property
    def utilisation(self) -> float | None:
        """Videos planned ÷ allowed (None when nothing limits the day; 0 allowed and
        something planned is over the top: infinity)."""
        if self.allowed is None:
            return None
        if self.allowed == 0:
            return float("inf") if self.videos else 0.0
        return self.videos / self.allowed


@dataclass
class Period:
    kind: str  # day | week | month
    first: date
    days: list[DayEntry]

    @property
    def totals(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for entry in self.days:
            total.update(entry.counts)
        return total

    @property
    def utilisation(self) -> float | None:
        limited = [e for e in self.days if e.allowed is not None]
        allowed = sum(e.allowed or 0 for e in limited)
        if not limited or not allowed:
            return None
        return sum(e.videos for e in limited) / allowed

    def to_dict(self, tz: Any = None) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "first": self.first.isoformat(),
            "totals": dict(self.totals),
            "utilisation": self.utilisation,
            "days": [
                {
                    "day": e.day.isoformat(),
                    "counts": dict(e.counts),
                    "total": e.total,
                    "allowed": e.allowed,
                    "utilisation": None if e.utilisation in (None, float("inf")) else e.utilisation,
                    "conflicts": e.conflicts,
                    "slots": [s.astimezone(tz).isoformat() for s in e.slots],
                    "occurrences": [o.to_dict(tz) for o in e.occurrences],
                }
                for e in self.days
            ],
        }


def period_range(kind: str, anchor: date) -> tuple[date, int]:
    """The first day and length of the day, week (Monday first) or month around ``anchor``."""
    if kind == "day":
        return anchor, 1
    if kind == "week":
        return anchor - timedelta(days=anchor.weekday()), 7
    if kind == "month":
        first = anchor.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first, (following - first).days
    raise ValueError(f"unknown period {kind!r}")


def period_view(
    kind: str,
    anchor: date,
    occurrences: Iterable[Occurrence],
    config: CalendarConfig,
    found: Iterable[Conflict] = (),
    run_counts: dict[date, int] | None = None,
) -> Period:
    """A day, week or month: each day's occurrences, counts by state, posting slots, what
    the day allows and how many conflicts touch it. ``run_counts`` adds recurring runs
    counted without being listed (the month view of thousands of schedules)."""
    first, length = period_range(kind, anchor)
    entries = {
        first + timedelta(days=n): DayEntry(first + timedelta(days=n)) for n in range(length)
    }
    for entry in entries.values():
        entry.allowed = config.allowed(entry.day)
        entry.slots = [
            local_instant(entry.day, at, config.tz) for at in config.slot_times(entry.day)
        ]
    for occurrence in occurrences:
        day = occurrence.when.astimezone(config.tz).date()
        found_entry = entries.get(day)
        if found_entry is not None:
            found_entry.occurrences.append(occurrence)
            found_entry.counts[occurrence.state] += 1
    for day, runs in (run_counts or {}).items():
        if day in entries and runs:
            entries[day].counts[RUN] += runs
    for conflict in found:
        day = conflict.when.astimezone(config.tz).date()
        if day in entries:
            entries[day].conflicts += 1
    for entry in entries.values():
        entry.occurrences.sort(key=lambda o: o.when)
    return Period(kind, first, list(entries.values()))
