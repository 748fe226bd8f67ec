"""The seven stages of a render — script, speech, captions, visuals (with the soundtrack),
encode, thumbnail, metadata — each a `Stage` the render runs in order under one checkpoint
rule: a stage whose checkpoint is saved and whose files are whole is not run again (a retry
resumes after the last whole stage); one that runs saves its checkpoint when it is done.

Every stage reads and adds to one `Work`: the idea, the settings and what earlier stages made.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.domain.idea import Idea
from app.domain.output import Container, OutputConfig
from app.export import write_atomically
from app.pipeline import captions as captions_stage
from app.pipeline import encode as encode_stage
from app.pipeline import footage
from app.pipeline.errors import Canceled, RenderError
from app.pipeline.media import run_ffmpeg
from app.pipeline.metadata import build_metadata
from app.pipeline.piper_voice import base_language
from app.pipeline.probe import container_problem
from app.pipeline.script import prepare_script, search_phrases
from app.pipeline.soundtrack import pick_music, soundtrack
from app.pipeline.speech import narrate, script_language
from app.pipeline.styles import Style
from app.pipeline.thumbnail import make_thumbnail
from app.pipeline.visuals import build_frames, choose_assets, keywords

if TYPE_CHECKING:
    from app.pipeline.render import RenderSettings

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
Report = Callable[[float], None]


class Checkpoints:
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


@dataclass
class Work:
    """One render under way: what it was given, and what each stage has made so far."""

    idea: Idea
    settings: RenderSettings
    config: OutputConfig
    style: Style
    out_dir: Path
    workdir: Path
    stem: str
    checkpoints: Checkpoints
    progress: Progress
    should_stop: Callable[[], bool]
    warnings: list[str] = field(default_factory=list)
    marks: list[tuple[str, float]] = field(default_factory=list)  # (stage, when it began)
    sentences: list[str] = field(default_factory=list)
    language: str = "en"
    wanted: set[str] = field(default_factory=set)
    fetching: FootageWork | None = None
    speech: dict[str, Any] = field(default_factory=dict)
    timings: list[tuple[float, float]] = field(default_factory=list)
    intro: float = 0.0
    duration_frames: int = 0
    duration: float = 0.0
    layout: Any = None
    cues: list[Any] = field(default_factory=list)
    shots: list[footage.Shot] = field(default_factory=list)
    frames: Any = None
    thumbnail: Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def begin(self, name: str) -> Report:
        """A stage starts: stopped here when asked to; timed; its progress reported."""
        if self.should_stop():
            raise Canceled
        self.marks.append((name, time.monotonic()))
        self.progress(name, 0.0)
        return lambda fraction: self.progress(name, fraction)

    def file(self, name: str) -> Path:
        return self.workdir / name

    @property
    def srt(self) -> Path:
        return self.workdir / "captions.srt"

    @property
    def soundtrack(self) -> Path:
        return self.workdir / "soundtrack.wav"

    @property
    def encoded(self) -> Path:
        """The video beside its destination, under a hidden name until everything is done."""
        return self.out_dir / f".{self.stem}.encoded{self.config.extension}"


@dataclass(frozen=True, slots=True)
class Stage:
    """A step of the render. ``whole(work, saved)``: whether the files its saved checkpoint
    names are all there; ``run(work, report)`` does the work and returns what to save;
    ``take(work, saved)`` puts what was saved (now or by an earlier attempt) into the work;
    ``before(work)`` computes what the check needs, every time."""

    name: str
    run: Callable[[Work, Report], Any]
    take: Callable[[Work, Any], None] = lambda _work, _saved: None
    whole: Callable[[Work, Any], bool] = lambda _work, _saved: True
    before: Callable[[Work], None] = lambda _work: None
    always: bool = False  # run on every attempt (nothing worth resuming from)


def run_stages(work: Work, stages: Sequence[Stage]) -> None:
    """Each stage in order, under the one checkpoint rule."""
    for stage in stages:
        stage.before(work)
        saved = work.checkpoints.done(stage.name)
        if stage.always or saved is None or not stage.whole(work, saved):
            saved = stage.run(work, work.begin(stage.name))
            work.checkpoints.save(stage.name, saved)
        stage.take(work, saved)


# 1. Script


def _write_script(work: Work, _report: Report) -> list[str]:
    return prepare_script(work.idea, work.settings.llm)


def _take_script(work: Work, sentences: list[str]) -> None:
    work.sentences = list(sentences)
    settings, idea = work.settings, work.idea
    work.language = settings.language or script_language(" ".join(sentences)) or "en"
    work.wanted = keywords(idea.idea_title, idea.description, idea.tone, idea.target_audience)
    if settings.footage.online:  # chosen and fetched while the voice is made
        saved = work.checkpoints.done("footage")
        work.fetching = FootageWork(settings, sentences, work.config.size, work.wanted, saved)


# 2. Speech


def _speak(work: Work, report: Report) -> dict[str, Any]:
    style, settings = work.style, work.settings
    speaking = replace(
        settings.speech,
        rate_wpm=style.voice_rate or settings.speech.rate_wpm,
        pitch=style.voice_pitch,
    )
    narration = narrate(
        work.sentences, work.idea.voice_preference, speaking, work.workdir, report,
        language=base_language(work.language),
    )  # fmt: skip
    work.warnings += narration.warnings
    return {
        "timings": narration.timings,
        "duration": narration.duration,
        "voice": narration.voice,
        "engine": narration.engine,
        "words": narration.words,
    }


def _take_speech(work: Work, speech: dict[str, Any]) -> None:
    work.speech = speech
    work.timings = [(float(a), float(b)) for a, b in speech["timings"]]
    work.intro = work.style.intro_seconds
    total = work.intro + speech["duration"] + work.style.outro_seconds
    work.duration_frames = math.ceil(total * work.config.fps)
    work.duration = work.duration_frames / work.config.fps


# 3. Captions


def _plan_captions(work: Work) -> None:
    work.layout = captions_stage.Layout.for_frame(work.config.size, work.style)
    work.cues = captions_stage.plan_cues(
        work.sentences,
        work.timings,
        work.style,
        work.layout,
        offset=work.intro,
        word_highlight=work.settings.visuals.word_highlight,
        words=work.speech.get("words"),
        mode=captions_stage.caption_mode(work.settings.visuals.captions, work.config.vertical),
    )


def _write_captions(work: Work, _report: Report) -> dict[str, str]:
    write_atomically(work.srt, captions_stage.srt_text(work.cues))
    return {"srt": work.srt.name}


# 4. Visuals and soundtrack


def _mix(work: Work, _report: Report) -> dict[str, Any]:
    visuals = work.settings.visuals
    music = pick_music(visuals.music_dir, work.style.music, work.idea.idea_title)
    work.warnings += soundtrack(
        work.file("voice.wav"),
        work.timings,
        intro=work.intro,
        total_samples=round(work.duration * 48_000),
        music=music,
        music_level_db=work.style.music_level_db,
        out=work.soundtrack,
    )
    return {"music": music.name if music else None}


def _take_visuals(work: Work, _saved: Any) -> None:
    """The pictures over the voice: stock footage when it was found, else the assets or the
    style's background (frames are drawn as the encoder asks for them)."""
    span = (work.intro, work.duration)
    if work.fetching is not None:
        work.shots, notes = work.fetching.shots(work.timings, span, work.checkpoints)
        work.warnings += notes
    work.frames = build_frames(
        title=work.idea.idea_title,
        cues=work.cues,
        style=work.style,
        layout=work.layout,
        settings=work.settings.visuals,
        narration_span=(work.intro, work.intro + work.speech["duration"]),
        duration=work.duration,
        fps=work.config.fps,
        keywords_of_idea=work.wanted,
        workdir=work.workdir,
        shots=[(s.start, s.end, s.path) for s in work.shots] if work.shots else None,
        moving=work.fetching is not None,  # pictures were wanted: what is missing moves
    )


