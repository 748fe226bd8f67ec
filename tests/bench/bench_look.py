"""Benchmark: what a new user's first videos look like — the demo sheet rendered with no keys,
against loopback fakes of Openverse, Wikimedia Commons and NASA.

    .venv/bin/pip install pocketsphinx          # optional: word error rate, timing reference
    .venv/bin/python -m tests.bench.bench_look [--rows 8] [--frames DIR]

The fakes serve public-domain and CC0 photographs (scikit-image's sample pictures: NASA's
astronaut, Hubble deep field and rocket, the moon, coffee, a cat — fetched once with
`pip download scikit-image`), else drawn pictures, by the words searched. Every demo row is
rendered at 1080p as the app renders it (a child process, the default voice, captions and
pictures), and the first row again in 9:16. Reported:

* share of screen time over pictures or footage (goal ≥ 90 %), distinct pictures a minute,
  and the longest time the picture stands still (frames compared at 10 a second);
* caption contrast: every caption's words against the pixels around them in the encoded
  video (WCAG 2 ratio; goal ≥ 4.5), minimum and 5th percentile;
* the default voice: its word times against PocketSphinx's forced alignment (an independent
  HMM aligner), its speed (× real time) and word error rate (`bench_voice`);
* render time against the hand-written ffmpeg baseline of `bench_render` (same pictures,
  captions and soundtrack, one ffmpeg command; goal ≤ 1.25×) and the peak memory of the
  render's process tree (goal ≤ 600 MB).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from app.domain.idea import Idea, Voice
from app.domain.output import Optimize, OutputConfig, Resolution
from app.domain.sentences import split_sentences
from app.pipeline.captions import Cue, Layout, caption_mode, render_cue
from app.pipeline.footage import FootageSettings
from app.pipeline.legibility import text_contrast
from app.pipeline.media import ffmpeg_exe, read_wav
from app.pipeline.render import RenderSettings
from app.pipeline.speech import SpeechSettings, narrate
from app.pipeline.styles import pick_style
from app.pipeline.visuals import VisualSettings
from app.sources.intake import SourceSpec, load_report
from tests import fake_pictures
from tests.bench.bench_render import ffmpeg_only_footage, timed_render
from tests.conftest import DEMO
from tests.test_look import text_mask

FREE = (("openverse", ""), ("commons", ""), ("nasa", ""))
# The fakes' address, for the render children: each imports this module again (spawn), and
# with it the test configuration that points the providers nowhere — so it is put back here.
if _fakes := os.environ.get("CADENCE_BENCH_PICTURES"):
    for _provider in ("openverse", "commons", "nasa"):
        os.environ[f"CADENCE_{_provider.upper()}_ENDPOINT"] = f"{_fakes}/{_provider}"
CACHE = Path.home() / ".cache" / "cadence-bench" / "photos"
# The sample pictures, and the words that find each.
PHOTOS = {
    "hubble_deep_field.jpg": "black hole star light space galaxy sky astronomers universe "
    "giant collapses core crushed shadow ringed glowing gas million years",
    "astronaut.png": "space gravity astronaut picture fuel escape cross way back",
    "rocket.jpg": "rocket fuel launch event horizon boundary place",
    "moon.png": "moon night dark shadow sunset",
    "coffee.png": "coffee cup drink berries brewed cups monks prayers houses",
    "chelsea.png": "cat cats purr pet purring medicine happy hurt scared heal calm",
    "grass.png": "grass garden flowers honey nectar bee hive",
    "brick.png": "wall houses cities city istanbul",
}


# --- pictures for the fakes ------------------------------------------------------------------


def sample_photos() -> dict[str, Image.Image]:
    """scikit-image's sample pictures (public domain or CC0), downloaded once; none offline."""
    if not all((CACHE / name).exists() for name in PHOTOS):
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as folder:
            got = subprocess.run(
                [sys.executable, "-m", "pip", "download", "scikit-image", "--no-deps", "-q",
                 "-d", folder], capture_output=True, check=False,
            )  # fmt: skip
            wheels = list(Path(folder).glob("scikit_image-*.whl"))
            if got.returncode or not wheels:
                return {}
            with zipfile.ZipFile(wheels[0]) as wheel:
                for name in PHOTOS:
                    (CACHE / name).write_bytes(wheel.read(f"skimage/data/{name}"))
    return {name: Image.open(CACHE / name).convert("RGB") for name in PHOTOS}


