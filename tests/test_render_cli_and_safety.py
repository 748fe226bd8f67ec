"""``python main.py render`` as a user runs it, and the failures that must name their fix."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.domain.idea import Idea
from app.domain.output import Optimize, OutputConfig, Resolution, VideoCodec
from app.paths import MUSIC_DIR
from app.pipeline import encode, render
from app.pipeline.errors import RenderError
from app.pipeline.media import SAMPLE_RATE, read_wav, run_ffmpeg, write_wav
from app.pipeline.render import RenderSettings, render_item
from app.pipeline.soundtrack import soundtrack
from app.pipeline.visuals import Footage, VisualSettings
from tests.conftest import DEMO

Run = Callable[..., subprocess.CompletedProcess[str]]
FAST = ["--resolution", "720p", "--optimize", "speed"]


def test_render_demo_rows(run_cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "videos"
    result = run_cli("render", str(DEMO), "--out", str(out), "--rows", "2-3", *FAST)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "002-why-the-sky-is-blue.json",
        "002-why-the-sky-is-blue.mp4",
        "002-why-the-sky-is-blue.png",
        "002-why-the-sky-is-blue.srt",
        "003-three-habits-of-calm-people.json",
        "003-three-habits-of-calm-people.mp4",
        "003-three-habits-of-calm-people.png",
        "003-three-habits-of-calm-people.srt",
    ]
    assert "2 of 2 rows rendered" in result.stdout
    assert "[1/2] row 2: done" in result.stderr and "encode…" in result.stderr

    again = run_cli("render", str(DEMO), "--out", str(out), "--rows", "2", *FAST, "--json")
    assert again.returncode == 0
    report = json.loads(again.stdout)
    assert report[0]["status"] == "skipped" and "--overwrite" in report[0]["error"]


def test_render_refuses_bad_requests_in_one_line(run_cli: Run, tmp_path: Path) -> None:
    cases = [
        (["--format", "webm", "--video-codec", "h264"], "WebM carries VP9 video only"),
        (["--rows", "40-45"], "the sheet has no idea rows 40-45 — its rows are 2 to 9"),
        (["--rows", "two"], "is not a row list"),
        (["--style", "vaporwave", "--rows", "2"], "style 'vaporwave' does not exist"),
        (["--assets", str(tmp_path / "none")], "--assets"),
    ]
    for extra, says in cases:
        result = run_cli("render", str(DEMO), "--out", str(tmp_path / "o"), *FAST, *extra)
        assert says in result.stderr, (extra, result.stderr)
        assert "Traceback" not in result.stderr


def test_music_is_ducked_under_the_voice(tmp_path: Path) -> None:
    """With a silent voice track the bed is all that is heard: it dips where speech is timed."""
    seconds = 8
    write_wav(tmp_path / "voice.wav", np.zeros((seconds * SAMPLE_RATE, 2), np.float32), SAMPLE_RATE)
    bed = tmp_path / "bed.wav"
    soundtrack(
        tmp_path / "voice.wav",
        [(2.0, 4.0)],
        intro=0.0,
        total_samples=seconds * SAMPLE_RATE,
        music=MUSIC_DIR / "calm-pad.m4a",
        music_level_db=-20.0,
        out=bed,
    )
    samples, _ = read_wav(bed)
    assert len(samples) == seconds * SAMPLE_RATE

    def rms(a: float, b: float) -> float:
        return float(np.sqrt(np.mean(samples[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] ** 2)))

    assert rms(2.6, 3.6) < rms(5.2, 6.2) / 2  # at least 6 dB quieter while someone speaks


def test_video_clip_backgrounds_are_fitted_and_looped(tmp_path: Path) -> None:
    clip = tmp_path / "ocean.mp4"
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25:duration=1",
            "-pix_fmt",
            "yuv420p",
            str(clip),
        ]
    )
    footage = Footage(clip, (1280, 720), 30, tmp_path)
    assert footage.frame(0.2).shape == (720, 1280, 3)
    assert footage.frame(2.2).shape == (720, 1280, 3)  # past the clip's end: looped


def test_hardware_encoder_probe_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "encoders.json"
    first = encode.detect_hardware(VideoCodec.H264, cache)
    assert json.loads(cache.read_text())["encoders"]["h264"] == first
    calls: list[object] = []
    real_run = subprocess.run
    monkeypatch.setattr(
        encode.subprocess, "run", lambda *a, **k: calls.append(a) or real_run(*a, **k)
    )
    assert encode.detect_hardware(VideoCodec.H264, cache) == first
    assert len(calls) == 1  # only the version check; no encoder was tried again


def test_a_full_disk_is_refused_up_front(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        render.shutil, "disk_usage", lambda _p: type("U", (), {"free": 50 * 1024 * 1024})()
    )
    with pytest.raises(RenderError, match=r"only 50 MB free in .* — free at least 400 MB"):
        render_item(
            Idea(idea_title="x", script_content="Hi."),
            2,
            RenderSettings(),
            tmp_path / "o",
            tmp_path / "w",
        )
    assert not list((tmp_path / "o").iterdir())


def test_an_unreadable_asset_names_the_file(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "sky-photo.jpg").write_bytes(b"this is not a jpeg")
    settings = RenderSettings(
        output=OutputConfig(resolution=Resolution.HD, optimize=Optimize.SPEED),
        visuals=VisualSettings(assets_dir=assets),
    )
    idea = Idea(idea_title="The blue sky", script_content="The sky is blue.")
    with pytest.raises(
        RenderError, match=r"asset sky-photo\.jpg cannot be read .* replace it or remove it"
    ):
        render_item(idea, 2, settings, tmp_path / "o", tmp_path / "w")
    assert [p for p in (tmp_path / "o").iterdir() if not p.name.startswith(".")] == []


def test_thumbnail_falls_back_to_jpeg_when_the_png_is_too_big(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.pipeline import thumbnail
    from app.pipeline.styles import BUILTIN

    monkeypatch.setattr(thumbnail, "MAX_PNG_BYTES", 1000)
    path = thumbnail.make_thumbnail("A title", BUILTIN["modern"], tmp_path / "t.png")
    assert path.suffix == ".jpg" and not (tmp_path / "t.png").exists()
    with Image.open(path) as image:
        assert image.format == "JPEG" and image.size == (1280, 720)
