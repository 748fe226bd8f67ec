"""Benchmark: the render pipeline against a hand-written ffmpeg-only equivalent.

    .venv/bin/python -m tests.bench.bench_render [--resolution 1080p] [--optimize balanced]

Renders a ~60-second demo item through the real pipeline (child process, as the app does),
then encodes the same picture with one ffmpeg command: every distinct frame (background with
each caption or title card burnt in) composited once as a still and fed through ffmpeg's
concat demuxer for its time span, with the same soundtrack and the same codec settings.
Prints both times, their ratio, and the peak memory of each.
Targets: pipeline ≤ 1.25 × ffmpeg-only; peak RSS ≤ 600 MB at 1080p.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from PIL import Image

from app.domain.idea import Idea
from app.domain.output import Optimize, OutputConfig, Resolution
from app.domain.sentences import split_sentences
from app.pipeline import footage
from app.pipeline.captions import Layout, plan_cues, render_cue
from app.pipeline.encode import plan
from app.pipeline.footage import FootageSettings
from app.pipeline.media import ffmpeg_exe
from app.pipeline.render import RenderSettings
from app.pipeline.runner import RenderTask, run_render
from app.pipeline.soundtrack import pick_music, soundtrack
from app.pipeline.speech import SpeechSettings, narrate
from app.pipeline.styles import BUILTIN
from app.pipeline.visuals import gradient, keywords, title_card
from app.sources.intake import SourceSpec, load_report
from tests.conftest import DEMO


def demo_idea() -> Idea:
    """Demo rows 2 and 3 and the start of 4 joined: about 60 s of video."""
    rows = [r.idea for r in load_report(SourceSpec(str(DEMO))).rows if r.idea]
    script = " ".join(
        [
            rows[0].script_content,
            rows[1].script_content,
            *split_sentences(rows[2].script_content)[:3],
        ]
    )
    first = rows[0]
    return Idea(
        idea_title=first.idea_title,
        script_content=script,
        description=first.description,
        voice_preference=first.voice_preference,
        style_override="modern",
    )


class PeakMemory:
    """Samples the resident memory of a process tree every 50 ms."""

    def __init__(self) -> None:
        self.peak_python = 0
        self.peak_ffmpeg = 0
        self.peak_total = 0
        self.at_peak: list[tuple[str, int]] = []  # the children (command, MB) at their peak
        self._stop = threading.Event()
        self._pid: int | None = None

    def watch(self, pid: int) -> None:
        self._pid = pid
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.is_set() and self._pid:
            try:  # a child may end between listing and asking: that sample is skipped
                root = psutil.Process(self._pid)
                rss_root = root.memory_info().rss
                children = [
                    (" ".join(c.cmdline()[1:8]), c.memory_info().rss)
                    for c in root.children(recursive=True)
                ]
            except psutil.Error:
                time.sleep(0.05)
                continue
            rss_children = sum(rss for _command, rss in children)
            self.peak_python = max(self.peak_python, rss_root)
            if rss_children > self.peak_ffmpeg:
                self.at_peak = [(command, rss // 2**20) for command, rss in children]
            self.peak_ffmpeg = max(self.peak_ffmpeg, rss_children)
            self.peak_total = max(self.peak_total, rss_root + rss_children)
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()


@dataclass
class Voiced:
    """The baseline's voice and soundtrack, made as the pipeline makes them (untimed)."""

    sentences: list[str]
    narration: Any
    intro: float
    frames: int
    duration: float
    audio: Path


def voiced(idea: Idea, config: OutputConfig, scratch: Path) -> Voiced:
    style = BUILTIN["modern"]
    sentences = split_sentences(idea.script_content)
    narration = narrate(sentences, idea.voice_preference, SpeechSettings(), scratch / "speech")
    intro, outro = style.intro_seconds, style.outro_seconds
    frames = math.ceil((intro + narration.duration + outro) * config.fps)
    duration = frames / config.fps
    audio = scratch / "soundtrack.wav"
    soundtrack(
        narration.path,
        narration.timings,
        intro=intro,
        total_samples=round(duration * 48_000),
        music=pick_music(RenderSettings().visuals.music_dir, style.music, idea.idea_title),
        music_level_db=style.music_level_db,
        out=audio,
    )
    return Voiced(sentences, narration, intro, frames, duration, audio)


