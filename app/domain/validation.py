"""Row validation at three levels, turning raw cells into Ideas with row-and-column problems.

Never raises on cell content: whatever a spreadsheet holds becomes an Idea or a Problem.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

from app.domain.a1 import column_letter
from app.domain.columns import ColumnMap, detect_header, positional_map
from app.domain.dates import OutOfRange, out_of_range, parse_moment
from app.domain.idea import (
    BUILTIN_STYLES,
    DEFAULT_DURATION_SECONDS,
    FIELDS,
    FIELDS_BY_NAME,
    MAX_DESCRIPTION_BYTES,
    MAX_DURATION_SECONDS,
    MAX_TITLE_CHARS,
    PLATFORMS,
    Idea,
    Priority,
    Voice,
)

SPOKEN_WORDS_PER_MINUTE = 165  # the default speaking rate (setting speech.rate)


class Level(StrEnum):
    STRICT = "strict"
    MODERATE = "moderate"
    PERMISSIVE = "permissive"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or worth knowing) about one cell: which row, which column, what to do."""

    row: int
    column: str
    message: str
    cell: str | None = None
    header: str | None = None

    def place(self) -> str:
        """The column as the user sees it: ``column E “Duration”``."""
        spec = FIELDS_BY_NAME.get(self.column)
        label = self.header or (spec.label if spec else self.column)
        letter = f"{self.cell.rstrip('0123456789')} " if self.cell else ""
        return f"column {letter}“{label}”"

    def where(self) -> str:
        return f"row {self.row}, {self.place()}"

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"column": self.column, "message": self.message}
        if self.cell:
            data["cell"] = self.cell
        return data


@dataclass(slots=True)
class RowReport:
    """One row's outcome; ``title`` is what the title cell says, even when the row is invalid."""

    row: int
    title: str
    idea: Idea | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.idea is not None and not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "valid": self.valid,
            "errors": [p.to_dict() for p in self.errors],
            "warnings": [p.to_dict() for p in self.warnings],
            "idea": self.idea.to_dict() if self.idea and self.valid else None,
        }


@dataclass(slots=True)
class SheetReport:
    """Everything validation found in one source."""

    level: Level
    rows: list[RowReport]
    columns: ColumnMap
    header_row: int | None
    empty_rows: list[int] = field(default_factory=list)
    title: str = ""  # the source document's own title, where it has one

    @property
    def valid_rows(self) -> list[RowReport]:
        return [r for r in self.rows if r.valid]

    @property
    def invalid_rows(self) -> list[RowReport]:
        return [r for r in self.rows if not r.valid]

    @property
    def all_valid(self) -> bool:
        return all(r.valid for r in self.rows)

    @property
    def notes(self) -> list[str]:
        """Sheet-wide remarks: ignored or duplicate columns."""
        return self.columns.notes


@dataclass(frozen=True, slots=True)
class SourceRow:
    """The cells of one non-empty sheet row, with its row number as the sheet shows it."""

    number: int
    cells: Sequence[object]


@dataclass(frozen=True, slots=True)
class Rules:
    """What the validator may accept besides the level itself."""

    level: Level = Level.MODERATE
    known_styles: tuple[str, ...] = BUILTIN_STYLES
    can_generate_script: bool = False


def validate_rows(
    rows: Sequence[SourceRow],
    rules: Rules | None = None,
    *,
    first_column: int = 1,
    empty_rows: Iterable[int] = (),
) -> SheetReport:
    """Validate a sheet's non-empty rows; the first is taken as a header when it looks like one."""
    rules = rules or Rules()
    columns = positional_map()
    header_row: int | None = None
    data = rows
    if rows:
        detected = detect_header(rows[0].cells)
        if detected is not None:
            columns, header_row, data = detected, rows[0].number, rows[1:]
    letters = {name: column_letter(first_column + pos) for name, pos in columns.positions.items()}
    reports = [_RowValidator(r, columns, letters, rules).run() for r in data]
    return SheetReport(rules.level, reports, columns, header_row, sorted(empty_rows))


