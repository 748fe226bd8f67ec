"""One item from idea to files: the stages in order, each checkpointed so a retry resumes.

The work folder holds each finished stage's files and a manifest; the outputs appear in the
output folder only when whole (temporary names are renamed at the end of each writer).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from app.domain.estimate import STAGES
from app.domain.idea import Idea
from app.domain.output import OutputConfig
from app.paths import MUSIC_DIR
from app.pipeline import footage
from app.pipeline.errors import RenderError
from app.pipeline.footage import FootageSettings
from app.pipeline.script import LLMSettings
from app.pipeline.speech import SpeechSettings
from app.pipeline.stages import STAGE_PLAN, VERTICAL, VERTICAL_STAGE, Checkpoints, Work, run_stages
from app.pipeline.styles import pick_style
from app.pipeline.visuals import VisualSettings

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]


class AlreadyRendered(RenderError):
    """The output exists and overwriting was not asked for."""


@dataclass(frozen=True, slots=True)
class RenderSettings:
    output: OutputConfig = field(default_factory=OutputConfig)
    style: str = ""  # empty: the row's style, else `default_style`
    default_style: str = "modern"
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    visuals: VisualSettings = field(default_factory=lambda: VisualSettings(music_dir=MUSIC_DIR))
    footage: FootageSettings = field(default_factory=FootageSettings)
    llm: LLMSettings | None = None
    template_dir: Path | None = None
    hardware_encoding: bool = True
    encoder_cache: Path | None = None
    language: str = ""  # empty: from the script's letters
    made_for_kids: bool = False
    category_id: str = "27"  # Education
    overwrite: bool = False
    # Also a 9:16 copy (TikTok, Reels, Shorts want one) when the job's own shape is not.
    vertical_too: bool = False

    def fingerprint(self) -> str:
        data = asdict(self)
        data.pop("overwrite")
        data["footage"].pop("api_key")  # a secret: not even hashed into the checkpoint key
        data["speech"]["endpoint"].pop("key")
        data["footage"]["chain"] = [provider for provider, _key in self.footage.chain]
        return json.dumps(data, sort_keys=True, default=str)


@dataclass(slots=True)
class RenderResult:
    video: Path
    thumbnail: Path
    captions: Path
    metadata: Path
    duration: float
    seconds: float
    resumed_from: str | None
    warnings: list[str]
    credits: list[str] = field(default_factory=list)  # the stock clips used, whom to thank
    renditions: dict[str, str] = field(default_factory=dict)  # "9:16": the vertical copy
    # What estimates learn from: the narration (words, sentences, seconds, at what rate), the
    # shape and preset it was made at, and the seconds each stage took.
    measure: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}

    @property
    def files(self) -> list[Path]:
        return [self.video, self.thumbnail, self.captions, self.metadata]


SLUG_BYTES = 150  # a file name's stem, with room for suffixes in a 255-byte name


def slug(text: str, limit: int = 60) -> str:
    """A readable file-name part from a title: Latin letters lose their accents ("Café" →
    "cafe"), other scripts keep their letters ("مرحبا بالعالم" → "مرحبا-بالعالم"),
    everything else (punctuation, emoji, separators) becomes a hyphen."""
    kept = []
    for char in unicodedata.normalize("NFC", text):
        if not char.isascii():
            plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            char = plain or char
        for c in char:
            kept.append(c if unicodedata.category(c)[0] in "LMN" else "-")
    cleaned = re.sub(r"-+", "-", "".join(kept)).strip("-").lower()[:limit].rstrip("-")
    while len(cleaned.encode("utf-8")) > SLUG_BYTES:
        cleaned = cleaned[:-1].rstrip("-")
    return cleaned or "video"


def output_stem(row: int, idea: Idea) -> str:
    return f"{row:03d}-{slug(idea.idea_title)}"


def existing_outputs(out_dir: Path, row: int, idea: Idea, output: OutputConfig) -> dict[str, Any]:
    """The files an earlier, complete render of this row left (its video exists), as the
    engine records outputs: after a crash between publishing the files and recording them."""
    stem = output_stem(row, idea)
    thumbnail = next(
        (p for p in (out_dir / f"{stem}.png", out_dir / f"{stem}.jpg") if p.exists()),
        out_dir / f"{stem}.png",
    )
    metadata = out_dir / f"{stem}.json"
    try:
        duration = float(json.loads(metadata.read_text(encoding="utf-8"))["duration_seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        duration = 0.0
    found: dict[str, Any] = {
        "video": str(out_dir / f"{stem}{output.extension}"),
        "thumbnail": str(thumbnail),
        "captions": str(out_dir / f"{stem}.srt"),
        "metadata": str(metadata),
        "duration": duration,
    }
    vertical = out_dir / f"{stem}{VERTICAL}{output.extension}"
    if vertical.exists():
        found["renditions"] = {"9:16": str(vertical)}
    return found


def render_item(
    idea: Idea,
    row: int,
    settings: RenderSettings,
    out_dir: Path,
    workdir: Path,
    progress: Progress = lambda _s, _f: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> RenderResult:
    """Render one idea through the stages of `app.pipeline.stages` (a retry resumes after
    the last whole one); the files appear under their final names only when all are made.
    Raises `RenderError` (with cause and fix) or `Canceled`."""
    began = time.monotonic()
    config = settings.output.checked()
    style = pick_style(
        settings.style or idea.style_override or settings.default_style, settings.template_dir
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = output_stem(row, idea)
    video = out_dir / f"{stem}{config.extension}"
    if video.exists() and not settings.overwrite:
        raise AlreadyRendered(f"{video.name} already exists — pass --overwrite to render it again")
    remove_partials(out_dir, stem)  # an attempt that died (its writers were stopped with it)
    _check_space(out_dir, config)
    key = hashlib.sha1(f"{idea.to_dict()}|{settings.fingerprint()}".encode()).hexdigest()
    workdir.mkdir(parents=True, exist_ok=True)
    checkpoints = Checkpoints(workdir, key)
    resumed_from = next((s for s in STAGES if not checkpoints.done(s)), None)
    if resumed_from == STAGES[0] or not any(checkpoints.done(s) for s in STAGES):
        resumed_from = None
    work = Work(
        idea, settings, config, style, out_dir, workdir, stem, checkpoints, progress, should_stop
    )
    plan = STAGE_PLAN
    if settings.vertical_too and not config.vertical:  # after the encode, before the rest
        at = [stage.name for stage in plan].index("encode") + 1
        plan = (*plan[:at], VERTICAL_STAGE, *plan[at:])
    run_stages(work, plan)
    result = _put_in_place(work, video)
    progress("metadata", 1.0)
    return replace(
        result, seconds=round(time.monotonic() - began, 2), resumed_from=resumed_from,
        measure=_measure(work),
    )  # fmt: skip


def _put_in_place(work: Work, video: Path) -> RenderResult:
    """The files under their final names — sidecars first, the video last: its final name
    means "done" — and the work folder gone."""
    out, stem = work.out_dir, work.stem
    assert work.thumbnail is not None
    thumbnail, captions, metadata = (
        out / f"{stem}{work.thumbnail.suffix}", out / f"{stem}.srt", out / f"{stem}.json"
    )  # fmt: skip
    for source, target in (
        (work.srt, captions),
        (work.thumbnail, thumbnail),
        (work.file("metadata.json"), metadata),
    ):
        _publish(source, target, copy=True)
    renditions = {}
    if work.checkpoints.done("rendition"):
        copy = out / f"{stem}{VERTICAL}{video.suffix}"
        _publish(out / work.checkpoints.done("rendition")["video"], copy, copy=False)
        renditions["9:16"] = str(copy)
    _publish(work.encoded, video, copy=False)  # last: its final name means "done"
    shutil.rmtree(work.workdir, ignore_errors=True)
    credits = footage.credits(work.shots)
    return RenderResult(
        video, thumbnail, captions, metadata, work.duration, 0.0, None, work.warnings, credits,
        renditions,
    )  # fmt: skip


def _measure(work: Work) -> dict[str, Any]:
    """What estimates learn from: the narration, the shape and preset, each stage's seconds."""
    ends = [when for _name, when in work.marks[1:]] + [time.monotonic()]
    config, speech, settings = work.config, work.speech, work.settings
    return {
        "words": sum(len(sentence.split()) for sentence in work.sentences),
        "sentences": len(work.sentences),
        "narration": round(float(speech["duration"]), 2),
        "wpm": work.style.voice_rate or settings.speech.rate_wpm,
        "pause": settings.speech.pause_seconds,
        "engine": speech.get("engine"),
        "resolution": config.resolution.value,
        "vertical": config.vertical,
        "optimize": config.optimize.value,
        "stages": {
            name: round(end - began_at, 2)
            for (name, began_at), end in zip(work.marks, ends, strict=True)
        },
    }


def remove_partials(out_dir: Path, stem: str, *, every: bool = False) -> list[Path]:
    """Delete the temporary files a render of ``stem`` may have left in ``out_dir`` — with
    ``every``, its finished but unpublished encode too (hidden names only: never a video
    under its final name)."""
    removed = []
    for path in out_dir.glob(f".{stem}.*"):
        if ".part" in path.name or every:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _publish(source: Path, target: Path, *, copy: bool) -> None:
    """Put a finished file under its final name in one rename (copying first if asked)."""
    if copy:
        temp = target.with_name(f".{target.name}.part")
        shutil.copyfile(source, temp)
        temp.replace(target)
    else:
        source.replace(target)


def _check_space(folder: Path, config: OutputConfig) -> None:
    """Refuse to start when the output folder's disk is nearly full."""
    needed = {"720p": 200, "1080p": 400, "4k": 1500}[config.resolution.value] * 1024 * 1024
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise RenderError(
            f"only {free // (1024 * 1024)} MB free in {folder} — free at least "
            f"{needed // (1024 * 1024)} MB, or choose another output folder"
        )
