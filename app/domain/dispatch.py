"""How a job's items are picked: mode, concurrency, priority queue, time limits and rules.

Stored as the job's ``scheduling`` JSON. `SchedulingConfig.from_dict` checks every field and
raises `DraftError` naming the one that is wrong (``rules[2].settings.time_window``), so a
malformed configuration is refused when the job is created, never ignored while it runs.

Modes
  manual         exactly the configured parameters: sheet order, fixed concurrency.
  smart          concurrency follows measured load (never above the maximum); cheaper items
                 (shorter, smaller) first so results arrive early.
  time_based     starts at ``start_at`` (or immediately); nothing new starts after ``end_at``
                 — items still waiting then are skipped with that reason.
  content_based  only items carrying one of ``tags`` and at or above ``priority_threshold``;
                 ``order`` simple_first or complex_first.

Rules (``rules``: a list of `SchedulingRule`) add time windows, days of the week, a concurrency
cap, a minimum interval between starts, tag and priority filters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.dates import OutOfRange, out_of_range, parse_moment
from app.domain.errors import DraftError
from app.domain.idea import Priority
from app.domain.schedule import local_zone_name

E = TypeVar("E", bound=StrEnum)
MAX_CONCURRENT_LIMIT = 16
MAX_RULES = 100
SKIPPED = "skipped:"  # how the reason of an item that was never started begins
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Mode(StrEnum):
    SMART = "smart"
    TIME_BASED = "time_based"
    CONTENT_BASED = "content_based"
    MANUAL = "manual"


class Order(StrEnum):
    SHEET = "sheet"
    SIMPLE_FIRST = "simple_first"
    COMPLEX_FIRST = "complex_first"


class RuleType(StrEnum):
    TIME_BASED = "time_based"
    CONTENT_BASED = "content_based"
    PRIORITY_BASED = "priority_based"


class WindowAction(StrEnum):
    DELAY = "delay"  # items due inside the window wait until it ends
    ONLY = "only"  # items start only inside the window


_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Local wall-clock times; a window may cross midnight (22:00-06:00)."""

    start: time
    end: time
    action: WindowAction = WindowAction.ONLY

    @classmethod
    def parse(cls, text: str, action: WindowAction, where: str) -> TimeWindow:
        parts = str(text).split("-")
        matches = [_HHMM.match(p.strip()) for p in parts] if len(parts) == 2 else []
        if len(matches) != 2 or not all(matches):
            raise DraftError(where, f'"{text}" is not a window like "09:00-17:30" (HH:MM-HH:MM)')
        start, end = (time(int(m.group(1)), int(m.group(2))) for m in matches if m)
        if start == end:
            raise DraftError(where, f'"{text}" starts and ends at the same time')
        return cls(start, end, action)

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class SchedulingRule:
    id: str
    name: str
    type: RuleType
    enabled: bool = True
    time_window: TimeWindow | None = None
    days_of_week: frozenset[int] | None = None  # 0 = Monday
    max_concurrent: int | None = None
    min_interval_ms: int | None = None
    content_tags: frozenset[str] | None = None
    priority_threshold: Priority | None = None

    @classmethod
    def from_dict(cls, data: Any, where: str = "rule") -> SchedulingRule:
        if not isinstance(data, Mapping):
            raise DraftError(where, "must be a mapping with id, name, type and settings")
        unknown = set(data) - {"id", "name", "type", "enabled", "settings"}
        if unknown:
            raise DraftError(f"{where}.{sorted(unknown)[0]}", "is not a rule field")
        rule_id = str(data.get("id") or "").strip()
        if not rule_id:
            raise DraftError(f"{where}.id", "is missing — give the rule an id")
        name = str(data.get("name") or rule_id).strip()
        kind = _choice(RuleType, data.get("type"), f"{where}.type")
        enabled = data.get("enabled", True)
        if not isinstance(enabled, bool):
            raise DraftError(f"{where}.enabled", "must be true or false")
        settings = data.get("settings", {})
        if not isinstance(settings, Mapping):
            raise DraftError(f"{where}.settings", "must be a mapping")
        rule = cls(rule_id, name, kind, enabled, **_rule_settings(settings, f"{where}.settings"))
        rule._check_type(where)
        return rule

    def _check_type(self, where: str) -> None:
        needs = {
            RuleType.TIME_BASED: (
                self.time_window or self.days_of_week,
                "time_window or days_of_week",
            ),
            RuleType.CONTENT_BASED: (self.content_tags, "content_tags"),
            RuleType.PRIORITY_BASED: (self.priority_threshold, "priority_threshold"),
        }
        present, names = needs[self.type]
        if not present:
            raise DraftError(f"{where}.settings", f"a {self.type} rule needs {names}")

    def to_dict(self) -> dict[str, Any]:
        settings: dict[str, Any] = {}
        if self.time_window:
            settings["time_window"] = str(self.time_window)
            settings["action"] = self.time_window.action.value
        if self.days_of_week is not None:
            settings["days_of_week"] = [DAY_NAMES[d] for d in sorted(self.days_of_week)]
        if self.max_concurrent is not None:
            settings["max_concurrent"] = self.max_concurrent
        if self.min_interval_ms is not None:
            settings["min_interval_ms"] = self.min_interval_ms
        if self.content_tags is not None:
            settings["content_tags"] = sorted(self.content_tags)
        if self.priority_threshold is not None:
            settings["priority_threshold"] = self.priority_threshold.value
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type.value,
            "enabled": self.enabled,
            "settings": settings,
        }


