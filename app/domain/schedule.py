"""Schedule expressions, crontab(5) fields, time zones and topic templates — pure and checked.

Grammar (what users type, e.g. in ``schedule preview``):

    0 9 * * mon-fri          a five-field crontab(5) expression (or @daily, @weekly, …)
    daily@09:30              every day at 09:30
    weekly@mon,wed@18:00     on those weekdays at 18:00
    monthly@1,15@08:00       on those days of the month at 08:00 (months without the day skip it)
    every@6h                 every 6 hours of elapsed time (also 30m, 2d)
    once@2026-12-01T09:00    one time, local to the schedule's time zone
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal

from app.domain.dates import OutOfRange, parse_moment
from app.domain.errors import UserError


class ScheduleError(UserError, ValueError):
    """An expression, time zone or template that cannot be used; says how to write it."""


MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, MONTHS),
    ("day of week", 0, 7, DAYS),
)
SPECIALS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@dataclass(frozen=True, slots=True)
class CronFields:
    """An expanded crontab(5) expression. Days of week are 0 = Sunday … 6 = Saturday.

    ``dom_star``/``dow_star``/``hour_star``/``minute_star`` record whether the field was
    written starting with ``*``: crontab(5) matches a day when *either* day field matches if
    both are restricted (neither starts with ``*``), and both must match otherwise; cron(8)
    runs jobs with ``*`` in the minute or hour field by real time across DST changes.
    """

    minutes: frozenset[int]
    hours: frozenset[int]
    doms: frozenset[int]
    months: frozenset[int]
    dows: frozenset[int]
    dom_star: bool
    dow_star: bool
    hour_star: bool
    minute_star: bool = False

    @property
    def wildcard(self) -> bool:
        """cron(8)'s "jobs specified with wildcards": ``*`` leads the minute or hour field."""
        return self.minute_star or self.hour_star

    def day_matches(self, day: datetime) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.doms
        dow = (day.isoweekday() % 7) in self.dows
        if self.dom_star or self.dow_star:
            return dom and dow
        return dom or dow


def _value(token: str, field: str, low: int, high: int, names: tuple[str, ...]) -> int:
    lowered = token.lower()
    if names and lowered in names:
        return names.index(lowered) + (1 if field == "month" else 0)
    if not token.isdigit():
        hint = f" or a name such as {names[1]}" if names else ""
        raise ScheduleError(f"{field}: {token!r} is not a number{hint}")
    number = int(token)
    if not low <= number <= high:
        raise ScheduleError(f"{field}: {number} is out of range — use {low} to {high}")
    return number


def parse_field(
    text: str, field: str, low: int, high: int, names: tuple[str, ...]
) -> frozenset[int]:
    """One crontab field: lists, ranges, steps, names, ``*``."""
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise ScheduleError(f"{field}: empty item in {text!r} — remove the extra comma")
        body, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(f"{field}: step {step_text!r} must be a whole number above 0")
            step = int(step_text)
        if body == "*":
            first, last = low, high
        elif "-" in body:
            a, _, b = body.partition("-")
            first, last = _value(a, field, low, high, names), _value(b, field, low, high, names)
            if last < first:
                raise ScheduleError(f"{field}: range {body!r} runs backwards — write it low-high")
        else:
            first = last = _value(body, field, low, high, names)
            if step_text:
                raise ScheduleError(
                    f"{field}: {part!r} is not crontab syntax — write {body}-{high}/{step}"
                )
        values.update(range(first, last + 1, step))
    return frozenset(values)


def parse_cron(expression: str) -> CronFields:
    """A crontab(5) expression (five fields or an @ shortcut) as sets, exactly as cron reads it."""
    text = " ".join(expression.split())
    if text.startswith("@"):
        if text.lower() == "@reboot":
            raise ScheduleError("@reboot has no time to schedule — use a time instead")
        if text.lower() not in SPECIALS:
            raise ScheduleError(f"{text} is not a cron shortcut — use one of {', '.join(SPECIALS)}")
        text = SPECIALS[text.lower()]
    parts = text.split(" ")
    if len(parts) != 5:
        raise ScheduleError(
            f"a cron expression has five fields (minute hour day-of-month month day-of-week), "
            f"not {len(parts)}: {expression!r}"
        )
    sets = [parse_field(p, *spec) for p, spec in zip(parts, _FIELDS, strict=True)]
    dows = frozenset(d % 7 for d in sets[4])  # 7 is Sunday too
    return CronFields(
        sets[0],
        sets[1],
        sets[2],
        sets[3],
        dows,
        dom_star=parts[2].startswith("*"),
        dow_star=parts[4].startswith("*"),
        hour_star=parts[1].startswith("*"),
        minute_star=parts[0].startswith("*"),
    )


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """A parsed expression: its kind and what the engine needs to build a trigger."""

    kind: str  # once | daily | weekly | monthly | interval | cron
    expression: str
    cron: CronFields | None = None
    every: timedelta | None = None
    at: datetime | None = None  # naive local time, for once


MAX_INTERVAL_DAYS = 3660  # ten years: longer intervals are a typo, and overflow time maths
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_EVERY = re.compile(r"^(\d+)\s*(m|min|h|d)$")


