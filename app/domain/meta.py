"""Instagram's and Facebook's rules for Reels, as Meta documents them: caption limits, the
lengths each accepts, the daily publishing limits. Pure functions; `app.publish.meta` acts on
them."""

from __future__ import annotations

import re

CAPTION_CHARS = 2200  # an Instagram caption
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
INSTAGRAM_SECONDS = (3, 15 * 60)  # a Reel: 3 s to 15 min
FACEBOOK_SECONDS = (3, 90)  # a Facebook Reel: 3 to 90 s
FACEBOOK_DAILY = 30  # Reels a Page may publish through the API in 24 hours
INSTAGRAM_DAILY = 50  # the usual quota_total; the account's own is read before each post
SCOPES = (
    "instagram_basic",
    "instagram_content_publish",
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "business_management",
)

_HASHTAG = re.compile(r"(?<!\w)#\w+")
_MENTION = re.compile(r"(?<!\w)@[\w.]+")


def instagram_caption(title: str, description: str, tags: list[str]) -> str:
    """The title, the description (without its chapters) and hashtags, within Instagram's
    2,200 characters, 30 hashtags and 20 @mentions: extra hashtags and mentions lose their
    sign (they stay words), the text is cut at a word."""
    body = description.split("\n\nChapters:")[0].strip()
    text = "\n\n".join(p for p in (title.strip(), body) if p)
    hashtags = ["#" + "".join(t.split()) for t in tags if t.strip()]
    room = MAX_HASHTAGS - len(_HASHTAG.findall(text))
    if hashtags and room > 0:
        text = f"{text}\n\n{' '.join(hashtags[:room])}"
    text = _keep_first(text, _HASHTAG, MAX_HASHTAGS, "#")
    text = _keep_first(text, _MENTION, MAX_MENTIONS, "@")
    if len(text) > CAPTION_CHARS:
        cut = text[: CAPTION_CHARS - 1]
        if " " in cut[-40:]:
            cut = cut[: cut.rfind(" ")]
        text = cut.rstrip() + "…"
    return text


def _keep_first(text: str, pattern: re.Pattern[str], limit: int, sign: str) -> str:
    seen = 0

    def keep(match: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        return match.group(0) if seen <= limit else match.group(0).removeprefix(sign)

    return pattern.sub(keep, text)


def length_refusal(platform: str, seconds: float) -> str | None:
    low, high = INSTAGRAM_SECONDS if platform == "instagram_reels" else FACEBOOK_SECONDS
    name = "an Instagram Reel" if platform == "instagram_reels" else "a Facebook Reel"
    if seconds and not low <= seconds <= high:
        limit = f"{high // 60} min" if high >= 120 else f"{high} s"
        return f"the video is {seconds:.0f} s; {name} is {low} s to {limit}"
    return None


def video_refusal(
    platform: str, suffix: str, codec: str, width: int, height: int, fps: float
) -> str | None:
    """Why Meta would refuse this file for a Reel (its published specifications), or None:
    Instagram takes MP4 or MOV, H.264 or HEVC, 23–60 fps, at most 1920 pixels wide; Facebook
    takes 24–60 fps, at least 540×960, vertical."""
    if suffix.lower() not in (".mp4", ".mov"):
        return f"Reels are MP4 or MOV files, not {suffix or 'this file'}"
    if codec and codec not in ("h264", "hevc", "h265"):
        return f"Reels take H.264 or HEVC video, not {codec}"
    low = 23 if platform == "instagram_reels" else 24
    if fps and not low <= fps <= 60:
        return f"the video runs at {fps:g} fps; Reels take {low} to 60"
    if platform == "instagram_reels" and width > 1920:
        return f"the video is {width} pixels wide; Instagram takes at most 1920"
    if platform == "facebook" and width and height and (width < 540 or height < 960):
        return f"the video is {width}×{height}; a Facebook Reel is at least 540×960 (9:16)"
    return None
