"""Real renders, probed: what comes out is what YouTube recommends and what the user asked for."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.domain.idea import Idea, Voice
from app.domain.output import Container, Optimize, OutputConfig, Resolution, VideoCodec
from app.pipeline.media import ffmpeg_exe, measure_loudness
from app.pipeline.probe import container_problem, ffmpeg_summary, probe_mp4
from app.pipeline.render import RenderResult, RenderSettings, render_item
from app.pipeline.styles import BUILTIN
from app.pipeline.visuals import VisualSettings

SCRIPT = (
    "Look up on a clear day and the sky is blue. Sunlight looks white, but it is a mix of "
    "every colour. Blue light is scattered far more than red."
)
IDEA = Idea(
    idea_title="Why the sky is blue",
    script_content=SCRIPT,
    description="Light.",
    voice_preference=Voice.FEMALE,
    style_override="modern",
)
FAST = OutputConfig(resolution=Resolution.HD, optimize=Optimize.SPEED)


def render(tmp: Path, settings: RenderSettings, idea: Idea = IDEA, row: int = 2) -> RenderResult:
    return render_item(idea, row, settings, tmp / "out", tmp / "work")


@pytest.fixture(scope="session")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> RenderResult:
    return render(tmp_path_factory.mktemp("mp4"), RenderSettings(output=FAST))


def decoded_frame(video: Path, t: float, size: tuple[int, int]) -> np.ndarray:
    raw = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-ss",
            f"{t:.3f}",
            "-i",
            str(video),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(size[1], size[0], 3)


def test_outputs_are_named_and_complete(mp4: RenderResult) -> None:
    folder = mp4.video.parent
    assert sorted(p.name for p in folder.iterdir()) == [
        "002-why-the-sky-is-blue.json",
        "002-why-the-sky-is-blue.mp4",
        "002-why-the-sky-is-blue.png",
        "002-why-the-sky-is-blue.srt",
    ]
    assert not (folder.parent / "work").exists()  # the work folder is cleared when done


def test_mp4_follows_youtube_recommended_settings(mp4: RenderResult) -> None:
    info = probe_mp4(mp4.video)
    video, audio = info.track("vide"), info.track("soun")
    assert info.faststart  # moov before mdat
    assert video.codec == "avc1" and video.avc_profile == 100  # High
    assert video.chroma_format == 1  # 4:2:0
    assert (video.width, video.height) == (1280, 720) and video.fps == pytest.approx(30)
    assert set(video.gop_lengths) == {15}  # every GOP starts with an IDR frame: closed, fps/2
    assert video.has_reordering  # B-frames
    assert audio.codec == "mp4a" and audio.audio_object_type == 2  # AAC-LC
    assert (audio.sample_rate, audio.channels) == (48_000, 2)
    assert abs(video.presented_seconds - audio.presented_seconds) <= 1 / 30
    summary = ffmpeg_summary(mp4.video)
    assert "h264 (High)" in summary.video and "yuv420p(tv, bt709, progressive)" in summary.video
    assert summary.audio.startswith("aac (LC)") and "48000 Hz, stereo" in summary.audio


def test_duration_is_intro_plus_narration_plus_outro(mp4: RenderResult) -> None:
    style = BUILTIN["modern"]
    cues = mp4.captions.read_text().strip().split("\n\n")
    last_end = cues[-1].splitlines()[1].split(" --> ")[1]
    h, m, rest = last_end.split(":")
    narration_end = int(h) * 3600 + int(m) * 60 + float(rest.replace(",", "."))
    assert mp4.duration == pytest.approx(narration_end + style.outro_seconds, abs=1 / 30 + 0.002)
    assert probe_mp4(mp4.video).duration == pytest.approx(mp4.duration, abs=1 / 30)


def test_soundtrack_is_at_youtube_loudness(mp4: RenderResult) -> None:
    lufs, true_peak = measure_loudness(mp4.video)
    assert lufs == pytest.approx(-16.0, abs=1.0)
    assert true_peak <= -1.0


def test_captions_are_burnt_in_and_in_the_srt(mp4: RenderResult) -> None:
    srt = mp4.captions.read_text()
    assert srt.startswith("1\n00:00:02,000 --> ")
    assert "Look up on a clear day and the sky is blue." in srt
    during_caption = decoded_frame(mp4.video, 3.0, (1280, 720))
    during_gap = decoded_frame(mp4.video, mp4.duration - 0.5, (1280, 720))  # outro card
    band = slice(540, 680)
    # White caption text in the lower band while a sentence is spoken.
    assert (during_caption[band].min(axis=2) > 230).sum() > 2000
    assert not np.array_equal(during_caption[band], during_gap[band])


def test_thumbnail_and_metadata(mp4: RenderResult) -> None:
    with Image.open(mp4.thumbnail) as image:
        assert image.format == "PNG" and image.size == (1280, 720)
    meta = json.loads(mp4.metadata.read_text())
    assert meta["title"] == "Why the sky is blue"
    assert meta["duration_seconds"] == pytest.approx(mp4.duration, abs=0.001)
    assert meta["files"] == {
        "video": mp4.video.name,
        "thumbnail": mp4.thumbnail.name,
        "captions": mp4.captions.name,
    }
    assert meta["language"] == "en" and meta["made_for_kids"] is False


def test_a_finished_output_is_not_overwritten_unless_asked(
    mp4: RenderResult, tmp_path: Path
) -> None:
    from app.pipeline.render import AlreadyRendered

    before = mp4.video.stat().st_mtime_ns
    with pytest.raises(AlreadyRendered, match="pass --overwrite"):
        render_item(IDEA, 2, RenderSettings(output=FAST), mp4.video.parent, tmp_path / "w")
    assert mp4.video.stat().st_mtime_ns == before


def test_planar_frames_keep_their_colours(mp4: RenderResult) -> None:
    """The BT.709 conversion done in Python decodes back to the colours drawn (PSNR > 35 dB)."""
    from app.pipeline.visuals import gradient

    expected = gradient((1280, 720), BUILTIN["modern"].background).astype(np.float64)
    frame = decoded_frame(mp4.video, 3.0, (1280, 720)).astype(np.float64)
    top = slice(0, 300)  # above captions, below nothing: background only
    mse = np.mean((frame[top] - expected[top]) ** 2)
    assert 10 * np.log10(255**2 / mse) > 35


@pytest.mark.parametrize(
    ("config", "video_says", "audio_says"),
    [
        (
            OutputConfig(
                container=Container.WEBM,
                video_codec=VideoCodec.VP9,
                audio_codec=__import__(
                    "app.domain.output", fromlist=["AudioCodec"]
                ).AudioCodec.OPUS,
                resolution=Resolution.HD,
                optimize=Optimize.SPEED,
            ),
            "vp9",
            "opus",
        ),
        (
            OutputConfig(
                container=Container.MOV,
                video_codec=VideoCodec.H265,
                resolution=Resolution.HD,
                optimize=Optimize.SPEED,
            ),
            "hevc",
            "aac (LC)",
        ),
    ],
)
def test_other_containers_and_codecs(
    tmp_path: Path, config: OutputConfig, video_says: str, audio_says: str
) -> None:
    short = replace(IDEA, script_content="A short test of another format.")
    result = render(tmp_path, RenderSettings(output=config), short)
    assert result.video.suffix == config.extension
    summary = ffmpeg_summary(result.video)
    assert summary.video.startswith(video_says) and "yuv420p" in summary.video
    assert summary.audio.startswith(audio_says) and "48000 Hz" in summary.audio
    assert summary.duration == pytest.approx(result.duration, abs=0.1)
    if config.container is Container.MOV:
        assert probe_mp4(result.video).track("vide").codec == "hvc1"  # plays on Apple devices
    matroska = config.container is Container.WEBM
    assert container_problem(result.video, result.duration, matroska=matroska) is None
    cut = tmp_path / f"cut{config.extension}"
    cut.write_bytes(result.video.read_bytes()[:-4096])  # an encoder stopped before its end
    assert container_problem(cut, result.duration, matroska=matroska) is not None


def test_a_video_with_a_second_moov_or_stray_bytes_is_not_sound(
    mp4: RenderResult, tmp_path: Path
) -> None:
    """What an encoder a crash left running did to the next attempt's file: a second moov,
    then the rest of its own write as a box that runs past the end."""
    whole = mp4.video.read_bytes()
    assert container_problem(mp4.video, mp4.duration, matroska=False) is None
    boxes = {kind: (at, size) for kind, at, size in _top_boxes(whole)}
    at, size = boxes[b"moov"]
    doubled = tmp_path / "doubled.mp4"
    doubled.write_bytes(whole + whole[at : at + size])
    assert container_problem(doubled, mp4.duration, matroska=False) == (
        "it has 2 moov boxes, not one"
    )
    stray = tmp_path / "stray.mp4"
    stray.write_bytes(whole + b"\x00\x01\x00\x00free" + b"x" * 100)
    problem = container_problem(stray, mp4.duration, matroska=False)
    assert problem is not None and problem.startswith("its boxes end at byte")
    assert container_problem(mp4.video, mp4.duration + 5, matroska=False) == (
        f"it lasts {mp4.duration:.2f} s, not {mp4.duration + 5:.2f} s"
    )


def _top_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    import struct

    boxes, at = [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        boxes.append((kind, at, size))
        at += size
    return boxes


def test_vertical_shorts(tmp_path: Path) -> None:
    config = replace(FAST, vertical=True)
    result = render(
        tmp_path, RenderSettings(output=config), replace(IDEA, script_content="Vertical video.")
    )
    assert (
        probe_mp4(result.video).track("vide").width,
        probe_mp4(result.video).track("vide").height,
    ) == (720, 1280)


def test_assets_logo_and_word_highlight(tmp_path: Path) -> None:
    assets = tmp_path / "assets" / "sky"
    assets.mkdir(parents=True)
    photo = np.zeros((900, 1600, 3), dtype=np.uint8)
    photo[:, :, 2] = np.linspace(60, 255, 1600, dtype=np.uint8)[None, :]
    photo[::50, :, :] = 255  # stripes, so that a zoom shows
    Image.fromarray(photo).save(assets / "blue-sky.jpg")
    Image.fromarray(np.full((300, 300, 3), 200, np.uint8)).save(tmp_path / "unrelated.jpg")
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (200, 200), (255, 0, 0, 255)).save(logo)
    visuals = VisualSettings(
        assets_dir=tmp_path / "assets", music_dir=None, logo=logo, word_highlight=True
    )
    result = render(tmp_path, RenderSettings(output=FAST, visuals=visuals))
    first = decoded_frame(result.video, 2.5, (1280, 720)).astype(int)
    later = decoded_frame(result.video, 6.0, (1280, 720)).astype(int)
    assert np.abs(first[:400] - later[:400]).mean() > 2  # the still photo moves (zoom/pan)
    x0 = 1280 - round(720 * 0.04) - 20
    assert first[40, x0][0] > 200 and first[40, x0][1] < 60  # the red logo, top right (modern)
    assert "Look up on a clear day" in result.captions.read_text()  # srt merges word cues


def test_a_vertical_copy_shares_the_narration_and_lands_beside_the_video(tmp_path: Path) -> None:
    """For TikTok, Reels and Shorts: one render makes both shapes — the voice is made once,
    the 9:16 copy has the same length and sound, and it appears only with the video."""
    stages: list[str] = []
    result = render_item(
        IDEA, 2, RenderSettings(output=FAST, vertical_too=True), tmp_path / "out",
        tmp_path / "work", progress=lambda stage, done: stages.append(stage) if done == 0 else None,
    )  # fmt: skip
    copy = Path(result.renditions["9:16"])
    assert copy.name == "002-why-the-sky-is-blue.9x16.mp4" and copy.parent == result.video.parent
    wide, tall = probe_mp4(result.video), probe_mp4(copy)
    assert (wide.track("vide").width, wide.track("vide").height) == (1280, 720)
    assert (tall.track("vide").width, tall.track("vide").height) == (720, 1280)
    assert tall.duration == pytest.approx(wide.duration, abs=0.05)
    assert stages.count("speech") == 1 and "rendition" in stages  # the voice made once
    assert sorted(p.name for p in copy.parent.iterdir() if p.name.startswith(".")) == []
    again = render_item(
        IDEA, 2, RenderSettings(output=FAST), tmp_path / "plain", tmp_path / "work2"
    )
    assert again.renditions == {}  # asked only when a platform wants it