def _clock(text: str) -> tuple[int, int]:
    match = _TIME.match(text.strip())
    if not match:
        raise ScheduleError(f"{text!r} is not a time — write it as HH:MM, e.g. 09:30")
    return int(match.group(1)), int(match.group(2))


def parse_schedule(expression: str) -> ScheduleSpec:
    """Any expression of the grammar above; `ScheduleError` says how to write a wrong one."""
    text = expression.strip()
    if not text:
        raise ScheduleError("the schedule is empty — e.g. daily@09:00 or 0 9 * * mon-fri")
    kind, _, rest = (
        text.partition("@") if "@" in text and not text.startswith("@") else ("", "", text)
    )
    kind = kind.lower()
    if kind == "daily":
        hour, minute = _clock(rest)
        return ScheduleSpec("daily", text, parse_cron(f"{minute} {hour} * * *"))
    if kind == "weekly":
        days, _, clock = rest.rpartition("@")
        if not days:
            raise ScheduleError("weekly needs days and a time — e.g. weekly@mon,wed@18:00")
        hour, minute = _clock(clock)
        cron = parse_cron(f"{minute} {hour} * * {days.lower()}")
        return ScheduleSpec("weekly", text, cron)
    if kind == "monthly":
        days, _, clock = rest.rpartition("@")
        if not days:
            raise ScheduleError("monthly needs days and a time — e.g. monthly@1,15@08:00")
        hour, minute = _clock(clock)
        return ScheduleSpec("monthly", text, parse_cron(f"{minute} {hour} {days} * *"))
    if kind == "every":
        match = _EVERY.match(rest.strip().lower())
        if not match or int(match.group(1)) == 0:
            raise ScheduleError(
                f"{rest!r} is not an interval — write e.g. every@30m, every@6h or every@2d"
            )
        amount, unit = int(match.group(1)), match.group(2)
        seconds = {"m": 60, "min": 60, "h": 3600, "d": 86400}[unit] * amount
        if seconds > MAX_INTERVAL_DAYS * 86400:
            raise ScheduleError(
                f"{rest!r} is longer than {MAX_INTERVAL_DAYS} days — use once@ for a single run"
            )
        return ScheduleSpec("interval", text, every=timedelta(seconds=seconds))
    if kind == "once":
        try:
            at = parse_moment(rest)
        except OutOfRange as exc:
            raise ScheduleError(f"once@{rest.strip()}: {exc}") from None
        except ValueError:
            raise ScheduleError(
                f"{rest!r} is not a date and time — write e.g. once@2026-12-01T09:00"
            ) from None
        if at.tzinfo is not None:
            raise ScheduleError(
                "give once@ a local time without an offset; the schedule's time zone applies"
            )
        return ScheduleSpec("once", text, at=at)
    if kind and kind not in ("cron",):
        raise ScheduleError(
            f"unknown schedule kind {kind!r} — use daily@, weekly@, monthly@, every@, once@ or a "
            "cron expression"
        )
    return ScheduleSpec("cron", text, parse_cron(rest))


def local_zone_name() -> str:
    """This computer's IANA zone name, or UTC where it cannot be told."""
    try:
        return str(tzlocal.get_localzone_name() or "UTC")
    except Exception:  # tzlocal raises several kinds on odd systems; UTC is a safe answer
        return "UTC"


def zone(name: str) -> ZoneInfo:
    """An IANA time zone, or a `ScheduleError` naming the fix."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"unknown time zone {name!r} — use an IANA name such as Europe/Berlin or America/New_York"  # noqa: E501
        ) from None


# --- topic templates ------------------------------------------------------------------------

TOPIC_VARIABLES = (
    "date",
    "time",
    "datetime",
    "year",
    "month",
    "month_num",
    "day",
    "weekday",
    "week",
    "timestamp",
)


def check_template(template: str) -> list[str]:
    """The variables a topic template uses; unknown ones or broken braces are refused."""
    used: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ScheduleError(
            f"topic template {template!r}: {exc} — write braces as {{{{ and }}}}"
        ) from exc
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in TOPIC_VARIABLES:
            raise ScheduleError(
                f"topic template: unknown variable {{{name}}} — use "
                + ", ".join(f"{{{v}}}" for v in TOPIC_VARIABLES)
            )
        if spec or conversion:
            raise ScheduleError(f"topic template: write {{{name}}} without a format or conversion")
        used.append(name)
    return used


def render_topic(template: str, when: datetime) -> str:
    """The template filled in for a run at ``when`` (local time of the schedule)."""
    check_template(template)
    return template.format(
        date=when.strftime("%Y-%m-%d"),
        time=when.strftime("%H:%M"),
        datetime=when.strftime("%Y-%m-%d %H:%M"),
        year=f"{when.year}",
        month=when.strftime("%B"),
        month_num=f"{when.month:02}",
        day=f"{when.day:02}",
        weekday=when.strftime("%A"),
        week=f"{when.isocalendar().week:02}",
        timestamp=str(int(when.timestamp())),
    )