def timed_ffmpeg(command: list[str], what: str) -> tuple[float, int]:
    """Run ``command``: its wall time and its peak memory."""
    began = time.perf_counter()
    process = subprocess.Popen(command)
    memory = PeakMemory()
    memory.watch(process.pid)
    process.wait()
    memory.stop()
    took = time.perf_counter() - began
    if process.returncode != 0:
        raise SystemExit(f"the {what} command failed")
    return took, memory.peak_python


def ffmpeg_only(idea: Idea, config: OutputConfig, scratch: Path) -> tuple[float, float, int]:
    """Prepare the same layers as images (untimed), then time one ffmpeg command."""
    style = BUILTIN["modern"]
    voice = voiced(idea, config, scratch)
    sentences, narration, intro = voice.sentences, voice.narration, voice.intro
    frames, duration, audio = voice.frames, voice.duration, voice.audio
    layout = Layout.for_frame(config.size, style)
    background = gradient(config.size, style.background)
    # Every distinct picture, composited once: intro card, each caption, gaps, outro card.
    timeline: list[tuple[float, float, Image.Image | None]] = [
        (0.0, intro, title_card(idea.idea_title, "", style, config.size))
    ]
    for cue in plan_cues(sentences, narration.timings, style, layout, offset=intro):
        if cue.start > timeline[-1][1]:
            timeline.append((timeline[-1][1], cue.start, None))
        sprite, (x, y) = render_cue(cue, style, layout)
        layer = Image.new("RGBA", config.size)
        layer.paste(sprite, (x, y))
        timeline.append((timeline[-1][1], cue.end, layer))
    timeline.append(
        (
            timeline[-1][1],
            duration,
            title_card("Thanks for watching", idea.idea_title, style, config.size),
        )
    )
    lines = []
    for n, (start, stop, layer) in enumerate(timeline):
        frame = Image.fromarray(background).convert("RGBA")
        if layer is not None:
            frame.alpha_composite(layer)
        path = scratch / f"still{n:03}.png"
        frame.convert("RGB").save(path, compress_level=1)
        lines += [f"file '{path}'", f"duration {stop - start:.6f}"]
    lines.append(f"file '{scratch / f'still{len(timeline) - 1:03}.png'}'")
    (scratch / "stills.txt").write_text("\n".join(lines) + "\n")

    chosen = plan(config)
    command = [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        str(scratch / "stills.txt"),
        "-i",
        str(audio),
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-r",
        str(config.fps),
        "-frames:v",
        str(frames),
        "-c:v",
        chosen.codec,
        "-preset",
        chosen.preset,
        *chosen.params,
        "-c:a",
        "aac",
        str(scratch / "ffmpeg-only.mp4"),
    ]
    took, peak = timed_ffmpeg(command, "ffmpeg-only")
    return took, duration, peak


def footage_shots(
    idea: Idea, config: OutputConfig, chosen: FootageSettings, narration: Any, intro: float,
    duration: float,
) -> list[Any]:  # fmt: skip
    """The pipeline's own choice of clips for this idea (from the cache, filled beforehand)."""
    sentences = split_sentences(idea.script_content)
    groups = footage.group_sentences(sentences, 60.0 / SpeechSettings().rate_wpm)
    texts = [" ".join(sentences[n] for n in group) for group in groups]
    width, height = config.size
    wanted = keywords(idea.idea_title, idea.description, idea.tone, idea.target_audience)
    picked, _notes = footage.plan_shots(
        chosen, texts, portrait=height > width, need=max(config.size), idea_words=wanted,
        words=keywords,
    )  # fmt: skip
    return footage.place(groups, picked, narration.timings, (intro, duration))


