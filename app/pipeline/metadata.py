"""Upload metadata: title, description with chapters, tags and the rest, within YouTube's limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.domain.idea import MAX_DESCRIPTION_BYTES, MAX_TITLE_CHARS, Idea
from app.domain.publishing import tags_length
from app.pipeline.visuals import keywords

MIN_CHAPTERS, MIN_CHAPTER_SECONDS, MIN_VIDEO_FOR_CHAPTERS = 3, 10.0, 60.0
MAX_TAG_CHARS = 500


def clean_title(title: str) -> str:
    text = " ".join(title.replace("<", "").replace(">", "").split())
    if len(text) <= MAX_TITLE_CHARS:
        return text
    cut = text[:MAX_TITLE_CHARS].rsplit(" ", 1)[0]
    return cut or text[:MAX_TITLE_CHARS]


def clip_bytes(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore").rstrip()


def timestamp(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def chapters(
    sentences: Sequence[str], starts: Sequence[float], duration: float, intro: float
) -> list[dict[str, Any]]:
    """Chapters at sentence starts, each at least 10 s, the first at 0:00; [] if too short."""
    if duration < MIN_VIDEO_FOR_CHAPTERS or not sentences:
        return []
    marks: list[dict[str, Any]] = [
        {"start": 0.0, "title": "Intro" if intro > 0 else _label(sentences[0])}
    ]
    for sentence, start in zip(sentences, starts, strict=True):
        if (
            start - marks[-1]["start"] >= MIN_CHAPTER_SECONDS
            and duration - start >= MIN_CHAPTER_SECONDS
        ):
            marks.append({"start": round(start, 3), "title": _label(sentence)})
    return marks if len(marks) >= MIN_CHAPTERS else []


def _label(sentence: str, limit: int = 48) -> str:
    text = sentence.rstrip(".!?…。！？")
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def build_metadata(
    idea: Idea,
    *,
    sentences: Sequence[str],
    starts: Sequence[float],
    duration: float,
    intro: float,
    language: str,
    made_for_kids: bool,
    category_id: str,
    files: dict[str, str],
    credits: Sequence[str] = (),
) -> dict[str, Any]:
    marks = chapters(sentences, starts, duration, intro)
    description = idea.description.strip()
    if credits:  # the stock providers' terms ask for it; before chapters, so never clipped
        description = (description + "\n\nFootage:\n" + "\n".join(credits)).strip()
    if marks:
        listing = "\n".join(f"{timestamp(m['start'])} {m['title']}" for m in marks)
        description = f"{description}\n\nChapters:\n{listing}".strip()
    tags: list[str] = []
    for word in sorted(
        keywords(idea.idea_title, idea.description, idea.target_audience, idea.tone)
    ):
        if tags_length([*tags, word]) > MAX_TAG_CHARS:  # as YouTube counts them
            break
        tags.append(word)
    return {
        "title": clean_title(idea.idea_title),
        "description": clip_bytes(description, MAX_DESCRIPTION_BYTES),
        "tags": tags,
        "duration_seconds": round(duration, 3),
        "language": language,
        "made_for_kids": made_for_kids,
        "category_id": category_id,
        "chapters": marks,
        "platforms": list(idea.platform_preferences),
        "files": files,
    }