# --- cell conversion -------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell as the text a user sees; integral numbers without ``.0``."""
    if type(value) is str:  # nearly every cell: the fast path
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})$")
_UNIT_PART = re.compile(
    r"(\d+(?:\.\d+)?)\s*(h|hrs?|hours?|m|mins?|minutes?|s|secs?|seconds?)\b", re.IGNORECASE
)
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}


def _as_number(value: object) -> float | None:
    """The exact number a cell holds, or None when it holds text that is not a plain number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    if isinstance(value, int | float | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    text = cell_text(value).replace(",", "") if isinstance(value, str) else None
    if text and _NUMBER.match(text):
        return float(text)
    return None


def _loose_seconds(value: object) -> float | None:
    """Permissive reading of a duration: 90, "90s", "1:30", "2 min", "1h 5m"."""
    number = _as_number(value)
    if number is not None:
        return number
    text = cell_text(value).lower()
    clock = _CLOCK.match(text)
    if clock:
        hours, minutes, seconds = (int(g) if g else 0 for g in clock.groups())
        return hours * 3600 + minutes * 60 + seconds
    parts = _UNIT_PART.findall(text)
    if parts and not _UNIT_PART.sub("", text).strip(" ,and"):
        return sum(float(n) * _UNIT_SECONDS[u[0].lower()] for n, u in parts)
    return None


_PLATFORM_ALIASES = {
    "yt": "youtube",
    "shorts": "youtube_shorts",
    "ytshorts": "youtube_shorts",
    "youtubeshort": "youtube_shorts",
    "tik_tok": "tiktok",
    "reels": "instagram_reels",
    "instagram": "instagram_reels",
    "ig": "instagram_reels",
    "insta": "instagram_reels",
    "fb": "facebook",
    "twitter": "x",
    "linked_in": "linkedin",
}
_PLATFORM_SPLIT = re.compile(r"[,;|/\n]+")
_VOICE_ALIASES = {
    "f": Voice.FEMALE,
    "woman": Voice.FEMALE,
    "w": Voice.FEMALE,
    "m": Voice.MALE,
    "man": Voice.MALE,
    "n": Voice.NEUTRAL,
    "any": Voice.NEUTRAL,
    "default": Voice.NEUTRAL,
    "auto": Voice.NEUTRAL,
}
_PRIORITY_ALIASES = {
    "hi": Priority.HIGH,
    "urgent": Priority.HIGH,
    "p1": Priority.HIGH,
    "critical": Priority.HIGH,
    "medium": Priority.NORMAL,
    "med": Priority.NORMAL,
    "p2": Priority.NORMAL,
    "lo": Priority.LOW,
    "p3": Priority.LOW,
}


@lru_cache(maxsize=1024)
def parse_platforms(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(known platforms in order without repeats, unknown parts) of a platforms text."""
    return _parse_platforms(text)


