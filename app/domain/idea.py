"""The Idea: one spreadsheet row describing one video, and the vocabularies its cells use."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """Higher runs first."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2}


class Voice(StrEnum):
    FEMALE = "female"
    MALE = "male"
    NEUTRAL = "neutral"


PLATFORMS: tuple[str, ...] = (
    "youtube",
    "youtube_shorts",
    "tiktok",
    "instagram_reels",
    "facebook",
    "linkedin",
    "x",
)
"""Platforms a row may ask for, in the spelling Cadence stores."""

BUILTIN_STYLES: tuple[str, ...] = ("modern", "classic", "minimal", "corporate")

MAX_DURATION_SECONDS = 3600
DEFAULT_DURATION_SECONDS = 300
MAX_TITLE_CHARS = 100
MAX_DESCRIPTION_BYTES = 5000


@dataclass(frozen=True, slots=True)
class Field:
    """One of the ten columns of an idea sheet."""

    name: str
    label: str
    letter: str
    aliases: tuple[str, ...]


FIELDS: tuple[Field, ...] = (
    Field("idea_title", "Idea title", "A", ("title", "idea", "video title", "topic", "name")),
    Field("description", "Description", "B", ("desc", "summary", "about", "details")),
    Field("target_audience", "Target audience", "C", ("audience", "viewers", "for")),
    Field("tone", "Tone", "D", ("mood", "style of voice", "voice tone")),
    Field(
        "duration_seconds",
        "Duration (seconds)",
        "E",
        ("duration", "length", "seconds", "duration sec", "duration secs", "duration s"),
    ),
    Field(
        "platform_preferences",
        "Platforms",
        "F",
        ("platforms", "platform", "platform preference", "channels", "publish to"),
    ),
    Field("script_content", "Script", "G", ("script", "content", "narration", "text", "body")),
    Field("voice_preference", "Voice", "H", ("voice", "narrator", "voice type")),
    Field("style_override", "Style", "I", ("style", "template", "look", "theme")),
    Field("priority", "Priority", "J", ("prio", "importance", "urgency")),
)
OPTIONAL_FIELDS: tuple[Field, ...] = (
    Field(
        "publish_at",
        "Publish at",
        "",
        ("publish time", "publish date", "publish on", "go live", "scheduled for", "release"),
    ),
)
"""Columns found only by their header (never by position): a row's own publish time."""
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in (*FIELDS, *OPTIONAL_FIELDS)}


@dataclass(frozen=True, slots=True)
class Idea:
    """A validated row: every field typed, defaults filled."""

    idea_title: str
    script_content: str = ""
    description: str = ""
    target_audience: str = ""
    tone: str = ""
    duration_seconds: int = DEFAULT_DURATION_SECONDS
    platform_preferences: tuple[str, ...] = field(default=("youtube",))
    voice_preference: Voice = Voice.NEUTRAL
    style_override: str = ""
    priority: Priority = Priority.NORMAL
    publish_at: str = ""  # the row's own publish time (ISO, wall-clock in the job's zone)
    platforms_given: bool = True  # False: the Platforms cell was empty (youtube assumed)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (enums as text, platforms as a list)."""
        data = asdict(self)
        data["platform_preferences"] = list(self.platform_preferences)
        data["voice_preference"] = str(self.voice_preference)
        data["priority"] = str(self.priority)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Idea:
        """The inverse of `to_dict`, for ideas read back from the store."""
        return cls(
            idea_title=str(data["idea_title"]),
            script_content=str(data.get("script_content", "")),
            description=str(data.get("description", "")),
            target_audience=str(data.get("target_audience", "")),
            tone=str(data.get("tone", "")),
            duration_seconds=int(data.get("duration_seconds", DEFAULT_DURATION_SECONDS)),
            platform_preferences=tuple(data.get("platform_preferences", ("youtube",))),
            voice_preference=Voice(data.get("voice_preference", Voice.NEUTRAL)),
            style_override=str(data.get("style_override", "")),
            priority=Priority(data.get("priority", Priority.NORMAL)),
            publish_at=str(data.get("publish_at", "") or ""),
            platforms_given=bool(data.get("platforms_given", True)),
        )
