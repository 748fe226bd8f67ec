"""The content calendar's read side, shared by the command line, the API and the window:
planning rules, views, conflicts, suggestions, gaps and free slots (moving things is
`app.ops.calendar`).

Reads the database once per question, expands recurring schedules on the fly, and leaves the
rules to `app.domain.calendar_plan`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.domain.calendar_config import CalendarConfig
from app.domain.calendar_plan import (
    RUN,
    Conflict,
    Kind,
    Occurrence,
    Period,
    conflicts,
    gaps,
    period_range,
    period_view,
    suggest_slots,
)
from app.domain.calendar_runs import RunPlan, day_counts, runs_between
from app.domain.dates import out_of_range
from app.domain.errors import DraftError, NotFound, UserError
from app.domain.publishing import quota_day
from app.domain.schedule import local_zone_name
from app.domain.zoned import zoned
from app.store import calendar as calendar_store
from app.store.models import Execution, QuotaUse

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.services import Services

LISTED_RUNS = 5000  # beyond this many runs in a range, runs are counted, not listed
FAR = timedelta(days=3660)  # how far from now a video or job start is looked for
NEIGHBOURHOOD = timedelta(days=32)  # what a move is checked against: the gap reaches ≤ 30 days
LISTED_PLANS = 200  # with more schedules than this, views count runs per day
RECENT_RENDERS = 50


@dataclass
class CalendarState:
    """Everything one calendar question needs, read in one go."""

    saved: dict[str, dict[str, Any]]
    occurrences: list[Occurrence]
    plans: list[RunPlan]
    seconds_per_video: float | None
    workers: int
    uploads_per_day: int
    uploads_used: dict[date, int]
    zone: str

    def config(self, channel: str = "") -> CalendarConfig:
        return calendar_store.config_for(self.saved, channel, self.zone)


MAX_DAYS = 3660
MAX_COUNT = 1000


def _in_range(day: date) -> None:
    why = out_of_range(day)
    if why is not None:
        raise UserError(f"{day.isoformat()}: {why}")


def _day_start(day: date, config: CalendarConfig) -> datetime:
    return datetime.combine(day, time(0), tzinfo=config.tz).astimezone(UTC)


class Calendar:
    """The calendar of one workspace, read at the services' clock (or a clock of its own)."""

    def __init__(self, services: Services, clock: Callable[[], datetime] | None = None) -> None:
        self.services = services
        self.clock = clock or services.clock
        self._scores: dict[tuple[Any, ...], dict[int, float]] = {}  # see `hour_scores`

    # Reading

    def state(self, start: datetime, end: datetime, with_runs: bool = True) -> CalendarState:
        """What is on the calendar in [start, end): videos and job starts; schedule runs are
        listed unless there are thousands (the month grid counts them instead)."""
        db = self.services.db
        with db.read() as session:
            saved = calendar_store.overrides(session)
            found = calendar_store.occurrences(session, start, end)
            plans = calendar_store.run_plans(session)
            durations = session.execute(
                select(Execution.started_at, Execution.finished_at)
                .where(Execution.outcome == "completed", Execution.finished_at.is_not(None))
                .order_by(Execution.id.desc())
                .limit(RECENT_RENDERS)
            ).all()
            used = {
                date.fromisoformat(row.day): row.uploads
                for row in session.scalars(select(QuotaUse))
                if row.day >= quota_day(self.clock()).isoformat()
            }
        seconds = [(b - a).total_seconds() for a, b in durations if a and b]
        settings = self.services.settings
        state = CalendarState(
            saved,
            found,
            plans,
            sum(seconds) / len(seconds) if seconds else None,
            settings.integer("engine.max_concurrent"),
            settings.integer("youtube.daily_uploads"),
            used,
            local_zone_name(),
        )
        if with_runs:
            state.occurrences += self.runs(plans, max(start, self.clock()), end)
        return state

    @staticmethod
    def runs(plans: list[RunPlan], start: datetime, end: datetime) -> list[Occurrence]:
        listed: list[Occurrence] = []
        for plan in plans:
            for when in runs_between(plan, start, end):
                listed.append(
                    Occurrence(
                        f"run:{plan.schedule_id}@{when.isoformat()}",
                        when,
                        plan.name,
                        Kind.RUN,
                        RUN,
                        plan.channel,
                        schedule_id=plan.schedule_id,
                        zone=plan.tz.key,
                    )
                )
                if len(listed) >= LISTED_RUNS:
                    return listed
        return listed

    def config(self, channel: str = "") -> CalendarConfig:
        with self.services.db.read() as session:
            saved = calendar_store.overrides(session)
        return calendar_store.config_for(saved, self.channel(channel), local_zone_name())

    def channel(self, channel: str) -> str:
        """A channel named by id, title or handle → its id ("" stays the default)."""
        if not channel:
            return ""
        return self.services.channels.resolve(channel).id

    def view(self, kind: str, anchor: date, channel: str = "") -> tuple[Period, list[Conflict]]:
        """A day, week or month with its conflicts (for one channel, or all). A month counts
        schedule runs without listing them; a day or a week lists them."""
        _in_range(anchor)
        key = self.channel(channel)
        config = self.config(key)
        first, length = period_range(kind, anchor)
        start = _day_start(first, config)
        end = _day_start(first + timedelta(days=length), config)
        state = self.state(start, end, with_runs=False)
        # Runs are listed (and checked) unless there are hundreds of schedules; then each
        # day counts them without listing them (a week of 10,000 daily runs is no picture).
        listed = len(state.plans) <= LISTED_PLANS
        if listed:
            state.occurrences += self.runs(state.plans, max(start, self.clock()), end)
        shown = [o for o in state.occurrences if not channel or o.channel == key]
        found = self._conflicts(state, shown)
        counts = None
        if not listed:
            plans = [p for p in state.plans if not channel or p.channel == key]
            numbers = day_counts(plans, first, length, config.tz, self.clock())
            counts = {first + timedelta(days=n): c for n, c in enumerate(numbers) if c}
        return period_view(kind, anchor, shown, config, found, counts), found

    def _conflicts(self, state: CalendarState, shown: list[Occurrence]) -> list[Conflict]:
        return conflicts(
            shown,
            state.config,
            now=self.clock(),
            seconds_per_video=state.seconds_per_video,
            workers=state.workers,
            uploads_per_day=state.uploads_per_day,
            uploads_used=state.uploads_used,
        )

    def conflicts(self, first: date | None = None, days: int = 30) -> list[Conflict]:
        start, end = self._span(first, days)
        state = self.state(start, end)
        return self._conflicts(state, state.occurrences)

    def _span(self, first: date | None, days: int) -> tuple[datetime, datetime]:
        """[start, end) of ``days`` days from ``first`` (from now when not given)."""
        if days < 1:
            raise UserError("--days must be at least 1")
        if days > MAX_DAYS:
            raise UserError(f"--days goes up to {MAX_DAYS} (ten years) — ask for fewer")
        if first is not None:
            _in_range(first)
        config = self.config()
        now = self.clock()
        day = first or now.astimezone(config.tz).date()
        start = _day_start(first, config) if first else now
        return start, _day_start(day + timedelta(days=days), config)

    def suggest(
        self,
        count: int,
        first: date | None = None,
        days: int = 14,
        channel: str = "",
        preferred_hours: list[int] | None = None,
    ) -> list[datetime]:
        if not 1 <= count <= MAX_COUNT:
            raise UserError(f"--count must be from 1 to {MAX_COUNT}")
        start, end = self._span(first, days)
        state = self.state(min(start, self.clock()), end)
        key = self.channel(channel) if channel else self._only_channel(state)
        config = self.config(key)
        return suggest_slots(
            state.occurrences, config, count, max(start, self.clock()), days, key,
            preferred_hours, self.hour_scores(key),
        )  # fmt: skip

    def _only_channel(self, state: CalendarState) -> str:
        """The channel suggestions without a named one are for: the one channel there is
        (signed in, or with videos on the calendar), or "" with none — they must keep clear
        of its videos, which are what a free slot is free of. With several, each has its own
        calendar: the user names one."""
        known = {record.id: record.label for record in self.services.channels.records()}
        on_calendar = {o.channel for o in state.occurrences if o.channel}
        channels = sorted(set(known) | on_calendar)
        if len(channels) <= 1:
            return channels[0] if channels else ""
        names = ", ".join(known.get(c, c) for c in channels)
        raise DraftError(
            "channel",
            f"{len(channels)} channels have their own calendars ({names}) — name the one the "
            "slots are for",
            where="query",
        )

    def hour_scores(self, channel: str = "") -> dict[int, float]:
        """How the channel's videos did by the local hour they were published (views a week
        in, against the channel's mean); empty until enough videos are a week old."""
        from app.domain.analytics import hour_scores
        from app.store import analytics as figures

        config = self.config(channel)
        # Scores change only with the readings (daily): kept until they do, instead of reading
        # every video's whole history on each suggestion.
        with self.services.db.read() as session:
            key = (channel, str(config.tz), *figures.readings_mark(session, channel or None))
            if key in self._scores:
                return self._scores[key]
            videos = figures.histories(session, self.clock(), channel or None)
        if len(self._scores) > 64:  # a day's marks for every channel is plenty
            self._scores.clear()
        scores = self._scores[key] = hour_scores(videos, config.tz)
        return scores

    def gaps(self, first: date | None = None, days: int = 30, channel: str = "") -> list[date]:
        key = self.channel(channel)
        config = self.config(key)
        start, end = self._span(first, days)
        state = self.state(start, end)
        day = first or self.clock().astimezone(config.tz).date()
        return gaps(state.occurrences, day, days, config, key if channel else None)

    def run(self, key: str) -> tuple[RunPlan, Occurrence]:
        """A schedule's run by its key ("run:ID@ISO"), checked to be one."""
        ident, _, stamp = key.removeprefix("run:").partition("@")
        try:
            schedule_id, at = int(ident), datetime.fromisoformat(stamp).astimezone(UTC)
        except ValueError:
            raise NotFound(f"{key!r} is not a run on the calendar") from None
        with self.services.db.read() as session:
            plans = {p.schedule_id: p for p in calendar_store.run_plans(session)}
        plan = plans.get(schedule_id)
        if plan is None:
            raise NotFound(f"schedule {schedule_id} is not active — `schedule list` shows them")
        if at not in runs_between(plan, at, at + timedelta(seconds=1)):
            raise NotFound(f"“{plan.name}” does not run at {zoned(at, plan.tz.key)}")
        occurrence = Occurrence(
            key, at, plan.name, Kind.RUN, RUN, plan.channel, schedule_id=schedule_id,
            zone=plan.tz.key,
        )  # fmt: skip
        return plan, occurrence

    def find(self, key: str) -> Occurrence:
        """A video, a job start or a run on the calendar, wherever in time it is."""
        if key.startswith("run:"):
            return self.run(key)[1]
        now = self.clock()
        state = self.state(now - FAR, now + FAR, with_runs=False)
        found = next((o for o in state.occurrences if o.key == key), None)
        if found is None:
            raise NotFound(f"{key.replace(':', ' ')} is not on the calendar")
        return found

    def suggestion_for(self, key: str, days: int = 60) -> datetime:
        """The first free slot for an occurrence, from its own time (or now) on."""
        now = self.clock()
        moving = self.find(key)
        start = max(now, moving.when)
        state = self.state(start - NEIGHBOURHOOD, start + timedelta(days=days) + NEIGHBOURHOOD)
        others = [o for o in state.occurrences if o.key != key]
        found = suggest_slots(others, state.config(moving.channel), 1, start, days, moving.channel)
        if not found:
            raise UserError(
                f"no free slot in the {days} days after “{moving.title}” keeps every rule — "
                "loosen the calendar rules"
            )
        return found[0]

    def slots_for(self, count: int, channel: str, days: int = 90) -> list[datetime]:
        """The channel's next ``count`` free slots, for a job that publishes into them."""
        found = self.suggest(count, None, days, channel)
        if len(found) < count:
            raise UserError(
                f"only {len(found)} free slots in the next {days} days for {count} videos — "
                "loosen the calendar rules (`calendar config`) or publish fewer"
            )
        return found
