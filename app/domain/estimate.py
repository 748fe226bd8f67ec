"""What rendering will take — for a whole job before it starts (the wizard's Review step,
``jobs create --dry-run``) and for each video while it renders (the monitor's *Left*, a job's
*done about*).

Everything is learned from this computer's own finished renders; each records what it
narrated (words, sentences, seconds, at what rate), the shape and preset it was made at, the
seconds each stage took and the size of its file (`Measured`):

* **How long a video will be** — the narration is the script's words at the voice's measured
  pace, plus the pauses between sentences and the style's intro and outro. The sheet's
  duration cell is only used for a row without a script (the language model is asked for that
  length); nothing else enforces it.
* **How long it takes to render** — seconds of rendering per second of video at that
  resolution and preset; with renders of different lengths measured, a fixed cost per video
  plus a cost per second (a least-squares line), so that one long script is not priced like
  eight short ones. Another shape or preset measured here is scaled by pixels and preset; with
  nothing measured, a stated guess.
* **Time left in a running render** — the current stage's own progress rate (seconds so far
  ÷ fraction done), blended with what the stage was expected to take while its fraction is
  still small, plus what the stages after it took in measured renders.

Nothing here reads a clock: callers pass ``now``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.domain.sentences import split_sentences

# The render's stages, in order (the pipeline reports these names).
STAGES = ("script", "speech", "captions", "visuals", "encode", "thumbnail", "metadata")
# What each stage takes of a render when nothing was measured here (a 1080p Balanced render
# of the demo sheet on a 2-core machine: encoding is nearly all of it).
GUESSED_SHARES = {
    "script": 0.002,
    "speech": 0.025,
    "captions": 0.002,
    "visuals": 0.03,
    "encode": 0.92,
    "thumbnail": 0.01,
    "metadata": 0.011,
}
# Rendering seconds per second of video, 1080p Balanced, when nothing was rendered here: the
# demo sheet's eight videos took 0.70 on a 2-core machine; rounded up for slower computers.
GUESSED_PER_SECOND = 0.75
GUESSED_FIXED = 2.0  # seconds per video whatever its length: starting the render process
# How the cost of a second of video changes with the preset (x264's, relative to Balanced).
PRESET_COST = {"speed": 0.7, "balanced": 1.0, "quality": 1.9}
PIXELS = {"720p": 1280 * 720, "1080p": 1920 * 1080, "4k": 3840 * 2160}
# Bytes per second of video by resolution, x264 at the Balanced preset, over the style's own
# backgrounds (the demo sheet made 115 kB/s at 1080p); stock footage moves: several times more.
BYTES_PER_SECOND = {"720p": 70_000, "1080p": 130_000, "4k": 450_000}
FOOTAGE_BYTES = 5.0  # how much more a video over stock footage takes
EXTRA_FILES = 100_000  # thumbnail, captions, metadata, per video
UPLOAD_UNITS = 1_600  # videos.insert
DEFAULT_WPM = 165  # the speech.rate setting's default
PAUSE_SECONDS = 0.35  # between sentences
# espeak-ng speaks faster than its nominal rate: 0.32 s a word at 165 wpm (demo sheet), not 0.36.
GUESSED_PACE_FACTOR = 0.88
RECENT = 40  # renders the pace is learned from (the newest)
MIN_SPREAD = 1.5  # longest ÷ shortest measured video before a line is fitted


def _float(value: Any, default: float = 0.0) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


@dataclass(frozen=True, slots=True)
class Measured:
    """One finished render, as estimates learn from it."""

    video_seconds: float
    render_seconds: float  # the render's own wall time (not an upload after it)
    resolution: str = "1080p"
    optimize: str = "balanced"
    words: int = 0
    sentences: int = 0
    narration: float = 0.0  # seconds of speech, pauses included
    wpm: int = DEFAULT_WPM
    pause: float = PAUSE_SECONDS
    stages: Mapping[str, float] = field(default_factory=dict)
    size: int | None = None  # bytes of the video file, when it is still there

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any], size: int | None = None) -> Measured | None:
        """From an item's stored outputs (``outputs["measure"]``); None when it has none."""
        measure = outputs.get("measure")
        if not isinstance(measure, Mapping):
            return None
        video = _float(outputs.get("duration"))
        spent = _float(measure.get("seconds"))
        if video <= 0 or spent <= 0:
            return None
        stages = measure.get("stages")
        return cls(
            video_seconds=video,
            render_seconds=spent,
            resolution=str(measure.get("resolution") or "1080p"),
            optimize=str(measure.get("optimize") or "balanced"),
            words=int(_float(measure.get("words"))),
            sentences=int(_float(measure.get("sentences"))),
            narration=_float(measure.get("narration")),
            wpm=int(_float(measure.get("wpm"), DEFAULT_WPM)) or DEFAULT_WPM,
            pause=_float(measure.get("pause"), PAUSE_SECONDS),
            stages={
                str(k): _float(v)
                for k, v in (stages.items() if isinstance(stages, Mapping) else [])
            },
            size=size,
        )