# 5. Encode


def _encode(work: Work, report: Report) -> dict[str, str]:
    settings, config = work.settings, work.config
    encoder = None
    if settings.hardware_encoding and settings.encoder_cache is not None:
        encoder = encode_stage.detect_hardware(config.video_codec, settings.encoder_cache)
    encode_stage.encode(
        work.frames,
        work.duration_frames,
        work.soundtrack,
        config,
        work.encoded,
        encoder=encoder,
        progress=report,
        stop=work.should_stop,
    )
    return {"video": work.encoded.name, "encoder": encoder or "software"}


# 6. Thumbnail


def _draw_thumbnail(work: Work, _report: Report) -> dict[str, str]:
    made = make_thumbnail(
        work.idea.idea_title, work.style, work.file("thumbnail.png"), _cover_picture(work)
    )
    return {"file": made.name}


def _cover_picture(work: Work) -> Path | None:
    """The thumbnail's picture: the video's first (a frame from it when it is a clip), else
    the assets folder's best match for the idea, else none (the style's colours)."""
    for shot in work.shots[:3]:
        if shot.clip.kind != "video":
            return shot.path
        frame = work.file("cover.jpg")
        at = min(1.0, max(shot.clip.duration / 3, 0.0))
        try:
            run_ffmpeg(["-ss", f"{at:.2f}", "-i", str(shot.path), "-frames:v", "1", str(frame)])
        except RenderError as exc:
            log.warning("no frame for the thumbnail from %s: %s", shot.path.name, exc)
            continue
        if frame.exists():
            return frame
    images = [
        p
        for p in choose_assets(work.settings.visuals.assets_dir, work.wanted, 3)
        if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"}
    ]
    return images[0] if images else None


