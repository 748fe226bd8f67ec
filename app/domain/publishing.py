"""Publishing plans: where a job's videos go, when each one goes public, and YouTube's limits.

Pure functions and dataclasses; the YouTube client and the engine act on what these decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.dates import OutOfRange, parse_moment
from app.domain.errors import DraftError
from app.domain.tiktok import TikTokPost

PACIFIC = ZoneInfo("America/Los_Angeles")  # YouTube's quota day ends at midnight Pacific time
MAX_TITLE_CHARS = 100
MAX_DESCRIPTION_BYTES = 5000
MAX_TAGS_CHARS = 500
CHUNK_UNIT = 256 * 1024  # resumable chunks are multiples of this
AUDIT_FORM = "https://support.google.com/youtube/contact/yt_api_form"

# YouTube's assignable categories (videoCategories.list, region US), for names on the CLI.
CATEGORIES: dict[str, str] = {
    "1": "Film & Animation",
    "2": "Autos & Vehicles",
    "10": "Music",
    "15": "Pets & Animals",
    "17": "Sports",
    "19": "Travel & Events",
    "20": "Gaming",
    "22": "People & Blogs",
    "23": "Comedy",
    "24": "Entertainment",
    "25": "News & Politics",
    "26": "Howto & Style",
    "27": "Education",
    "28": "Science & Technology",
    "29": "Nonprofits & Activism",
}


# Where Cadence publishes, in the spelling rows and jobs use (`app.domain.idea.PLATFORMS`).
DESTINATIONS: tuple[str, ...] = (
    "youtube", "youtube_shorts", "tiktok", "instagram_reels", "facebook",
)  # fmt: skip
NOT_YET: tuple[
    str, ...
] = ()  # rows may name them; not published yet  # rows may name them; not published
PLATFORM_NAMES = {
    "youtube": "YouTube",
    "youtube_shorts": "YouTube Shorts",
    "tiktok": "TikTok",
    "instagram_reels": "Instagram Reels",
    "facebook": "Facebook Reels",
    "linkedin": "LinkedIn",
    "x": "X",
}
SCHEDULES_ITSELF = frozenset({"youtube", "youtube_shorts", "facebook"})
# Platforms that want a 9:16 video: rendered once per item, shared between them.
VERTICAL_PLATFORMS = frozenset(
    {"tiktok", "youtube_shorts", "instagram_reels", "facebook"}
)  # uploaded ahead; the platform publishes on time
SHEET = "sheet"  # a job's destinations: each row's Platforms cell decides


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


def parse_destinations(text: str) -> tuple[str, ...]:
    """``youtube,tiktok`` (any alias a sheet may use) → the destinations, in order; ``sheet``
    → ``("sheet",)``; a `DraftError` naming what Cadence cannot publish to."""
    from app.domain.validation import parse_platforms

    if text.strip().casefold() == SHEET:
        return (SHEET,)
    chosen, unknown = parse_platforms(text)
    if unknown:
        raise DraftError(
            "publish",
            f"{', '.join(unknown)} is not a platform — use {', '.join(DESTINATIONS)} or sheet",
        )
    later = [p for p in chosen if p not in DESTINATIONS]
    if later:
        names = ", ".join(platform_name(p) for p in later)
        raise DraftError(
            "publish",
            f"Cadence cannot publish to {names} yet — use {', '.join(DESTINATIONS)}",
        )
    return chosen


class Privacy(StrEnum):
    PUBLIC = "public"
    UNLISTED = "unlisted"
    PRIVATE = "private"


class Phase(StrEnum):
    """Where an item is in its life beyond the lifecycle state: rendering, waiting for the
    user's approval, or uploading. A pending item in the approval phase waits for a person."""

    RENDER = "render"
    APPROVAL = "approval"
    UPLOAD = "upload"


