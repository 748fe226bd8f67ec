"""How a channel wants its calendar: gaps, a daily maximum, preferred hours, blackout days and
posting slots — checked field by field, per channel over a workspace default.

Slots are written the way people say them: ``mon-fri 17:00; sat 10:00`` (``daily 09:00`` and
``* 09:00`` mean every day). Weekdays here are Python's: 0 = Monday … 6 = Sunday.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.dates import OutOfRange, parse_day
from app.domain.errors import DraftError
from app.domain.wallclock import exists, gap_end

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_GAP_HOURS = 24 * 30
MAX_PER_DAY = 96
MAX_TOPIC_DAYS = 365
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _weekday(token: str, where: str) -> int:
    name = token.strip().lower()[:3]
    if name in WEEKDAYS:
        return WEEKDAYS.index(name)
    raise DraftError(where, f"{token.strip()!r} is not a weekday (mon, tue, … sun)")


def _items(value: Any) -> list[str]:
    """A list as given, or text split at commas and spaces — without the empty pieces."""
    parts = value if isinstance(value, list) else re.split(r"[,\s]+", str(value).strip())
    return [text for text in (str(part).strip() for part in parts) if text]


def parse_weekdays(text: str | list[Any], where: str = "blackout days") -> frozenset[int]:
    """``mon-fri``, ``sat,sun``, ``daily``/``*`` (every day) → weekday numbers (0 = Monday)."""
    days: set[int] = set()
    for item in _items(text):
        token = item.lower()
        if token in ("*", "daily", "every", "all"):
            days.update(range(7))
        elif "-" in token:
            first, _, last = token.partition("-")
            low, high = _weekday(first, where), _weekday(last, where)
            span = range(low, high + 1) if low <= high else [*range(low, 7), *range(0, high + 1)]
            days.update(span)
        else:
            days.add(_weekday(token, where))
    return frozenset(days)


def _clock(text: str, where: str) -> time:
    match = _CLOCK.match(text.strip())
    if not match:
        raise DraftError(where, f"{text.strip()!r} is not a time — write it as HH:MM, e.g. 17:00")
    return time(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True, slots=True)
class PostingSlot:
    """A time the channel likes to publish at, on some weekdays."""

    days: frozenset[int]
    at: time

    def label(self) -> str:
        return f"{weekday_label(self.days)} {self.at:%H:%M}"


def weekday_label(days: frozenset[int]) -> str:
    """{0,1,2,3,4} → "Mon–Fri"; {5,6} → "Sat, Sun"; all → "Daily"."""
    if len(days) == 7:
        return "Daily"
    ordered = sorted(days)
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names = []
    for run in runs:
        first, last = WEEKDAYS[run[0]].capitalize(), WEEKDAYS[run[-1]].capitalize()
        names.append(first if len(run) == 1 else f"{first}–{last}")
    return ", ".join(names)


def parse_slots(text: str | list[Any]) -> tuple[PostingSlot, ...]:
    """``mon-fri 17:00; sat 10:00`` → slots (``mon,wed 09:00 18:00`` gives two times)."""
    parts = text if isinstance(text, list) else str(text).split(";")
    slots: list[PostingSlot] = []
    for raw in parts:
        words = str(raw).split()
        if not words:
            continue
        if len(words) < 2:
            raise DraftError(
                "slots", f"{str(raw).strip()!r} needs days and a time — e.g. mon-fri 17:00"
            )
        days = parse_weekdays(words[0], "slots")
        for clock in words[1:]:
            slots.append(PostingSlot(days, _clock(clock, "slots")))
    return tuple(sorted(set(slots), key=lambda s: (s.at, min(s.days))))


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The real instant of a wall-clock time on a day: a time inside a spring-forward gap
    becomes the gap's end (02:30 → 03:00), a repeated time its first occurrence — the policy
    schedules follow."""
    naive = datetime.combine(day, at)
    if not exists(naive, tz):
        return gap_end(naive, tz)
    return naive.replace(tzinfo=tz, fold=0)