def drawn(name: str, size: tuple[int, int]) -> Image.Image:
    """A picture with light and dark areas and detail (a worst case for captions)."""
    rng = np.random.default_rng(int(hashlib.sha1(name.encode()).hexdigest()[:8], 16))
    image = Image.new("RGB", size, tuple(int(c) for c in rng.integers(150, 255, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        x, y = rng.integers(0, size[0]), rng.integers(0, size[1])
        r = int(rng.integers(40, max(size) // 4))
        draw.ellipse(
            (x - r, y - r, x + r, y + r), fill=tuple(int(c) for c in rng.integers(0, 255, 3))
        )
    return image.filter(ImageFilter.GaussianBlur(2))


def serve_pictures(photos: dict[str, Image.Image]) -> None:
    """The fakes' files: the sample picture whose words the search shares, else a drawn one."""

    def picture(name: str, size: tuple[int, int]) -> bytes:
        words = set(re.split(r"[^a-z]+", name.lower()))
        ranked = sorted(
            ((len(words & set(tags.split())), file) for file, tags in PHOTOS.items()),
            reverse=True,
        )
        score, file = ranked[0]
        image = photos[file] if score and file in photos else drawn(name, size)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90)
        return out.getvalue()

    fake_pictures.picture = picture  # type: ignore[assignment]


# --- measures --------------------------------------------------------------------------------


def frames_at(video: Path, size: tuple[int, int], fps: float, scale: int = 1) -> np.ndarray:
    width, height = size[0] // scale, size[1] // scale
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(video), "-vf",
         f"fps={fps},scale={width}:{height}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def longest_still(video: Path, size: tuple[int, int]) -> float:
    """The longest run of frames (10 a second, small) that do not change."""
    frames = frames_at(video, size, 10, scale=8).astype(np.int16)
    moving = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3)) > 0.2
    longest = run = 0
    for moved in moving:
        run = 0 if moved else run + 1
        longest = max(longest, run)
    return longest / 10


def frame_at(video: Path, t: float, size: tuple[int, int]) -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-ss", f"{t:.3f}", "-i", str(video), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3)


def srt_cues(path: Path) -> list[tuple[float, float, tuple[str, ...]]]:
    def seconds(stamp: str) -> float:
        h, m, rest = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(rest.replace(",", "."))

    cues = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        lines = block.strip().splitlines()
        start, end = (seconds(s.strip()) for s in lines[1].split("-->"))
        cues.append((start, end, tuple(lines[2:])))
    return cues


def caption_contrasts(result: dict[str, Any], idea: Idea, config: OutputConfig) -> list[float]:
    """Each caption's words against the pixels around them, in the encoded video."""
    style = pick_style(idea.style_override or "modern", None)
    layout = Layout.for_frame(config.size, style)
    pop = caption_mode("auto", config.vertical) == "pop"
    found = []
    for start, end, lines in srt_cues(Path(result["captions"])):
        image, (x, y) = render_cue(Cue(start, end, lines, pop=pop), style, layout)
        mask = np.zeros((config.size[1], config.size[0]), bool)
        own = text_mask(image, style.text)
        h, w = own.shape
        mask[y : y + h, x : x + w] = own[: config.size[1] - y, : config.size[0] - x]
        frame = frame_at(Path(result["video"]), (start + end) / 2, config.size)
        found.append(text_contrast(frame, mask, ring=3))
    return found


def timing_errors(sentences: list[str], voice: Voice) -> tuple[str, list[float]]:
    """The default voice's caption word times against PocketSphinx's forced alignment."""
    try:
        from pocketsphinx import Decoder
    except ImportError:
        return "", []
    errors = []
    with tempfile.TemporaryDirectory() as folder:
        narration = narrate(sentences, voice, SpeechSettings(), Path(folder))
        audio, rate = read_wav(narration.path)
        mono = audio.mean(axis=1)
        for words, (start, end), sentence in zip(
            narration.words, narration.timings, sentences, strict=True
        ):
            piece = mono[int(start * rate) : int(end * rate)]
            at = np.arange(0, len(piece), rate / 16_000)
            pcm = np.clip(np.interp(at, np.arange(len(piece)), piece), -1, 1) * 32767
            said = re.findall(r"[a-z']+", sentence.lower())
            decoder = Decoder(samprate=16_000)
            decoder.set_align_text(" ".join(said))
            decoder.start_utt()
            decoder.process_raw(pcm.astype("<i2").tobytes(), full_utt=True)
            decoder.end_utt()
            segments = decoder.seg() or []  # none when it cannot align the sentence: skipped
            heard = [s.start_frame / 100 for s in segments if s.word[0].isalpha()]
            ours = [t - start for _s, _n, t in words]
            if len(heard) == len(ours):
                errors += [abs(a - b) for a, b in zip(ours, heard, strict=True)]
    return narration.engine, errors


# --- the run ---------------------------------------------------------------------------------


def render(idea: Idea, config: OutputConfig, scratch: Path) -> tuple[dict[str, Any], float, Any]:
    settings = RenderSettings(
        output=config,
        hardware_encoding=False,
        footage=FootageSettings("auto", cache_dir=scratch / "cache", chain=FREE),
        visuals=VisualSettings(music_dir=RenderSettings().visuals.music_dir, captions="auto"),
    )
    return timed_render(idea, settings, scratch)


def look(result: dict[str, Any], idea: Idea, config: OutputConfig) -> dict[str, Any]:
    metadata = json.loads(Path(result["metadata"]).read_text(encoding="utf-8"))
    duration = float(result["duration"])
    shown = [(s["shown"], (s["provider"], s["id"])) for s in metadata.get("footage", [])]
    covered = sum(min(b, duration) - a for (a, b), _id in shown)
    return {
        "title": idea.idea_title,
        "duration": duration,
        "share": covered / duration,
        "pictures": len({pid for _span, pid in shown}),
        "still": longest_still(Path(result["video"]), config.size),
        "contrast": caption_contrasts(result, idea, config),
        "voice": metadata.get("voice", {}).get("engine"),
        "notes": metadata.get("notes", []),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--frames", type=Path, help="save a few frames of each video here")
    args = parser.parse_args()
    photos = sample_photos()
    serve_pictures(photos)
    ideas = [r.idea for r in load_report(SourceSpec(str(DEMO))).rows if r.idea][: args.rows]
    landscape = OutputConfig(resolution=Resolution.FULL_HD, optimize=Optimize.BALANCED)
    vertical = OutputConfig(
        resolution=Resolution.FULL_HD, optimize=Optimize.BALANCED, vertical=True
    )
    looks, ratios, peaks = [], [], []
    with tempfile.TemporaryDirectory() as scratch_dir, fake_pictures.serve() as fake:
        scratch = Path(scratch_dir)
        os.environ["CADENCE_BENCH_PICTURES"] = fake.base_url  # the render children inherit it
        for provider in ("openverse", "commons", "nasa"):
            os.environ[f"CADENCE_{provider.upper()}_ENDPOINT"] = f"{fake.base_url}/{provider}"
        cases = [(idea, landscape) for idea in ideas] + [(ideas[0], vertical)]
        for n, (idea, config) in enumerate(cases):
            folder = scratch / f"r{n}"
            result, took, memory = render(idea, config, folder)
            peak = memory.peak_total
            seen = look(result, idea, config)
            seen["shape"] = "9:16" if config.vertical else "16:9"
            looks.append(seen)
            peaks.append(peak)
            if n == 0:  # the baseline: the same pictures, captions and sound by hand
                base, _d, _rss = ffmpeg_only_footage(
                    idea, config, folder / "base",
                    FootageSettings("auto", cache_dir=folder / "cache", chain=FREE),
                )  # fmt: skip
                ratios.append(took / base)
                print(f"  baseline {base:.1f} s, pipeline {took:.1f} s")
            if args.frames:
                args.frames.mkdir(parents=True, exist_ok=True)
                for t in (1.0, seen["duration"] * 0.45):
                    frame = frame_at(Path(result["video"]), t, config.size)
                    Image.fromarray(frame).save(
                        args.frames / f"{n:02}-{seen['shape'][:1]}-{t:.0f}.png"
                    )
            print(f"  {seen['shape']} {idea.idea_title[:36]:<36} {seen['duration']:5.1f} s  "
                  f"pictures {seen['share']:4.0%}  {seen['pictures']} distinct  still "
                  f"{seen['still']:.1f} s  contrast min {min(seen['contrast']):.1f}  "
                  f"voice {seen['voice']}  {took:.0f} s, {peak / 2**20:.0f} MB "
                  f"({memory.peak_python / 2**20:.0f} Python, "
                  f"{memory.peak_ffmpeg / 2**20:.0f} ffmpeg)"
                  + (f"  notes: {seen['notes']}" if seen["notes"] else ""))  # fmt: skip
    total = sum(s["duration"] for s in looks)
    share = sum(s["share"] * s["duration"] for s in looks) / total
    per_minute = sum(s["pictures"] for s in looks) / (total / 60)
    contrasts = [c for s in looks for c in s["contrast"]]
    print(f"{len(looks)} videos, {total:.0f} s, 1080p, no keys "
          f"({'sample photographs' if photos else 'drawn pictures'} from the fakes)")  # fmt: skip
    print(f"  screen time over pictures   {share:.1%} (goal ≥ 90 %)")
    print(f"  distinct pictures a minute  {per_minute:.1f}")
    print(f"  longest still picture       {max(s['still'] for s in looks):.1f} s")
    print(
        f"  caption contrast            min {min(contrasts):.1f}:1, 5th percentile "
        f"{np.percentile(contrasts, 5):.1f}:1 over {len(contrasts)} captions (goal ≥ 4.5)"
    )
    sentences = [s for idea in ideas[:3] for s in split_sentences(idea.script_content)]
    engine, errors = timing_errors(sentences, Voice.FEMALE)
    if errors:
        ms = sorted(e * 1000 for e in errors)
        print(
            f"  word timing ({engine})       mean {statistics.mean(ms):.0f} ms, p90 "
            f"{ms[int(len(ms) * 0.9) - 1]:.0f} ms over {len(ms)} words "
            "(against PocketSphinx's alignment)"
        )
    else:
        print("  word timing                 pip install pocketsphinx to measure")
    voice = subprocess.run(
        [sys.executable, "-m", "tests.bench.bench_voice", "--one", "hibari"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if voice.returncode == 0:
        figures = json.loads(voice.stdout.strip().splitlines()[-1])
        wer = f"{figures['wer']} %" if figures["wer"] is not None else "not measured"
        print(
            f"  default voice               {figures['x_realtime']}× real time, word error "
            f"rate {wer}"
        )
    print(f"  render time                 {ratios[0]:.2f}× the ffmpeg-only baseline (goal ≤ 1.25×)")
    print(f"  peak memory                 {max(peaks) / 2**20:.0f} MB (goal ≤ 600 MB)")


if __name__ == "__main__":
    main()