class UploadStatus(StrEnum):
    WAITING = "waiting"  # for its render (and approval)
    QUEUED = "queued"
    UPLOADING = "uploading"
    UPLOADED = "uploaded"  # the video exists; thumbnail, playlist or status check still to do
    SCHEDULED = "scheduled"  # private until publish_at, when YouTube publishes it
    PUBLISHED = "published"
    PRIVATE = "private"  # kept private by YouTube although asked otherwise
    ON_HOLD = "on_hold"  # the channel must be signed in again
    REJECTED = "rejected"
    FAILED = "failed"  # this platform refused the video; the item's other platforms go on


def category_id(text: str) -> str:
    """A category by id or name (case-insensitive), or a `DraftError` listing the names."""
    value = text.strip()
    if value in CATEGORIES:
        return value
    for key, name in CATEGORIES.items():
        if name.casefold() == value.casefold():
            return key
    names = ", ".join(sorted(CATEGORIES.values()))
    raise DraftError(
        "category", f"{text!r} is not a YouTube category — use an id or one of: {names}"
    )


_DURATION = re.compile(r"(\d+)\s*([dhm])", re.IGNORECASE)


def parse_interval(text: str) -> timedelta:
    """``1d``, ``12h``, ``90m``, ``1d12h`` → a positive interval (a `DraftError` otherwise)."""
    compact = text.strip().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts).lower() != compact.lower():
        raise DraftError(
            "publish every", f"{text!r} is not an interval — write it like 1d, 12h, 90m or 1d12h"
        )
    units = {"d": 86400, "h": 3600, "m": 60}
    seconds = sum(int(n) * units[u.lower()] for n, u in parts)
    if seconds < 60:
        raise DraftError("publish every", "must be at least a minute")
    return timedelta(seconds=seconds)