def _number(value: Any, where: str, low: float, high: float, whole: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DraftError(where, f"must be a number, not {value!r}") from None
    if not math.isfinite(number):  # nan, inf: no hour, no gap
        raise DraftError(where, f"must be from {low:g} to {high:g}, not {value!r}")
    if whole and number != int(number):
        raise DraftError(where, f"must be a whole number, not {value!r}")
    if not low <= number <= high:
        raise DraftError(where, f"must be from {low:g} to {high:g}, not {value!r}")
    return number


def _hours(value: Any) -> tuple[int, ...]:
    hours = set()
    for text in _items(value):
        if ":" in text:
            text = text.split(":", 1)[0]
        hours.add(int(_number(text, "preferred hours", 0, 23, whole=True)))
    return tuple(sorted(hours))


def _dates(value: Any) -> frozenset[date]:
    days = set()
    for text in _items(value):
        try:
            days.add(parse_day(text))
        except OutOfRange as exc:
            raise DraftError("blackout dates", f"{text}: {exc}") from None
        except ValueError:
            raise DraftError(
                "blackout dates", f"{text!r} is not a date — write it like 2027-01-01"
            ) from None
    return frozenset(days)


@dataclass(frozen=True, slots=True)
class CalendarConfig:
    """A channel's planning rules. Zero means "no rule" for the gap and the daily maximum."""

    timezone: str = "UTC"
    min_gap_hours: float = 0.0
    max_per_day: int = 0
    preferred_hours: tuple[int, ...] = ()
    blackout_days: frozenset[int] = frozenset()
    blackout_dates: frozenset[date] = frozenset()
    slots: tuple[PostingSlot, ...] = ()
    topic_days: int = 14  # the same topic twice within this many days is a conflict
    topic_similarity: int = 85  # percent, ignoring case, punctuation and word order
    tz: ZoneInfo = field(default=ZoneInfo("UTC"), compare=False, repr=False)

    FIELDS = (
        "timezone",
        "min_gap_hours",
        "max_per_day",
        "preferred_hours",
        "blackout_days",
        "blackout_dates",
        "slots",
        "topic_days",
        "topic_similarity",
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any], default_zone: str = "UTC") -> CalendarConfig:
        unknown = set(data) - set(cls.FIELDS)
        if unknown:
            raise DraftError(sorted(unknown)[0], "is not a calendar setting")
        name = str(data.get("timezone") or default_zone)
        try:
            tz = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise DraftError(
                "timezone", f"{name!r} is not a time zone (like Europe/Berlin)"
            ) from None
        return cls(
            timezone=name,
            min_gap_hours=_number(
                data.get("min_gap_hours") or 0, "min gap hours", 0, MAX_GAP_HOURS
            ),
            max_per_day=int(
                _number(data.get("max_per_day") or 0, "max per day", 0, MAX_PER_DAY, whole=True)
            ),
            preferred_hours=_hours(data.get("preferred_hours") or []),
            blackout_days=parse_weekdays(data.get("blackout_days") or []),
            blackout_dates=_dates(data.get("blackout_dates") or []),
            slots=parse_slots(data.get("slots") or []),
            topic_days=int(
                _number(data.get("topic_days", 14), "topic days", 0, MAX_TOPIC_DAYS, whole=True)
            ),
            topic_similarity=int(
                _number(data.get("topic_similarity", 85), "topic similarity", 50, 100, whole=True)
            ),
            tz=tz,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, and what `from_dict` reads back."""
        return {
            "timezone": self.timezone,
            "min_gap_hours": self.min_gap_hours,
            "max_per_day": self.max_per_day,
            "preferred_hours": list(self.preferred_hours),
            "blackout_days": [WEEKDAYS[d] for d in sorted(self.blackout_days)],
            "blackout_dates": [d.isoformat() for d in sorted(self.blackout_dates)],
            "slots": [slot.label().lower().replace("–", "-") for slot in self.slots],
            "topic_days": self.topic_days,
            "topic_similarity": self.topic_similarity,
        }

    def merged(self, overrides: dict[str, Any]) -> CalendarConfig:
        """This configuration with some settings replaced (a channel's over the default)."""
        return CalendarConfig.from_dict({**self.to_dict(), **overrides}, self.timezone)

    @property
    def min_gap(self) -> timedelta:
        return timedelta(hours=self.min_gap_hours)

    def is_blackout(self, day: date) -> bool:
        return day.weekday() in self.blackout_days or day in self.blackout_dates

    def slot_times(self, day: date) -> list[time]:
        """The posting slots' times on this day (none on a blackout day)."""
        if self.is_blackout(day):
            return []
        return sorted({slot.at for slot in self.slots if day.weekday() in slot.days})

    def allowed(self, day: date) -> int | None:
        """How many videos this day may take: 0 on a blackout day, else the daily maximum,
        else the number of posting slots; None when nothing limits it."""
        if self.is_blackout(day):
            return 0
        if self.max_per_day:
            return self.max_per_day
        slots = self.slot_times(day)
        return len(slots) if slots else None

    def describe(self) -> list[str]:
        """The rules in words, one per line."""
        lines = [f"Time zone: {self.timezone}"]
        lines.append(
            f"At least {self.min_gap_hours:g} h between videos"
            if self.min_gap_hours
            else "No minimum gap between videos"
        )
        lines.append(
            f"At most {self.max_per_day} a day" if self.max_per_day else "No daily maximum"
        )
        if self.preferred_hours:
            lines.append(
                "Preferred hours: " + ", ".join(f"{h:02d}:00" for h in self.preferred_hours)
            )
        if self.slots:
            lines.append("Posting slots: " + "; ".join(s.label() for s in self.slots))
        if self.blackout_days:
            lines.append("Never on: " + weekday_label(self.blackout_days))
        if self.blackout_dates:
            lines.append("Not on: " + ", ".join(d.isoformat() for d in sorted(self.blackout_dates)))
        lines.append(
            f"Same topic within {self.topic_days} days is a conflict "
            f"(≥ {self.topic_similarity} % alike)"
        )
        return lines