def ffmpeg_only_footage(
    idea: Idea, config: OutputConfig, scratch: Path, chosen: FootageSettings
) -> tuple[float, float, int]:
    """The footage case by hand: each clip looped or cut to its scene, scaled to cover the
    frame (a still photo slowly zoomed, with ffmpeg's zoompan), crossfaded into the next;
    the captions and title cards (composited once as transparent stills) laid over them; the
    same soundtrack and encoder settings."""
    style = BUILTIN["modern"]
    voice = voiced(idea, config, scratch)
    sentences, narration, intro = voice.sentences, voice.narration, voice.intro
    frames, duration, audio = voice.frames, voice.duration, voice.audio
    shots = footage_shots(idea, config, chosen, narration, intro, duration)
    layout = Layout.for_frame(config.size, style)
    timeline: list[tuple[float, float, Image.Image]] = [
        (0.0, intro, title_card(idea.idea_title, "", style, config.size).convert("RGBA"))
    ]
    for cue in plan_cues(sentences, narration.timings, style, layout, offset=intro):
        if cue.start > timeline[-1][1]:
            timeline.append((timeline[-1][1], cue.start, Image.new("RGBA", config.size)))
        sprite, (x, y) = render_cue(cue, style, layout)
        layer = Image.new("RGBA", config.size)
        layer.paste(sprite, (x, y))
        timeline.append((timeline[-1][1], cue.end, layer))
    outro_card = title_card("Thanks for watching", idea.idea_title, style, config.size)
    timeline.append((timeline[-1][1], duration, outro_card.convert("RGBA")))
    lines = []
    for n, (start, stop, layer) in enumerate(timeline):
        path = scratch / f"layer{n:03}.png"
        layer.save(path, compress_level=1)
        lines += [f"file '{path}'", f"duration {stop - start:.6f}"]
    lines.append(f"file '{scratch / f'layer{len(timeline) - 1:03}.png'}'")
    (scratch / "layers.txt").write_text("\n".join(lines) + "\n")

    width, height = config.size
    fade = 0.4
    inputs: list[str] = []
    graph: list[str] = []
    for n, shot in enumerate(shots):
        length = shot.end - shot.start + (fade if n < len(shots) - 1 else 0)
        if shot.path.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"):  # a still: zoomed
            inputs += ["-loop", "1", "-framerate", str(config.fps), "-t", f"{length:.3f}",
                       "-i", str(shot.path)]  # fmt: skip
            frames_in = max(1, round(length * config.fps))
            move = (
                f"scale={width * 2}:{height * 2}:force_original_aspect_ratio=increase,"
                f"crop={width * 2}:{height * 2},zoompan=z='1+0.1*on/{frames_in}':d=1:"
                f"x='(iw-iw/zoom)/2':y='(ih-ih/zoom)/2':s={width}x{height}:fps={config.fps},"
            )
        else:
            inputs += ["-stream_loop", "-1", "-t", f"{length:.3f}", "-i", str(shot.path)]
            move = (
                f"scale={width}:{height}:force_original_aspect_ratio=increase,"
                f"crop={width}:{height},fps={config.fps},"
            )
        graph.append(f"[{n}:v]{move}format=yuv420p,setpts=PTS-STARTPTS[v{n}]")
    last = "v0"
    for n in range(1, len(shots)):
        graph.append(
            f"[{last}][v{n}]xfade=transition=fade:duration={fade}:"
            f"offset={shots[n].start - fade / 2:.3f}[x{n}]"
        )
        last = f"x{n}"
    layers, sound = len(shots), len(shots) + 1
    chosen_plan = plan(config)
    params = list(chosen_plan.params)
    tail = "format=yuv420p"
    if "-vf" in params:  # the encoder's colour tagging goes into the one graph
        at = params.index("-vf")
        tail = params[at + 1]
        del params[at : at + 2]
    graph.append(f"[{last}][{layers}:v]overlay=format=auto,{tail}[out]")
    command = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *inputs,
        "-f", "concat", "-safe", "0", "-i", str(scratch / "layers.txt"), "-i", str(audio),
        "-filter_complex", ";".join(graph), "-map", "[out]", "-map", f"{sound}:a",
        "-r", str(config.fps), "-frames:v", str(frames), "-c:v", chosen_plan.codec,
        "-preset", chosen_plan.preset, *params, "-c:a", "aac",
        str(scratch / "ffmpeg-only-footage.mp4"),
    ]  # fmt: skip
    took, peak = timed_ffmpeg(command, "ffmpeg-only footage")
    return took, duration, peak


def timed_render(
    idea: Idea, settings: RenderSettings, scratch: Path
) -> tuple[dict[str, Any], float, PeakMemory]:
    """One render in a child process, as the app runs it: its result, seconds, memory."""
    task = RenderTask(idea.to_dict(), 2, settings, scratch / "out", scratch / "work")
    memory = PeakMemory()
    began = time.perf_counter()
    outcome = run_render(task, on_start=memory.watch)
    took = time.perf_counter() - began
    memory.stop()
    if outcome.status != "completed" or not outcome.result:
        raise SystemExit(f"the render of “{idea.idea_title}” failed: {outcome.error}")
    return outcome.result, took, memory