def _take_thumbnail(work: Work, saved: dict[str, str]) -> None:
    work.thumbnail = work.file(saved["file"])


# 7. Metadata


def _describe(work: Work, _report: Report) -> dict[str, str]:
    idea, settings, speech = work.idea, work.settings, work.speech
    assert work.thumbnail is not None
    metadata = build_metadata(
        idea,
        sentences=work.sentences,
        starts=[work.intro + s for s, _e in work.timings],
        duration=work.duration,
        intro=work.intro,
        language=work.language,
        made_for_kids=settings.made_for_kids,
        category_id=settings.category_id,
        files={
            "video": f"{work.stem}{work.config.extension}",
            "thumbnail": f"{work.stem}{work.thumbnail.suffix}",
            "captions": f"{work.stem}.srt",
        },
        credits=footage.credits(work.shots),
    )
    metadata["voice"] = {"engine": speech.get("engine"), "voice": speech.get("voice")}  # who spoke
    if work.shots:
        metadata["footage"] = [  # each picture, and when it is on screen
            {**shot.clip.to_dict(), "shown": [round(shot.start, 2), round(shot.end, 2)]}
            for shot in work.shots
        ]
    if work.warnings:
        metadata["notes"] = work.warnings
    path = work.file("metadata.json")
    write_atomically(path, json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    return {"file": path.name}


# 5b. A vertical copy, for platforms that want 9:16 (TikTok, Reels, Shorts)

VERTICAL = ".9x16"  # the copy's file name: {stem}.9x16.mp4


def vertical_work(work: Work) -> Work:
    """The same render turned to 9:16: its narration, timing and footage, its captions laid
    out again for a phone's frame."""
    sub = replace(work, config=replace(work.config, vertical=True), stem=work.stem + VERTICAL)
    _plan_captions(sub)
    return sub


def _encode_vertical(work: Work, report: Report) -> dict[str, str]:
    sub = vertical_work(work)
    _take_visuals(sub, None)
    _encode(sub, report)
    return {"video": sub.encoded.name}


def _vertical_whole(work: Work, saved: dict[str, str]) -> bool:
    return sound_video(work.out_dir / saved["video"], work.duration, vertical_work(work).config)


VERTICAL_STAGE = Stage("rendition", _encode_vertical, whole=_vertical_whole)


STAGE_PLAN: tuple[Stage, ...] = (
    Stage("script", _write_script, _take_script),
    Stage("speech", _speak, _take_speech, lambda w, _s: w.file("voice.wav").exists()),
    Stage("captions", _write_captions, whole=lambda w, _s: w.srt.exists(), before=_plan_captions),
    Stage("visuals", _mix, _take_visuals, lambda w, _s: w.soundtrack.exists()),
    Stage("encode", _encode, whole=lambda w, _s: sound_video(w.encoded, w.duration, w.config)),
    Stage("thumbnail", _draw_thumbnail, _take_thumbnail, lambda w, s: w.file(s["file"]).exists()),
    Stage("metadata", _describe, always=True),
)


class FootageWork:
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
                folder=settings.visuals.assets_dir,
            )  # fmt: skip
            self.notes = said + self.notes
        except footage.FootageUnavailable as exc:
            instead = (
                "the assets folder"
                if settings.visuals.assets_dir
                else "the style's colours in motion"
            )
            self.notes = [f"no pictures: {exc} — every scene shows {instead}"]
        except Exception as exc:  # a bug here must not fail the render: logged, and said
            log.exception("choosing stock footage failed")
            self.notes = [f"no pictures: internal error ({type(exc).__name__})"]

    def shots(
        self, timings: Sequence[tuple[float, float]], span: tuple[float, float],
        checkpoints: Checkpoints,
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
    if settings.llm is None or not settings.footage.online:
        return [], []
    try:
        return search_phrases(texts, settings.llm), []
    except RenderError as exc:
        return [], [f"footage searched by key words: {exc}"]


def sound_video(video: Path, duration: float, config: OutputConfig) -> bool:
    """Whether an earlier attempt's encoded video is there and whole (else it is made again)."""
    if not video.exists():
        return False
    problem = container_problem(video, duration, matroska=config.container is Container.WEBM)
    if problem is None:
        return True
    log.warning("%s is not sound (%s): encoding it again", video.name, problem)
    video.unlink(missing_ok=True)
    return False