def parse_when(text: str, tz: str, what: str = "publish at") -> datetime:
    """An ISO date-time; one without an offset is wall-clock time in ``tz``."""
    try:
        moment = parse_moment(text)
    except OutOfRange as exc:
        raise DraftError(what, str(exc)) from None
    except ValueError:
        raise DraftError(
            what, f"{text!r} is not a date and time — write it like 2026-12-24 17:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone_of(tz))
    return moment


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DraftError("time zone", f"{name!r} is not a time zone (e.g. Europe/Berlin)") from None


@dataclass(frozen=True, slots=True)
class PublishConfig:
    """How a job publishes. ``target`` empty: render only; else its destinations, comma
    separated (``youtube,tiktok``), or ``sheet`` (each row's Platforms cell decides, these
    where a cell is empty: ``sheet:youtube``)."""

    target: str = ""  # "" | youtube | tiktok | youtube,tiktok | sheet[:youtube,…]
    channel: str = ""  # the YouTube channel's id
    accounts: dict[str, str] = field(default_factory=dict)  # other platforms: platform → id
    tiktok: TikTokPost = field(default_factory=TikTokPost)
    privacy: Privacy = Privacy.PRIVATE
    publish_at: str = ""  # ISO, one time for every video
    every: str = ""  # interval text, with ``first``
    first: str = ""
    playlist: str = ""
    category: str = "27"
    made_for_kids: bool | None = None
    synthetic_media: bool = False
    approve: bool = False
    timezone: str = ""
    slots: bool = False  # into the channel's next free calendar slots
    slot_times: tuple[str, ...] = ()  # ISO instants, one per video, filled in at creation
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.target)

    @property
    def from_sheet(self) -> bool:
        return self.target.split(":", 1)[0] == SHEET

    @property
    def destinations(self) -> tuple[str, ...]:
        """The job's own destinations (with ``sheet``: those for a row whose cell is empty)."""
        text = self.target.partition(":")[2] if self.from_sheet else self.target
        return tuple(p for p in (t.strip() for t in text.split(",")) if p)

    def possible(self) -> tuple[str, ...]:
        """Every destination a row of this job may publish to: with ``sheet``, each one an
        account was chosen for."""
        if not self.from_sheet:
            return self.destinations
        chosen = [p for p in DESTINATIONS if self.account(p)]
        return tuple(dict.fromkeys([*self.destinations, *chosen]))

    def account(self, platform: str) -> str:
        if platform in ("youtube", "youtube_shorts"):  # Shorts: the same YouTube channel
            return self.channel
        return self.accounts.get(platform, "")

    def for_row(self, platforms: tuple[str, ...] | list[str], cell_empty: bool) -> tuple[str, ...]:
        """Where one row's video goes: the job's list, or — with ``sheet`` — the row's own
        platforms that have an account (the job's list where the cell is empty)."""
        if not self.from_sheet or cell_empty:
            return self.destinations
        return tuple(p for p in platforms if p in DESTINATIONS and self.account(p))

    def checked(self) -> PublishConfig:
        """Self if usable; a `DraftError` naming the setting otherwise."""
        if not self.target:
            if self.approve:
                raise DraftError("approve", "needs publishing — add --publish youtube")
            return self
        for name in self.destinations:
            if name not in DESTINATIONS:
                parse_destinations(name)  # says what it is
        if not self.destinations and not self.from_sheet:
            raise DraftError("publish", f"names no platform — use {', '.join(DESTINATIONS)}")
        if self.from_sheet and not any(self.account(p) for p in DESTINATIONS):
            raise DraftError(
                "account",
                "is missing — publishing as each row says needs an account for each platform "
                "(--account tiktok:ACCOUNT, --channel for YouTube; `accounts list` shows them)",
            )
        for name in self.destinations:
            if not self.account(name):
                what = "channel" if name.startswith("youtube") else "account"
                raise DraftError(
                    what,
                    f"is missing for {platform_name(name)} — name a signed-in {what} "
                    f"(`accounts list` shows them)",
                )
        if "tiktok" in self.possible():
            self.tiktok.checked()
        if not {"youtube", "youtube_shorts"} & set(self.possible()):
            return self._checked_times()
        if self.made_for_kids is None:
            raise DraftError(
                "made for kids",
                "must be answered when publishing (--made-for-kids or --not-made-for-kids) — "
                "YouTube holds uploads until it is",
            )
        return self._checked_times()

    def _checked_times(self) -> PublishConfig:
        if self.publish_at and self.every:
            raise DraftError("publish at", "and --publish-every exclude each other — pick one")
        if self.slots and (self.publish_at or self.every):
            raise DraftError("publish slots", "and a publish time exclude each other — pick one")
        if self.every and not self.first:
            raise DraftError("first", "is needed with --publish-every (the first video's time)")
        if self.first and not self.every:
            raise DraftError("publish every", "is needed with --first")
        tz = self.timezone or "UTC"
        zone_of(tz)
        if self.publish_at:
            parse_when(self.publish_at, tz)
        if self.every:
            parse_interval(self.every)
            parse_when(self.first, tz, "first")
        category_id(self.category)
        if self.playlist and not re.fullmatch(r"[A-Za-z0-9_-]{10,64}", self.playlist):
            raise DraftError("playlist", f"{self.playlist!r} is not a YouTube playlist id")
        return self

    def publish_time(self, index: int, row_time: str = "") -> datetime | None:
        """When the ``index``-th video (sheet order, from 0) goes public: the row's own time,
        else the job's single time, else first + index × interval; None: at once."""
        tz = self.timezone or "UTC"
        if row_time:
            return parse_when(row_time, tz, "publish_at")
        if self.slot_times:
            return parse_when(self.slot_times[index], tz) if index < len(self.slot_times) else None
        if self.publish_at:
            return parse_when(self.publish_at, tz)
        if self.every:
            return parse_when(self.first, tz, "first") + index * parse_interval(self.every)
        return None

    def to_dict(self) -> dict[str, Any]:
        if not self.target:
            return {}
        data: dict[str, Any] = {
            "target": self.target,
            "channel": self.channel,
            "privacy": self.privacy.value,
            "category": category_id(self.category),
            **({"accounts": dict(self.accounts)} if self.accounts else {}),
            **({"tiktok": self.tiktok.to_dict()} if "tiktok" in self.possible() else {}),
            "made_for_kids": self.made_for_kids,
            "synthetic_media": self.synthetic_media,
            "approve": self.approve,
        }
        for key in ("publish_at", "every", "first", "playlist", "timezone", "slots"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.slot_times:
            data["slot_times"] = list(self.slot_times)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PublishConfig:
        data = dict(data or {})
        if not data:
            return cls()
        try:
            privacy = Privacy(str(data.get("privacy", "private")))
        except ValueError:
            raise DraftError(
                "privacy", f"{data.get('privacy')!r} is not public, unlisted or private"
            ) from None
        kids = data.get("made_for_kids")
        return cls(
            target=str(data.get("target", "")),
            channel=str(data.get("channel", "")),
            accounts={str(k): str(v) for k, v in dict(data.get("accounts") or {}).items()},
            tiktok=TikTokPost.from_dict(data.get("tiktok")),
            privacy=privacy,
            publish_at=str(data.get("publish_at", "") or ""),
            every=str(data.get("every", "") or ""),
            first=str(data.get("first", "") or ""),
            playlist=str(data.get("playlist", "") or ""),
            category=str(data.get("category", "27") or "27"),
            made_for_kids=None if kids is None else bool(kids),
            synthetic_media=bool(data.get("synthetic_media", False)),
            approve=bool(data.get("approve", False)),
            timezone=str(data.get("timezone", "") or ""),
            slots=bool(data.get("slots", False)),
            slot_times=tuple(str(t) for t in data.get("slot_times") or ()),
        )


def upload_privacy(asked: Privacy, publish_at: datetime | None, now: datetime) -> Privacy:
    """A future publish time uploads as private with ``publishAt``; else the privacy asked."""
    return Privacy.PRIVATE if publish_at is not None and publish_at > now else asked


def tags_length(tags: list[str]) -> int:
    """Tags as YouTube counts them: a tag with a space counts its quotes; commas between."""
    if not tags:
        return 0
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + len(tags) - 1


def metadata_problems(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, what is wrong) for each YouTube limit the metadata breaks."""
    problems: list[tuple[str, str]] = []
    title = str(metadata.get("title", ""))
    if not title.strip():
        problems.append(("title", "is empty — YouTube needs a title"))
    if len(title) > MAX_TITLE_CHARS:
        problems.append(("title", f"is {len(title)} characters; YouTube allows {MAX_TITLE_CHARS}"))
    for name, text in (("title", title), ("description", str(metadata.get("description", "")))):
        if "<" in text or ">" in text:
            problems.append((name, "contains < or >, which YouTube refuses"))
    size = len(str(metadata.get("description", "")).encode("utf-8"))
    if size > MAX_DESCRIPTION_BYTES:
        problems.append(("description", f"is {size} bytes; YouTube allows {MAX_DESCRIPTION_BYTES}"))
    tags = [str(t) for t in metadata.get("tags", [])]
    if tags_length(tags) > MAX_TAGS_CHARS:
        problems.append(
            ("tags", f"add up to {tags_length(tags)} characters; YouTube allows {MAX_TAGS_CHARS}")
        )
    return problems


def quota_day(now: datetime) -> date:
    """The Pacific-time day YouTube counts quota against."""
    return now.astimezone(PACIFIC).date()


def quota_reset(now: datetime) -> datetime:
    """The next midnight Pacific time after ``now`` (an aware instant)."""
    tomorrow = quota_day(now) + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=PACIFIC)


def chunk_size(kibibytes: int) -> int:
    """A chunk size in whole 256 KiB units, at least one."""
    return max(1, (kibibytes * 1024) // CHUNK_UNIT) * CHUNK_UNIT