def _choice(kind: type[E], value: Any, where: str, default: E | None = None) -> E:
    """``value`` as a member of ``kind`` (empty: ``default``), or a `DraftError` listing them."""
    if default is not None and not value:
        return default
    try:
        return kind(str(value))
    except ValueError:
        *others, last = (str(m) for m in kind)
        raise DraftError(where, f"must be {', '.join(others)} or {last}, not {value!r}") from None


def _positive_int(value: Any, where: str, high: int | None = None, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DraftError(where, f"must be a whole number, not {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise DraftError(where, f"must be {bound}, not {value}")
    return value


def _tags(value: Any, where: str) -> frozenset[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        raise DraftError(where, "must be a list of tags")
    tags = frozenset(t.strip().lower() for t in value if t.strip())
    if not tags:
        raise DraftError(where, "is empty — name at least one tag")
    return tags


def _priority(value: Any, where: str) -> Priority:
    return _choice(Priority, str(value).strip().lower(), where)


def _days(value: Any, where: str) -> frozenset[int]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or not value:
        raise DraftError(where, 'must be a list of days like ["mon", "fri"]')
    days = set()
    for day in value:
        if isinstance(day, int) and not isinstance(day, bool) and 0 <= day <= 6:
            days.add(day)
            continue
        name = str(day).strip().lower()[:3]
        if name not in DAY_NAMES:
            raise DraftError(where, f"{day!r} is not a day (mon … sun, or 0 = Monday … 6)")
        days.add(DAY_NAMES.index(name))
    return frozenset(days)


_RULE_SETTINGS = {
    "time_window",
    "action",
    "days_of_week",
    "max_concurrent",
    "min_interval_ms",
    "content_tags",
    "priority_threshold",
}


def _rule_settings(settings: Mapping[str, Any], where: str) -> dict[str, Any]:
    unknown = set(settings) - _RULE_SETTINGS
    if unknown:
        name = sorted(unknown)[0]
        raise DraftError(
            f"{where}.{name}", f"is not a rule setting ({', '.join(sorted(_RULE_SETTINGS))})"
        )
    out: dict[str, Any] = {}
    action = _choice(WindowAction, settings.get("action"), f"{where}.action", WindowAction.ONLY)
    if "time_window" in settings:
        out["time_window"] = TimeWindow.parse(
            settings["time_window"], action, f"{where}.time_window"
        )
    elif "action" in settings:
        raise DraftError(f"{where}.action", "applies to a time_window; add one")
    if "days_of_week" in settings:
        out["days_of_week"] = _days(settings["days_of_week"], f"{where}.days_of_week")
    if "max_concurrent" in settings:
        out["max_concurrent"] = _positive_int(
            settings["max_concurrent"], f"{where}.max_concurrent", MAX_CONCURRENT_LIMIT
        )
    if "min_interval_ms" in settings:
        out["min_interval_ms"] = _positive_int(
            settings["min_interval_ms"], f"{where}.min_interval_ms", 7 * 86_400_000, low=0
        )
    if "content_tags" in settings:
        out["content_tags"] = _tags(settings["content_tags"], f"{where}.content_tags")
    if "priority_threshold" in settings:
        out["priority_threshold"] = _priority(
            settings["priority_threshold"], f"{where}.priority_threshold"
        )
    return out


def _moment(value: Any, where: str, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        moment = value
        why = out_of_range(moment)
        if why is not None:
            raise DraftError(where, why)
    else:
        try:
            moment = parse_moment(str(value))
        except OutOfRange as exc:
            raise DraftError(where, str(exc)) from None
        except ValueError:
            raise DraftError(
                where, f"{value!r} is not a date and time like 2026-12-01T09:00"
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


@dataclass(frozen=True, slots=True)
class SchedulingConfig:
    mode: Mode = Mode.MANUAL
    max_concurrent: int | None = None  # None: the global limit only
    priority_queue: bool = True
    start_at: datetime | None = None
    end_at: datetime | None = None
    timezone: str = "UTC"
    tags: frozenset[str] | None = None
    priority_threshold: Priority | None = None
    order: Order = Order.SHEET
    rules: tuple[SchedulingRule, ...] = ()
    retry: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SchedulingConfig:
        data = dict(data or {})
        known = {
            "mode",
            "max_concurrent",
            "priority_queue",
            "start_at",
            "end_at",
            "timezone",
            "tags",
            "priority_threshold",
            "order",
            "rules",
            "retry",
        }
        unknown = set(data) - known
        if unknown:
            raise DraftError(f"scheduling.{sorted(unknown)[0]}", "is not a scheduling setting")
        mode = _choice(Mode, data.get("mode"), "mode", Mode.MANUAL)
        zone_name = str(data.get("timezone") or local_zone_name())
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise DraftError(
                "timezone", f"{zone_name!r} is not an IANA time zone (like Europe/Berlin)"
            ) from None
        max_concurrent = data.get("max_concurrent")
        if max_concurrent is not None:
            max_concurrent = _positive_int(max_concurrent, "max_concurrent", MAX_CONCURRENT_LIMIT)
        priority_queue = data.get("priority_queue", True)
        if not isinstance(priority_queue, bool):
            raise DraftError("priority_queue", "must be true or false")
        start_at = _moment(data["start_at"], "start time", zone) if data.get("start_at") else None
        end_at = _moment(data["end_at"], "end time", zone) if data.get("end_at") else None
        if start_at and end_at and end_at <= start_at:
            raise DraftError("end time", "must be after the start time")
        tags = _tags(data["tags"], "tags") if data.get("tags") else None
        threshold = (
            _priority(data["priority_threshold"], "priority threshold")
            if data.get("priority_threshold")
            else None
        )
        order = _choice(Order, data.get("order"), "order", Order.SHEET)
        raw_rules = data.get("rules") or []
        if not isinstance(raw_rules, list):
            raise DraftError("rules", "must be a list of rules")
        if len(raw_rules) > MAX_RULES:
            raise DraftError(
                "rules", f"{len(raw_rules):,} rules — a job takes at most {MAX_RULES}; merge them"
            )
        rules = tuple(
            SchedulingRule.from_dict(r, f"rules[{i}]") for i, r in enumerate(raw_rules, 1)
        )
        ids = [r.id for r in rules]
        duplicate = next((i for i in ids if ids.count(i) > 1), None)
        if duplicate:
            raise DraftError("rules", f"two rules share the id {duplicate!r}")
        retry = data.get("retry") or {}
        if not isinstance(retry, Mapping):
            raise DraftError("retry", "must be a mapping")
        return cls(
            mode,
            max_concurrent,
            priority_queue,
            start_at,
            end_at,
            zone_name,
            tags,
            threshold,
            order,
            rules,
            dict(retry),
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "mode": self.mode.value,
            "priority_queue": self.priority_queue,
            "timezone": self.timezone,
            "order": self.order.value,
        }
        if self.max_concurrent is not None:
            data["max_concurrent"] = self.max_concurrent
        if self.start_at:
            data["start_at"] = self.start_at.isoformat()
        if self.end_at:
            data["end_at"] = self.end_at.isoformat()
        if self.tags:
            data["tags"] = sorted(self.tags)
        if self.priority_threshold:
            data["priority_threshold"] = self.priority_threshold.value
        if self.rules:
            data["rules"] = [r.to_dict() for r in self.rules]
        if self.retry:
            data["retry"] = dict(self.retry)
        return data

    @property
    def active_rules(self) -> tuple[SchedulingRule, ...]:
        return tuple(r for r in self.rules if r.enabled)

    @property
    def item_order(self) -> Order:
        """Smart mode runs cheap items first; the others follow ``order``."""
        return Order.SIMPLE_FIRST if self.mode is Mode.SMART else self.order

    # Decisions

    def exclusion(self, tags: Iterable[str], priority: Priority) -> str | None:
        """Why an item is filtered out of this job (mode filters and content rules), or None."""
        item_tags = set(tags)
        filters: list[tuple[str, frozenset[str] | None, Priority | None]] = []
        if self.mode is Mode.CONTENT_BASED:
            filters.append(("the job", self.tags, self.priority_threshold))
        filters += [
            (f"rule {r.name!r}", r.content_tags, r.priority_threshold) for r in self.active_rules
        ]
        for who, want_tags, threshold in filters:
            if want_tags and not item_tags & want_tags:
                return f"{SKIPPED} {who} runs only items tagged {', '.join(sorted(want_tags))}"
            if threshold and priority.rank < threshold.rank:
                return f"{SKIPPED} {who} runs only {threshold.value} priority or higher"
        return None

    def concurrency_cap(self) -> int | None:
        caps = [r.max_concurrent for r in self.active_rules if r.max_concurrent]
        if self.max_concurrent:
            caps.append(self.max_concurrent)
        return min(caps) if caps else None

    def min_interval(self) -> timedelta:
        gaps = [r.min_interval_ms or 0 for r in self.active_rules]
        return timedelta(milliseconds=max(gaps, default=0))

    def next_start(self, now: datetime) -> datetime:
        """The first moment at or after ``now`` when this job may start an item (``now`` if it
        may start one now). Time windows and days are read on this job's wall clock."""
        moment = max(now, self.start_at) if self.start_at else now
        windows = [r for r in self.active_rules if r.time_window or r.days_of_week]
        if not windows:
            return moment
        zone = ZoneInfo(self.timezone)
        # Walk forward minute boundaries until every rule allows a start (at most 8 days).
        local = moment.astimezone(zone)
        for _ in range(8 * 24 * 60 + 1):
            if all(_allows(r, local) for r in windows):
                return local
            local = (local.astimezone(ZoneInfo("UTC")) + timedelta(minutes=1)).replace(
                second=0, microsecond=0
            )
            local = local.astimezone(zone)
        raise DraftError("rules", "no time in the next week satisfies every time rule")

    def ended(self, now: datetime) -> bool:
        return self.end_at is not None and now >= self.end_at


def _allows(rule: SchedulingRule, local: datetime) -> bool:
    if rule.days_of_week is not None and local.weekday() not in rule.days_of_week:
        return False
    window = rule.time_window
    if window is None:
        return True
    inside = window.contains(local.time())
    return inside if window.action is WindowAction.ONLY else not inside


def item_tags(idea: Mapping[str, Any]) -> frozenset[str]:
    """An idea sheet has no tags column: an item's tags are its platforms, tone, style, voice
    and audience (comma-separated values split, lower case)."""
    tags: set[str] = set()
    for key in ("platform_preferences", "tone", "style_override", "voice_preference"):
        value = idea.get(key)
        values = value if isinstance(value, list | tuple) else str(value or "").split(",")
        tags.update(str(v).strip().lower() for v in values if str(v).strip())
    audience = str(idea.get("target_audience") or "")
    tags.update(p.strip().lower() for p in audience.split(",") if p.strip())
    return frozenset(tags)


WORDS_PER_SECOND = 2.5


def item_cost(idea: Mapping[str, Any], output_config: Mapping[str, Any]) -> float:
    """A relative cost for ordering items: seconds of video × pixels (1080p = 1)."""
    seconds = idea.get("duration_seconds")
    script = str(idea.get("script_content") or "")
    if script:
        seconds = len(script.split()) / WORDS_PER_SECOND
    try:
        length = float(seconds) if seconds else 60.0
    except (TypeError, ValueError):
        length = 60.0
    height = {"720p": 720, "1080p": 1080, "4k": 2160}.get(
        str(output_config.get("resolution", "1080p")).lower(), 1080
    )
    return round(length * (height / 1080) ** 2, 3)


# The job's half of dispatch: which job goes first, and how many of its items may start now.


def serve_order(
    priority: str, created_at: Any, job_id: int, config: SchedulingConfig
) -> tuple[int, Any, int]:
    """The order jobs with ready items are served in: by priority (high > normal > low, for
    jobs whose priority queue is on), then oldest first."""
    from app.domain.idea import Priority

    rank = Priority(priority).rank if config.priority_queue else 1
    return (-rank, created_at, job_id)


@dataclass(frozen=True, slots=True)
class Turn:
    """What a job with a ready item may do now: start ``slots`` items; or nothing, its end
    time having passed (``ended``: its waiting items are skipped), or not before
    ``wait_until`` (a start time, a time window or a day rule: its items wait until then)."""

    slots: int = 0
    ended: bool = False
    wait_until: datetime | None = None


def job_turn(
    config: SchedulingConfig,
    now: datetime,
    running: int,
    free: int,
    last_start: Callable[[], datetime | None],
) -> Turn:
    """How many of a job's items may start now, given ``free`` slots and ``running`` items
    of it: its end time, its next allowed start, its concurrency cap, and — with a minimum
    interval between starts — one start per interval (``last_start`` asked only then)."""
    if config.ended(now):
        return Turn(ended=True)
    start = config.next_start(now)
    if start > now:
        return Turn(wait_until=start)
    cap = config.concurrency_cap()
    slots = free if cap is None else min(free, cap - running)
    gap = config.min_interval()
    if gap and slots > 0:
        last = last_start()
        if last is not None and now - last < gap:
            return Turn()
        slots = 1
    return Turn(slots=slots)