def _parse_platforms(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(known platforms in order without repeats, unknown parts) of a platforms cell."""
    chosen: list[str] = []
    unknown: list[str] = []
    for part in _PLATFORM_SPLIT.split(text):
        if not part.strip():
            continue
        key = re.sub(r"[\s\-]+", "_", part.strip().lower())
        key = _PLATFORM_ALIASES.get(key.replace("_", ""), _PLATFORM_ALIASES.get(key, key))
        if key in PLATFORMS:
            if key not in chosen:
                chosen.append(key)
        else:
            unknown.append(part.strip())
    return tuple(chosen), tuple(unknown)


def _quote(value: str, limit: int = 40) -> str:
    shown = value if len(value) <= limit else value[: limit - 1] + "…"
    return f"“{shown}”"


# --- per-row validation ----------------------------------------------------------------------


class _RowValidator:
    """Validates one row; collects errors and warnings instead of raising."""

    def __init__(
        self, row: SourceRow, columns: ColumnMap, letters: dict[str, str], rules: Rules
    ) -> None:
        self.row = row
        self.columns = columns
        self.letters = letters
        self.rules = rules
        self.level = rules.level
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    # Reporting

    def _problem(self, column: str, message: str) -> Problem:
        letter = self.letters.get(column)
        return Problem(
            self.row.number,
            column,
            message,
            cell=f"{letter}{self.row.number}" if letter else None,
            header=self.columns.headers.get(column),
        )

    def error(self, column: str, message: str) -> None:
        self.errors.append(self._problem(column, message))

    def warn(self, column: str, message: str) -> None:
        self.warnings.append(self._problem(column, message))

    def bad(self, column: str, message: str, fallback: str) -> None:
        """An error at strict/moderate; at permissive a warning saying what is used instead."""
        if self.level is Level.PERMISSIVE:
            self.warn(column, f"{message}; using {fallback} instead")
        else:
            self.error(column, message)

    def raw(self, column: str) -> object:
        pos = self.columns.positions.get(column)
        if pos is None or pos >= len(self.row.cells):
            return None
        return self.row.cells[pos]

    def missing(self, column: str, hint: str = "") -> str:
        """Why a required cell is empty, phrased for the strict level."""
        if column not in self.columns.positions:
            return (
                f"the sheet has no such column — add one headed {column!r}, "
                "or validate at the moderate level"
            )
        return "is empty — strict validation needs every column filled in" + hint

    # Fields

    def run(self) -> RowReport:
        title = self.title()
        if title is None:
            return RowReport(self.row.number, "", None, self.errors, self.warnings)
        values: dict[str, Any] = {"idea_title": title}
        checks: dict[str, Callable[[], Any]] = {
            "description": self.description,
            "target_audience": lambda: self.free_text("target_audience"),
            "tone": lambda: self.free_text("tone"),
            "duration_seconds": self.duration,
            "platform_preferences": self.platforms,
            "script_content": self.script,
            "voice_preference": self.voice,
            "style_override": self.style,
            "priority": self.priority,
            "publish_at": self.publish_at,
        }
        for name, check in checks.items():
            try:
                values[name] = check()
            except Exception as exc:  # a bug here must not lose the row: report it on the cell
                self.error(name, f"could not be read ({type(exc).__name__}) — retype the value")
        self.narration_length(values)
        values["platforms_given"] = bool(cell_text(self.raw("platform_preferences")))
        idea = None if self.errors else Idea(**values)
        return RowReport(self.row.number, title, idea, self.errors, self.warnings)

    def narration_length(self, values: dict[str, Any]) -> None:
        """Warn (at every level) when the script, spoken, runs far short of the row's duration
        or far past it."""
        script = str(values.get("script_content") or "")
        duration = values.get("duration_seconds")
        if not script or not isinstance(duration, int) or duration <= 0:
            return
        words = len(script.split())
        spoken = words / SPOKEN_WORDS_PER_MINUTE * 60
        given = bool(cell_text(self.raw("duration_seconds")).strip()) and not any(
            p.column == "duration_seconds" for p in (*self.warnings, *self.errors)
        )  # the row's own number, not a default or a coerced value
        if given and spoken < duration * 0.6 and duration - spoken > 10:
            self.warn(
                "script_content",
                f"runs about {spoken:.0f} s when spoken ({words:,} words), far short of the "
                f"{duration} s of its duration — lengthen the script to about "
                f"{round(duration * SPOKEN_WORDS_PER_MINUTE / 60):,} words or lower the duration",
            )
        if spoken > duration * 1.5 and spoken - duration > 30:
            minutes = spoken / 60
            length = f"about {minutes:.0f} minutes" if minutes >= 2 else f"about {spoken:.0f} s"
            self.warn(
                "script_content",
                f"runs {length} when spoken ({words:,} words), far past the {duration} s of "
                "its duration — shorten the script or raise the duration",
            )

    def title(self) -> str | None:
        text = " ".join(cell_text(self.raw("idea_title")).split())
        if not text:
            if self.level is Level.PERMISSIVE:
                self.error("idea_title", "has no title, so the row is skipped — give it a title")
            elif "idea_title" not in self.columns.positions:
                self.error(
                    "idea_title", "the sheet has no such column — add one headed 'idea_title'"
                )
            else:
                self.error("idea_title", "is empty — every idea needs a title")
            return None
        if "<" in text or ">" in text:
            message = "contains < or >, which YouTube does not allow in titles"
            if self.level is Level.STRICT:
                self.error("idea_title", message + " — remove them")
            else:  # the intent is clear: the video's title goes without them
                self.warn("idea_title", message + "; they are left out of the video's title")
            text = text.replace("<", "").replace(">", "").strip() or text
        if len(text) > MAX_TITLE_CHARS:
            message = f"is {len(text)} characters; YouTube allows {MAX_TITLE_CHARS}"
            if self.level is Level.STRICT:
                self.error("idea_title", message + " — shorten it")
            else:
                self.warn("idea_title", message + "; it will be shortened when published")
        return text

    def free_text(self, column: str) -> str:
        text = cell_text(self.raw(column))
        if not text and self.level is Level.STRICT:
            self.error(column, self.missing(column))
        return text

    def description(self) -> str:
        text = self.free_text("description")
        size = len(text.encode("utf-8"))
        if size > MAX_DESCRIPTION_BYTES:
            message = f"is {size} bytes; YouTube allows {MAX_DESCRIPTION_BYTES}"
            if self.level is Level.STRICT:
                self.error("description", message + " — shorten it")
            else:
                self.warn("description", message + "; it will be cut when published")
        return text

    def duration(self) -> int:
        raw = self.raw("duration_seconds")
        text = cell_text(raw)
        default = DEFAULT_DURATION_SECONDS
        if not text:
            if self.level is Level.STRICT:
                self.error("duration_seconds", self.missing("duration_seconds"))
            return default
        limits = f"enter a whole number of seconds from 1 to {MAX_DURATION_SECONDS}"
        if self.level is Level.PERMISSIVE:
            seconds = _loose_seconds(raw)
            if seconds is None:
                self.warn(
                    "duration_seconds", f"{_quote(text)} is not a duration; using {default} s"
                )
                return default
            whole = round(seconds)
            if whole != seconds:
                self.warn("duration_seconds", f"{_quote(text)} rounded to {whole} s")
            elif _as_number(raw) is None and 1 <= whole <= MAX_DURATION_SECONDS:
                self.warn("duration_seconds", f"{_quote(text)} read as {whole} s")
            if whole < 1:  # clamped, as every out-of-range value is at this level
                self.warn("duration_seconds", f"{_quote(text)} is below 1 s; using 1 s")
                return 1
            if whole > MAX_DURATION_SECONDS:
                self.warn(
                    "duration_seconds",
                    f"{_quote(text)} is over an hour; using {MAX_DURATION_SECONDS} s",
                )
                return MAX_DURATION_SECONDS
            return whole
        number = _as_number(raw)
        if number is None or not number.is_integer():
            self.error("duration_seconds", f"{_quote(text)} is not a whole number — {limits}")
            return default
        if not 1 <= number <= MAX_DURATION_SECONDS:
            self.error("duration_seconds", f"{_quote(text)} is out of range — {limits}")
            return default
        return int(number)

    def platforms(self) -> tuple[str, ...]:
        text = cell_text(self.raw("platform_preferences"))
        known = ", ".join(PLATFORMS)
        if not text:
            if self.level is Level.STRICT:
                self.error(
                    "platform_preferences",
                    self.missing("platform_preferences", f"; use any of {known}"),
                )
            return ("youtube",)
        chosen, unknown = _parse_platforms(text)
        if unknown:
            names = ", ".join(_quote(u, 20) for u in unknown)
            if self.level is Level.PERMISSIVE:
                self.warn("platform_preferences", f"unknown platform {names} dropped")
            else:
                self.error("platform_preferences", f"unknown platform {names} — use any of {known}")
        if not chosen:
            if self.level is Level.PERMISSIVE and unknown:
                self.warn("platform_preferences", "no known platform left; using youtube")
            return ("youtube",)
        return chosen

    def script(self) -> str:
        text = cell_text(self.raw("script_content"))
        if text:
            return text
        if self.rules.can_generate_script:
            self.warn("script_content", "is empty; a script will be generated from the title")
        elif self.level is Level.PERMISSIVE:
            self.warn(
                "script_content",
                "is empty; the video cannot be rendered until a script is added "
                "or a script generator is configured",
            )
        elif "script_content" not in self.columns.positions:
            self.error(
                "script_content",
                "the sheet has no such column — add one headed 'script_content' with the narration",
            )
        else:
            self.error("script_content", "is empty — write the narration for this video")
        return text

    def voice(self) -> Voice:
        text = cell_text(self.raw("voice_preference")).lower()
        choices = "female, male or neutral"
        if not text:
            if self.level is Level.STRICT:
                self.error("voice_preference", self.missing("voice_preference", f"; use {choices}"))
            return Voice.NEUTRAL
        if text in Voice._value2member_map_:
            return Voice(text)
        if self.level is Level.PERMISSIVE and text in _VOICE_ALIASES:
            chosen = _VOICE_ALIASES[text]
            self.warn("voice_preference", f"{_quote(text)} read as {chosen.value}")
            return chosen
        self.bad("voice_preference", f"{_quote(text)} is not a voice — use {choices}", "neutral")
        return Voice.NEUTRAL

    def style(self) -> str:
        text = cell_text(self.raw("style_override")).lower()
        styles = self.rules.known_styles
        choices = ", ".join(styles)
        if not text:
            if self.level is Level.STRICT:
                self.error("style_override", self.missing("style_override", f"; use {choices}"))
            return ""
        if text in styles:
            return text
        self.bad(
            "style_override",
            f"{_quote(text)} is not a style — use one of {choices}",
            "the job's style",
        )
        return ""

    def priority(self) -> Priority:
        text = cell_text(self.raw("priority")).lower()
        choices = "low, normal or high"
        if not text:
            if self.level is Level.STRICT:
                self.error("priority", self.missing("priority", f"; use {choices}"))
            return Priority.NORMAL
        if text in Priority._value2member_map_:
            return Priority(text)
        if self.level is Level.PERMISSIVE and text in _PRIORITY_ALIASES:
            chosen = _PRIORITY_ALIASES[text]
            self.warn("priority", f"{_quote(text)} read as {chosen.value}")
            return chosen
        self.bad("priority", f"{_quote(text)} is not a priority — use {choices}", "normal")
        return Priority.NORMAL

    def publish_at(self) -> str:
        """The row's own publish time, as ISO text (its zone is the job's, known later)."""
        value = self.raw("publish_at")
        if isinstance(value, date):  # XLSX dates arrive typed
            why = out_of_range(value)
            if why is not None:
                self.error("publish_at", why)
                return ""
        if isinstance(value, datetime):
            return value.replace(microsecond=0).isoformat()
        if isinstance(value, date):
            return datetime.combine(value, time(0)).isoformat()
        text = cell_text(value)
        if not text:
            return ""
        candidate = text.replace("/", "-")
        candidate = candidate.replace(" ", "T", 1) if " " in candidate else candidate
        try:
            moment = parse_moment(candidate)
        except OutOfRange as exc:
            self.error("publish_at", f"{_quote(text)}: {exc}")
            return ""
        except ValueError:
            self.error(
                "publish_at",
                f"{_quote(text)} is not a date and time — write it like 2026-12-24 17:00",
            )
            return ""
        return moment.replace(microsecond=0).isoformat()


__all__ = [
    "FIELDS",
    "Level",
    "Problem",
    "RowReport",
    "Rules",
    "SheetReport",
    "SourceRow",
    "cell_text",
    "validate_rows",
]