@dataclass(frozen=True, slots=True)
class Line:
    """Render seconds for a video of ``v`` seconds: ``fixed + per_second × v``."""

    fixed: float
    per_second: float
    basis: str  # in words: how it is known

    def seconds(self, video_seconds: float) -> float:
        return self.fixed + self.per_second * max(0.0, video_seconds)


def _fit(samples: Sequence[Measured]) -> tuple[float, float]:
    """(fixed, per second) through the samples: a least-squares line when their lengths
    differ enough, else the plain ratio; never a negative part."""
    xs = [m.video_seconds for m in samples]
    ys = [m.render_seconds for m in samples]
    ratio = sum(ys) / sum(xs)
    if len(samples) < 3 or max(xs) < MIN_SPREAD * min(xs):
        return 0.0, ratio
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    fixed = mean_y - slope * mean_x
    if slope <= 0 or fixed < 0:
        return 0.0, ratio
    return fixed, slope


def _scale(resolution: str, optimize: str) -> float:
    """The relative cost of a second of video at this shape and preset."""
    pixels = PIXELS.get(resolution, PIXELS["1080p"]) / PIXELS["1080p"]
    return pixels**0.85 * PRESET_COST.get(optimize, 1.0)


@dataclass(frozen=True, slots=True)
class Pace:
    """This computer's recent renders (newest first)."""

    measured: tuple[Measured, ...] = ()

    @property
    def renders(self) -> int:
        return len(self.measured)

    # How long the videos will be

    def seconds_per_word(self, wpm: int) -> float:
        """Seconds a word takes at ``wpm``: measured here (scaled from the rate it was
        measured at), else the nominal rate."""
        words = spoken = 0.0
        for m in self.measured:
            if m.words and m.narration > 0:
                speaking = m.narration - max(0, m.sentences - 1) * m.pause
                words += m.words
                spoken += max(0.0, speaking) * m.wpm / max(1, wpm)
        if words and spoken:
            return spoken / words
        return 60.0 / max(1, wpm) * GUESSED_PACE_FACTOR

    def video_seconds(
        self,
        script: str,
        cell_seconds: float,
        *,
        wpm: int = DEFAULT_WPM,
        pause: float = PAUSE_SECONDS,
        intro: float = 0.0,
        outro: float = 0.0,
    ) -> float:
        """How long a row's video will be: its script spoken, or (no script: a language
        model writes one to the row's duration) the duration cell."""
        sentences = split_sentences(script) if script.strip() else []
        if not sentences:
            return max(1.0, cell_seconds) + intro + outro
        words = sum(len(sentence.split()) for sentence in sentences)
        spoken = words * self.seconds_per_word(wpm) + (len(sentences) - 1) * pause
        return intro + spoken + outro

    # How long rendering takes

    def line(self, resolution: str, optimize: str) -> Line:
        same = [m for m in self.measured if (m.resolution, m.optimize) == (resolution, optimize)]
        if same:
            fixed, per_second = _fit(same)
            return Line(fixed, per_second, "from this computer's recent renders")
        if self.measured:
            fixed, per_second = _fit(self.measured)
            mean = sum(_scale(m.resolution, m.optimize) for m in self.measured) / self.renders
            return Line(
                fixed,
                per_second * _scale(resolution, optimize) / mean,
                f"scaled from this computer's renders at other settings, to {resolution} "
                f"{optimize.capitalize()}",
            )
        return Line(
            GUESSED_FIXED,
            GUESSED_PER_SECOND * _scale(resolution, optimize),
            "a guess — nothing was rendered here yet",
        )

    def bytes_per_second(self, resolution: str, optimize: str, footage: bool = False) -> float:
        key = (resolution, optimize)
        sized = [m for m in self.measured if m.size and (m.resolution, m.optimize) == key]
        if sized:
            return sum(m.size or 0 for m in sized) / sum(m.video_seconds for m in sized)
        guess = float(BYTES_PER_SECOND.get(resolution, BYTES_PER_SECOND["1080p"]))
        return guess * (FOOTAGE_BYTES if footage else 1.0)

    # While it renders

    def shares(self) -> dict[str, float]:
        """What part of a render each stage takes, measured (else guessed)."""
        totals = dict.fromkeys(STAGES, 0.0)
        for m in self.measured:
            if all(stage in m.stages for stage in ("speech", "encode")):
                for stage in STAGES:
                    totals[stage] += m.stages.get(stage, 0.0)
        whole = sum(totals.values())
        if whole <= 0:
            return dict(GUESSED_SHARES)
        return {stage: totals[stage] / whole for stage in STAGES}

    def plan(self, video_seconds: float, resolution: str, optimize: str) -> dict[str, float]:
        """Expected seconds of each stage of one render."""
        whole = self.line(resolution, optimize).seconds(video_seconds)
        return {stage: share * whole for stage, share in self.shares().items()}