def pipeline(
    idea: Idea, config: OutputConfig, scratch: Path, chosen: FootageSettings | None = None
) -> tuple[float, float, PeakMemory]:
    settings = RenderSettings(
        output=config, hardware_encoding=False, footage=chosen or FootageSettings()
    )
    result, took, memory = timed_render(idea, settings, scratch)
    return took, float(result["duration"]), memory


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resolution", default="1080p", choices=[r.value for r in Resolution])
    parser.add_argument("--optimize", default="balanced", choices=[o.value for o in Optimize])
    parser.add_argument(
        "--footage",
        action="store_true",
        help="the footage case: clips from a local fake stock provider behind every scene",
    )
    args = parser.parse_args()
    if args.footage:
        footage_case(args)
        return
    config = OutputConfig(resolution=Resolution(args.resolution), optimize=Optimize(args.optimize))
    idea = demo_idea()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        (scratch / "a").mkdir()
        (scratch / "b").mkdir()
        base, base_duration, base_rss = ffmpeg_only(idea, config, scratch / "a")
        took, duration, memory = pipeline(idea, config, scratch / "b")
    mb = 1024 * 1024
    cores = psutil.cpu_count()
    print(f"{duration:.1f} s video at {args.resolution}, {args.optimize}, {cores} cores")
    print(f"  ffmpeg-only (composited stills, one command) {base:6.1f} s")
    print(f"      peak RSS: ffmpeg {base_rss / mb:.0f} MB")
    print(f"  pipeline (script → … → metadata, child)      {took:6.1f} s")
    print(
        f"      peak RSS: python {memory.peak_python / mb:.0f} MB, its ffmpeg "
        f"{memory.peak_ffmpeg / mb:.0f} MB, together {memory.peak_total / mb:.0f} MB"
    )
    ratio = took / base
    print(
        f"  ratio {ratio:.2f}× ({'meets' if ratio <= 1.25 else 'MISSES'} the 1.25× target); "
        f"peak {'meets' if memory.peak_total <= 600 * mb else 'MISSES'} the 600 MB target"
    )
    assert abs(duration - base_duration) < 0.05


def footage_case(args: argparse.Namespace) -> None:
    import os

    from tests.fake_stock import KEY, serve

    config = OutputConfig(resolution=Resolution(args.resolution), optimize=Optimize(args.optimize))
    idea = demo_idea()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        for name in ("a", "b", "warm"):
            (scratch / name).mkdir()
        with serve(scratch / "stock") as stock:
            os.environ["CADENCE_PEXELS_ENDPOINT"] = stock.base_url  # the render child inherits it
            chosen = FootageSettings("pexels", KEY, scratch / "cache", 2000)
            # Untimed: the fake makes its clips and the cache fills, as after a first video.
            style = BUILTIN["modern"]
            narration = narrate(
                split_sentences(idea.script_content), idea.voice_preference, SpeechSettings(),
                scratch / "warm",
            )  # fmt: skip
            shots = footage_shots(idea, config, chosen, narration, style.intro_seconds, 60.0)
            base, base_duration, base_rss = ffmpeg_only_footage(idea, config, scratch / "a", chosen)
            took, duration, memory = pipeline(idea, config, scratch / "b", chosen)
    mb = 1024 * 1024
    print(f"{duration:.1f} s video at {args.resolution}, {args.optimize}, {len(shots)} clips")
    print(f"  ffmpeg-only (clips cut, scaled, crossfaded, captions over) {base:6.1f} s")
    print(f"      peak RSS: ffmpeg {base_rss / mb:.0f} MB")
    print(f"  pipeline with stock footage                              {took:6.1f} s")
    print(
        f"      peak RSS: python {memory.peak_python / mb:.0f} MB, its ffmpeg "
        f"{memory.peak_ffmpeg / mb:.0f} MB, together {memory.peak_total / mb:.0f} MB"
    )
    ratio = took / base
    print(
        f"  ratio {ratio:.2f}× ({'meets' if ratio <= 1.25 else 'MISSES'} the 1.25× target); "
        f"peak {'meets' if memory.peak_total <= 600 * mb else 'MISSES'} the 600 MB target"
    )
    for command, megabytes in memory.at_peak:
        print(f"      at the children's peak: {megabytes} MB  {command}")
    assert abs(duration - base_duration) < 0.05


if __name__ == "__main__":
    main()
