"""TikTok's rules, as its Content Posting API documents them: who may see a post, how a
video is cut into upload chunks, how long a caption may be, and what a Direct Post must ask
of the creator before it is sent. Pure functions; `app.publish.tiktok` acts on them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.domain.errors import DraftError

MB = 1024 * 1024
MIN_CHUNK = 5 * MB  # every chunk but a whole small video is at least this
MAX_CHUNK = 64 * MB
MAX_LAST_CHUNK = 128 * MB  # the last chunk carries the trailing bytes
MAX_CHUNKS = 1000
TITLE_UNITS = 2200  # a post's caption, counted in UTF-16 code units
INITS_PER_MINUTE = 6  # /video/init/ per user access token


class TikTokPrivacy(StrEnum):
    PUBLIC_TO_EVERYONE = "PUBLIC_TO_EVERYONE"
    MUTUAL_FOLLOW_FRIENDS = "MUTUAL_FOLLOW_FRIENDS"
    FOLLOWER_OF_CREATOR = "FOLLOWER_OF_CREATOR"
    SELF_ONLY = "SELF_ONLY"


PRIVACY_LABELS = {
    TikTokPrivacy.PUBLIC_TO_EVERYONE: "Everyone",
    TikTokPrivacy.MUTUAL_FOLLOW_FRIENDS: "Friends",
    TikTokPrivacy.FOLLOWER_OF_CREATOR: "Followers",
    TikTokPrivacy.SELF_ONLY: "Only me",
}


def privacy_of(text: str) -> TikTokPrivacy:
    """A privacy level by its API name or its label (any case), or a `DraftError`."""
    wanted = text.strip().replace("-", "_").replace(" ", "_").upper()
    for level, label in PRIVACY_LABELS.items():
        if wanted in (level.value, label.upper().replace(" ", "_")):
            return level
    names = ", ".join(level.value for level in TikTokPrivacy)
    raise DraftError("tiktok privacy", f"{text!r} is not a TikTok privacy level — use {names}")


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    size: int
    chunk_size: int
    count: int

    def span(self, index: int) -> tuple[int, int]:
        """Chunk ``index``'s first byte and its length: the last one takes the rest."""
        start = index * self.chunk_size
        length = self.size - start if index == self.count - 1 else self.chunk_size
        return start, length

    def index_at(self, offset: int) -> int:
        """The chunk that starts at ``offset`` (a chunk boundary, as TikTok confirms them)."""
        return min(offset // self.chunk_size, self.count - 1) if self.chunk_size else 0


def chunk_plan(size: int, preferred: int = 10 * MB) -> ChunkPlan:
    """How TikTok wants ``size`` bytes cut: under 5 MB one whole chunk; otherwise chunks of
    ``preferred`` (kept within 5–64 MB), their count the size divided by it rounded down, the
    trailing bytes merged into the last chunk (at most 128 MB)."""
    if size <= 0:
        raise ValueError("an empty video cannot be uploaded")
    if size < MIN_CHUNK:
        return ChunkPlan(size, size, 1)
    chunk = max(MIN_CHUNK, min(MAX_CHUNK, preferred))
    if size <= MAX_CHUNK and size < 2 * chunk:
        return ChunkPlan(size, size, 1)  # one whole chunk: within 64 MB, nothing to merge
    count = size // chunk
    if size - (count - 1) * chunk > MAX_LAST_CHUNK or count > MAX_CHUNKS:
        chunk = max(chunk, -(-size // MAX_CHUNKS))
        count = size // chunk
    if count > MAX_CHUNKS or chunk > MAX_CHUNK:
        raise ValueError(f"a video of {size} bytes is larger than TikTok accepts (4 GB)")
    return ChunkPlan(size, chunk, count)


VIDEO_CODECS = ("h264", "hevc", "h265", "vp8", "vp9")
MAX_BYTES = 4 * 1024**3


def video_refusal(
    suffix: str, size: int, codec: str, width: int, height: int, fps: float
) -> str | None:
    """Why TikTok would refuse this file (its documented limits), or None: MP4, MOV or WebM;
    H.264, H.265, VP8 or VP9; 23–60 frames a second; 360–4096 pixels a side; 4 GB."""
    if suffix.lower() not in (".mp4", ".mov", ".webm"):
        return f"TikTok takes MP4, MOV or WebM files, not {suffix or 'this file'}"
    if size > MAX_BYTES:
        return f"the video is {size / 1024**3:.1f} GB; TikTok takes at most 4 GB"
    if codec and codec not in VIDEO_CODECS:
        return f"TikTok takes H.264, H.265, VP8 or VP9 video, not {codec}"
    if fps and not 23 <= fps <= 60:
        return f"the video runs at {fps:g} fps; TikTok takes 23 to 60 — choose another frame rate"
    if width and height and not (min(width, height) >= 360 and max(width, height) <= 4096):
        return f"the video is {width}×{height}; TikTok takes 360 to 4096 pixels a side"
    return None


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def caption(title: str, description: str, tags: list[str]) -> str:
    """A post's caption: the title, the description's first paragraph and the hashtags, cut
    to 2,200 UTF-16 units at a word — never through a surrogate pair."""
    hashtags = " ".join("#" + "".join(t.split()) for t in tags if t.strip())
    first = description.strip().split("\n\n")[0].strip() if description else ""
    parts = [p for p in (title.strip(), first) if p]
    text = "\n\n".join(parts)
    if hashtags:
        text = f"{text}\n\n{hashtags}" if text else hashtags
    if utf16_units(text) <= TITLE_UNITS:
        return text
    cut = text
    while utf16_units(cut) > TITLE_UNITS - 1:
        cut = cut[: len(cut) - max(1, (utf16_units(cut) - TITLE_UNITS + 1) // 2)]
    if " " in cut[-40:]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip() + "…"


@dataclass(frozen=True, slots=True)
class TikTokPost:
    """What the creator chose for a job's TikTok posts (TikTok's Direct Post guidelines: a
    privacy level with no default, interactions off until switched on, the commercial
    content disclosure, the music usage consent)."""

    privacy: TikTokPrivacy | None = None
    allow_comment: bool = False
    allow_duet: bool = False
    allow_stitch: bool = False
    your_brand: bool = False  # promotes the creator's own business (brand_organic_toggle)
    branded_content: bool = False  # a paid partnership (brand_content_toggle)
    ai_generated: bool = True  # TikTok's AI-generated content label (is_aigc)
    music_consent: bool = False  # the creator agreed to TikTok's Music Usage Confirmation

    def checked(self) -> TikTokPost:
        if self.privacy is None:
            names = ", ".join(level.value for level in TikTokPrivacy)
            raise DraftError(
                "tiktok privacy",
                f"must be chosen when TikTok is a destination (TikTok allows no default) — "
                f"--tiktok-privacy {names}",
            )
        if self.branded_content and self.privacy is TikTokPrivacy.SELF_ONLY:
            raise DraftError(
                "tiktok privacy",
                "branded content cannot be private (Only me) — TikTok refuses it; choose "
                "another privacy level or turn branded content off",
            )
        if not self.music_consent:
            raise DraftError(
                "tiktok music consent",
                "is needed before posting to TikTok — agree to TikTok's Music Usage "
                "Confirmation (https://www.tiktok.com/legal/page/global/music-usage-"
                "confirmation/en) with --tiktok-music-consent, or tick it in the window",
            )
        return self

    def declaration(self) -> str:
        """The sentence TikTok's guidelines want shown beside the post button."""
        if self.branded_content:
            return (
                "By posting, you agree to TikTok's Branded Content Policy and Music Usage "
                "Confirmation."
            )
        return "By posting, you agree to TikTok's Music Usage Confirmation."

    def label(self) -> str:
        """How the disclosure shows on the post, or ''."""
        if self.branded_content:
            return "Paid partnership"
        if self.your_brand:
            return "Promotional content"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "privacy": self.privacy.value if self.privacy else None,
            "allow_comment": self.allow_comment,
            "allow_duet": self.allow_duet,
            "allow_stitch": self.allow_stitch,
            "your_brand": self.your_brand,
            "branded_content": self.branded_content,
            "ai_generated": self.ai_generated,
            "music_consent": self.music_consent,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TikTokPost:
        data = dict(data or {})
        privacy = data.get("privacy")
        return cls(
            privacy=privacy_of(str(privacy)) if privacy else None,
            allow_comment=bool(data.get("allow_comment", False)),
            allow_duet=bool(data.get("allow_duet", False)),
            allow_stitch=bool(data.get("allow_stitch", False)),
            your_brand=bool(data.get("your_brand", False)),
            branded_content=bool(data.get("branded_content", False)),
            ai_generated=bool(data.get("ai_generated", True)),
            music_consent=bool(data.get("music_consent", False)),
        )

    def post_info(self, title: str, creator: CreatorInfo) -> dict[str, Any]:
        """The Direct Post ``post_info`` for one video; interactions the creator turned off in
        TikTok stay off whatever the job asked."""
        assert self.privacy is not None
        return {
            "title": title,
            "privacy_level": self.privacy.value,
            "disable_comment": creator.comment_disabled or not self.allow_comment,
            "disable_duet": creator.duet_disabled or not self.allow_duet,
            "disable_stitch": creator.stitch_disabled or not self.allow_stitch,
            "video_cover_timestamp_ms": 1000,
            "brand_content_toggle": self.branded_content,
            "brand_organic_toggle": self.your_brand,
            "is_aigc": self.ai_generated,
        }


@dataclass(frozen=True, slots=True)
class CreatorInfo:
    """What ``creator_info/query`` says of the creator, now."""

    username: str
    nickname: str
    avatar_url: str
    privacy_options: tuple[str, ...]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_duration: int  # seconds

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> CreatorInfo:
        return cls(
            username=str(data.get("creator_username") or ""),
            nickname=str(data.get("creator_nickname") or ""),
            avatar_url=str(data.get("creator_avatar_url") or ""),
            privacy_options=tuple(str(p) for p in data.get("privacy_level_options") or ()),
            comment_disabled=bool(data.get("comment_disabled", False)),
            duet_disabled=bool(data.get("duet_disabled", False)),
            stitch_disabled=bool(data.get("stitch_disabled", False)),
            max_duration=int(data.get("max_video_post_duration_sec") or 0),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "nickname": self.nickname,
            "privacy_options": list(self.privacy_options),
            "comment_disabled": self.comment_disabled,
            "duet_disabled": self.duet_disabled,
            "stitch_disabled": self.stitch_disabled,
            "max_duration": self.max_duration,
        }

    def refusal(self, post: TikTokPost, duration: float) -> str | None:
        """Why this creator cannot take this post now, or None."""
        if post.privacy is not None and post.privacy.value not in self.privacy_options:
            allowed = ", ".join(self.privacy_options) or "none"
            return (
                f"@{self.username} cannot post as {post.privacy.value} — TikTok offers "
                f"{allowed} for this account; an app TikTok has not audited posts only as "
                "SELF_ONLY (Only me)"
            )
        if self.max_duration and duration > self.max_duration:
            return (
                f"the video is {duration:.0f} s; TikTok lets @{self.username} post at most "
                f"{self.max_duration} s — shorten the row's script or duration"
            )
        return None