def time_left(plan: Mapping[str, float], stage: str, fraction: float, in_stage: float) -> float:
    """Seconds a render has left: ``in_stage`` seconds into ``stage`` with ``fraction`` of it
    done. The stage's own rate decides once it has shown one (its fraction grows); until then
    what the stage was expected to take. Stages after it take what they were expected to."""
    fraction = min(max(fraction, 0.0), 1.0)
    expected = plan.get(stage, 0.0)
    planned_left = max(expected - in_stage, 0.0)
    if fraction > 0 and in_stage > 0:
        by_rate = in_stage * (1 - fraction) / fraction
        trust = min(1.0, fraction / 0.2)  # a 2 % reading is noise; 20 % is a rate
        left_here = trust * by_rate + (1 - trust) * planned_left
    else:
        left_here = planned_left
    after = STAGES[STAGES.index(stage) + 1 :] if stage in STAGES else ()
    return left_here + sum(plan.get(name, 0.0) for name in after)


def job_lanes(job_max: object, engine_max: object) -> int:
    """How many of a job's videos render at once: the job's own cap (its scheduling's
    ``max_concurrent``; none → the engine's), never more than the engine's; at least 1."""
    engine = _whole(engine_max)
    return min(engine, _whole(job_max or engine))


def _whole(value: object) -> int:
    try:
        return max(1, int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 1


def finish_times(
    lanes: int, busy: Iterable[float], work: Iterable[tuple[float, float]]
) -> list[float]:
    """When each piece of work ends, in seconds from now: ``lanes`` renders at once, lanes
    free after ``busy`` seconds (the running renders' time left), ``work`` is (earliest
    start, seconds) in the order the queue takes it."""
    free = sorted(busy)[:lanes]
    free += [0.0] * (max(1, lanes) - len(free))
    ends = []
    for earliest, seconds in work:
        free.sort()
        start = max(free[0], earliest)
        free[0] = start + seconds
        ends.append(free[0])
    return ends


@dataclass(frozen=True, slots=True)
class Estimate:
    videos: int
    video_seconds: float  # all videos together
    render_seconds: float  # wall time with the job's concurrency
    basis: str  # how the pace is known, in words
    disk_bytes: int
    quota_units: int  # 0 when nothing is uploaded
    quota_days: int  # days of the project's daily quota the uploads need
    ready_by: datetime
    left_out: int = 0  # rows with problems that get no video

    @property
    def measured(self) -> bool:
        return not self.basis.startswith("a guess")

    def lines(self) -> list[str]:
        said = [
            f"Videos: {self.videos}, about {_duration(self.video_seconds)} of video"
            + (
                f" ({self.left_out} row{'s' if self.left_out != 1 else ''} left out)"
                if self.left_out
                else ""
            ),
            f"Estimated render time: {_duration(self.render_seconds)} ({self.basis})",
            f"Disk space: about {_size(self.disk_bytes)}",
            f"Last video ready: {self.ready_by.astimezone():%a %d %b %H:%M}",
        ]
        if self.quota_units:
            days = "" if self.quota_days <= 1 else f" — {self.quota_days} days of quota"
            said.append(f"YouTube quota: {self.quota_units:,} units{days}")
        return said

    def to_dict(self) -> dict[str, Any]:
        return {
            "videos": self.videos,
            "left_out": self.left_out,
            "video_seconds": round(self.video_seconds, 1),
            "render_seconds": round(self.render_seconds, 1),
            "basis": self.basis,
            "disk_bytes": self.disk_bytes,
            "quota_units": self.quota_units,
            "quota_days": self.quota_days,
            "ready_by": self.ready_by.isoformat(),
        }


def estimate(
    lengths: Sequence[float],
    resolution: str,
    optimize: str,
    concurrency: int,
    start: datetime,
    pace: Pace,
    upload: bool,
    *,
    units_per_day: int = 10_000,
    units_per_upload: int = UPLOAD_UNITS + 104,
    left_out: int = 0,
    footage: bool = False,
    vertical_copy: bool = False,
) -> Estimate:
    """``lengths``: each video's expected length in seconds (`Pace.video_seconds`);
    ``start``: when rendering can start (not before now); ``footage``: over stock footage;
    ``vertical_copy``: each render also encodes a 9:16 copy (TikTok, Reels, Shorts) — as many
    pixels again, so its encode again."""
    line = pace.line(resolution, optimize)
    again = 1 + GUESSED_SHARES["encode"] if vertical_copy else 1.0
    each = [line.seconds(length) * again for length in lengths]
    ends = finish_times(max(1, concurrency), [], [(0.0, seconds) for seconds in each])
    render = max(ends, default=0.0)
    total = float(sum(lengths))
    per_second = pace.bytes_per_second(resolution, optimize, footage)
    disk = int(total * per_second * (2 if vertical_copy else 1) + EXTRA_FILES * len(lengths))
    units = units_per_upload * len(lengths) if upload else 0
    return Estimate(
        videos=len(lengths),
        video_seconds=total,
        render_seconds=render,
        basis=line.basis,
        disk_bytes=disk,
        quota_units=units,
        quota_days=math.ceil(units / units_per_day) if units else 0,
        ready_by=minute_up(start + timedelta(seconds=render)),
        left_out=left_out,
    )


def minute_up(moment: datetime) -> datetime:
    """Shown to the minute, a time is rounded up: never one already past."""
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


def _duration(seconds: float) -> str:
    """A span as a person says it: "40 s", "2 min 15 s", "14 min", "1 h 05 min"."""
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 600:
        minutes, rest = divmod(5 * round(seconds / 5), 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _size(count: int) -> str:
    if count >= 1024**3:
        return f"{count / 1024**3:.1f} GB"
    return f"{max(1, round(count / 1024**2))} MB"
