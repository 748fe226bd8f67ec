"""One item from idea to files: the stages in order, each checkpointed so a retry resumes.

The work folder holds each finished stage's files and a manifest; the outputs appear in the
output folder only when whole (temporary names are renamed at the end of each writer).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import shutil
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from app.domain.estimate import STAGES
from app.domain.idea import Idea
from app.domain.output import Container, OutputConfig
from app.export import write_atomically
from app.paths import MUSIC_DIR
from app.pipeline import captions as captions_stage
from app.pipeline import encode as encode_stage
from app.pipeline import footage
from app.pipeline.errors import Canceled, RenderError
from app.pipeline.footage import FootageSettings
from app.pipeline.metadata import build_metadata
from app.pipeline.piper_voice import base_language
from app.pipeline.probe import container_problem
from app.pipeline.script import LLMSettings, prepare_script, search_phrases
from app.pipeline.speech import SpeechSettings, narrate, script_language
from app.pipeline.styles import pick_style
from app.pipeline.thumbnail import make_thumbnail
from app.pipeline.visuals import (
    VisualSettings,
    build_frames,
    choose_assets,
    keywords,
    pick_music,
    soundtrack,
)

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

    def fingerprint(self) -> str:
        data = asdict(self)
        data.pop("overwrite")
        data["footage"].pop("api_key")  # a secret: not even hashed into the checkpoint key
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
    return {
        "video": str(out_dir / f"{stem}{output.extension}"),
        "thumbnail": str(thumbnail),
        "captions": str(out_dir / f"{stem}.srt"),
        "metadata": str(metadata),
        "duration": duration,
    }


class _Checkpoints:
    """The manifest of finished stages in a work folder."""

    def __init__(self, workdir: Path, key: str) -> None:
        self.file = workdir / "manifest.json"
        self.key = key
        data: dict[str, Any] = {}
        if self.file.exists():
            try:
                data = json.loads(self.file.read_text())
            except (OSError, ValueError):
                data = {}
        self.stages: dict[str, Any] = data.get("stages", {}) if data.get("key") == key else {}

    def done(self, stage: str) -> Any:
        return self.stages.get(stage)

    def save(self, stage: str, value: Any) -> None:
        self.stages[stage] = value
        write_atomically(self.file, json.dumps({"key": self.key, "stages": self.stages}, indent=1))


def render_item(
    idea: Idea,
    row: int,
    settings: RenderSettings,
    out_dir: Path,
    workdir: Path,
    progress: Progress = lambda _s, _f: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> RenderResult:
    """Render one idea; raises `RenderError` (with cause and fix) or `Canceled`."""
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
    checkpoints = _Checkpoints(workdir, key)
    resumed_from = next((s for s in STAGES if not checkpoints.done(s)), None)
    if resumed_from == STAGES[0] or not any(checkpoints.done(s) for s in STAGES):
        resumed_from = None
    warnings: list[str] = []
    marks: list[tuple[str, float]] = []  # (stage, when it began)

    def stage(name: str) -> Callable[[float], None]:
        if should_stop():
            raise Canceled
        marks.append((name, time.monotonic()))
        progress(name, 0.0)
        return lambda fraction: progress(name, fraction)

    # 1. Script
    sentences = checkpoints.done("script")
    if sentences is None:
        stage("script")
        sentences = prepare_script(idea, settings.llm)
        checkpoints.save("script", sentences)
    language = settings.language or script_language(" ".join(sentences)) or "en"
    wanted = keywords(idea.idea_title, idea.description, idea.tone, idea.target_audience)
    fetching = (
        _FootageWork(settings, sentences, config.size, wanted, checkpoints.done("footage"))
        if settings.footage.online
        else None
    )

    # 2. Speech
    speech = checkpoints.done("speech")
    if speech is None or not (workdir / "voice.wav").exists():
        report = stage("speech")
        speaking = replace(
            settings.speech,
            rate_wpm=style.voice_rate or settings.speech.rate_wpm,
            pitch=style.voice_pitch,
        )
        narration = narrate(
            sentences, idea.voice_preference, speaking, workdir, report,
            language=base_language(language),
        )  # fmt: skip
        speech = {
            "timings": narration.timings,
            "duration": narration.duration,
            "voice": narration.voice,
            "engine": narration.engine,
            "words": narration.words,
        }
        warnings += narration.warnings
        checkpoints.save("speech", speech)
    timings = [tuple(t) for t in speech["timings"]]
    intro, outro = style.intro_seconds, style.outro_seconds
    duration_frames = math.ceil((intro + speech["duration"] + outro) * config.fps)
    duration = duration_frames / config.fps

    # 3. Captions
    layout = captions_stage.Layout.for_frame(config.size, style)
    cues = captions_stage.plan_cues(
        sentences,
        timings,
        style,
        layout,
        offset=intro,
        word_highlight=settings.visuals.word_highlight,
        words=speech.get("words"),
        mode=settings.visuals.captions,
    )
    srt_work = workdir / "captions.srt"
    if checkpoints.done("captions") is None or not srt_work.exists():
        stage("captions")
        write_atomically(srt_work, captions_stage.srt_text(cues))
        checkpoints.save("captions", {"srt": srt_work.name})

    # 4. Visuals and soundtrack
    soundtrack_path = workdir / "soundtrack.wav"
    if checkpoints.done("visuals") is None or not soundtrack_path.exists():
        stage("visuals")
        music = pick_music(settings.visuals.music_dir, style.music, idea.idea_title)
        total_samples = round(duration * 48_000)
        warnings += soundtrack(
            workdir / "voice.wav",
            timings,
            intro=intro,
            total_samples=total_samples,
            music=music,
            music_level_db=style.music_level_db,
            out=soundtrack_path,
        )
        checkpoints.save("visuals", {"music": music.name if music else None})
    shots, footage_notes = (
        fetching.shots(timings, (intro, duration), checkpoints) if fetching else ([], [])
    )
    warnings += footage_notes
    frames = build_frames(
        title=idea.idea_title,
        cues=cues,
        style=style,
        layout=layout,
        settings=settings.visuals,
        narration_span=(intro, intro + speech["duration"]),
        duration=duration,
        fps=config.fps,
        keywords_of_idea=wanted,
        workdir=workdir,
        shots=[(s.start, s.end, s.path) for s in shots] if shots else None,
    )

    # 5. Encode — beside the destination, under a hidden name until everything is done
    encoded = out_dir / f".{stem}.encoded{config.extension}"
    if checkpoints.done("encode") is None or not _sound(encoded, duration, config):
        report = stage("encode")
        encoder = None
        if settings.hardware_encoding and settings.encoder_cache is not None:
            encoder = encode_stage.detect_hardware(config.video_codec, settings.encoder_cache)
        encode_stage.encode(
            frames,
            duration_frames,
            soundtrack_path,
            config,
            encoded,
            encoder=encoder,
            progress=report,
            stop=should_stop,
        )
        checkpoints.save("encode", {"video": encoded.name, "encoder": encoder or "software"})

    # 6. Thumbnail
    done = checkpoints.done("thumbnail")
    thumb_work = workdir / (done["file"] if done else "thumbnail.png")
    if done is None or not thumb_work.exists():
        stage("thumbnail")
        images = [
            p
            for p in choose_assets(settings.visuals.assets_dir, wanted, 3)
            if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"}
        ]
        thumb_work = make_thumbnail(
            idea.idea_title, style, workdir / "thumbnail.png", images[0] if images else None
        )
        checkpoints.save("thumbnail", {"file": thumb_work.name})
    thumbnail = out_dir / f"{stem}{thumb_work.suffix}"
    srt_path = out_dir / f"{stem}.srt"
    metadata_path = out_dir / f"{stem}.json"

    # 7. Metadata
    stage("metadata")
    metadata = build_metadata(
        idea,
        sentences=sentences,
        starts=[intro + s for s, _e in timings],
        duration=duration,
        intro=intro,
        language=language,
        made_for_kids=settings.made_for_kids,
        category_id=settings.category_id,
        files={"video": video.name, "thumbnail": thumbnail.name, "captions": srt_path.name},
        credits=footage.credits(shots),
    )
    metadata["voice"] = {"engine": speech.get("engine"), "voice": speech.get("voice")}  # who spoke
    if shots:
        metadata["footage"] = [shot.clip.to_dict() for shot in shots]
    if warnings:
        metadata["notes"] = warnings
    meta_work = workdir / "metadata.json"
    write_atomically(meta_work, json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    checkpoints.save("metadata", {"file": meta_work.name})

    # Publish: sidecars first, the video last — its final name means "done".
    for source, target in (
        (srt_work, srt_path),
        (thumb_work, thumbnail),
        (meta_work, metadata_path),
    ):
        _publish(source, target, copy=True)
    _publish(encoded, video, copy=False)
    shutil.rmtree(workdir, ignore_errors=True)
    progress("metadata", 1.0)
    ended = time.monotonic()
    ends = [when for _name, when in marks[1:]] + [ended]
    measure = {
        "words": sum(len(sentence.split()) for sentence in sentences),
        "sentences": len(sentences),
        "narration": round(float(speech["duration"]), 2),
        "wpm": style.voice_rate or settings.speech.rate_wpm,
        "pause": settings.speech.pause_seconds,
        "engine": speech.get("engine"),
        "resolution": config.resolution.value,
        "vertical": config.vertical,
        "optimize": config.optimize.value,
        "stages": {
            name: round(end - began_at, 2)
            for (name, began_at), end in zip(marks, ends, strict=True)
        },
    }
    return RenderResult(
        video,
        thumbnail,
        srt_path,
        metadata_path,
        duration,
        round(time.monotonic() - began, 2),
        resumed_from,
        warnings,
        footage.credits(shots),
        measure,
    )


class _FootageWork:
    """Footage chosen and fetched on a daemon thread while the voice is made (a stopped
    render does not wait for it). Picks: (scene, clip, file)."""

    def __init__(
        self, settings: RenderSettings, sentences: Sequence[str], size: tuple[int, int],
        wanted: set[str], saved: Any,
    ) -> None:  # fmt: skip
        self.groups = footage.group_sentences(sentences, 60.0 / settings.speech.rate_wpm)
        self.picked: list[tuple[int, footage.Clip, Path]] = []
        self.notes: list[str] = []
        self.fetched = saved is not None
        if saved is not None:
            self.picked = [(p["scene"], footage.Clip(**p["clip"]), Path(p["path"]))
                           for p in saved["picked"]]  # fmt: skip
            self.notes = saved["notes"]
            self.fetched = all(path.exists() for _s, _c, path in self.picked)
        self.thread: threading.Thread | None = None
        if not self.fetched:
            texts = [" ".join(sentences[n] for n in group) for group in self.groups]
            self.thread = threading.Thread(
                target=self._fetch, args=(settings, texts, size, wanted), daemon=True
            )
            self.thread.start()

    def _fetch(
        self, settings: RenderSettings, texts: list[str], size: tuple[int, int], wanted: set[str]
    ) -> None:
        width, height = size
        try:
            phrases, said = _search_phrases(settings, texts)
            self.picked, self.notes = footage.plan_shots(
                settings.footage, texts, portrait=height > width, need=max(width, height),
                idea_words=wanted, words=keywords, phrases=phrases,
            )  # fmt: skip
            self.notes = said + self.notes
        except footage.FootageUnavailable as exc:
            instead = (
                "the assets folder" if settings.visuals.assets_dir else "the style's background"
            )
            self.notes = [f"no stock footage: {exc} — used {instead}"]
        except Exception as exc:  # a bug here must not fail the render: logged, and said
            log.exception("choosing stock footage failed")
            self.notes = [f"no stock footage: internal error ({type(exc).__name__})"]

    def shots(
        self, timings: Sequence[tuple[float, float]], span: tuple[float, float],
        checkpoints: _Checkpoints,
    ) -> tuple[list[footage.Shot], list[str]]:  # fmt: skip
        """Once the voice is made: the picks on its timeline (saved for a resumed render)."""
        if self.thread is not None:
            self.thread.join()
            if self.picked:
                checkpoints.save("footage", {
                    "picked": [{"scene": s, "clip": c.to_dict(), "path": str(p)}
                               for s, c, p in self.picked],
                    "notes": self.notes,
                })  # fmt: skip
        return footage.place(self.groups, self.picked, timings, span), self.notes


def _search_phrases(
    settings: RenderSettings, texts: Sequence[str]
) -> tuple[list[str | None], list[str]]:
    """Search phrases from the language model when one is configured, and a note when it could
    not help (footage is then searched by the sentences' key words)."""
    if settings.llm is None or not settings.footage.api_key:
        return [], []
    try:
        return search_phrases(texts, settings.llm), []
    except RenderError as exc:
        return [], [f"footage searched by key words: {exc}"]


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


def _sound(video: Path, duration: float, config: OutputConfig) -> bool:
    """Whether an earlier attempt's encoded video is there and whole (else it is made again)."""
    if not video.exists():
        return False
    problem = container_problem(video, duration, matroska=config.container is Container.WEBM)
    if problem is None:
        return True
    log.warning("%s is not sound (%s): encoding it again", video.name, problem)
    video.unlink(missing_ok=True)
    return False


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
