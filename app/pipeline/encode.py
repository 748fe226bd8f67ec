"""Encoding with moviepy through imageio-ffmpeg's ffmpeg: settings per codec and level.

H.264 follows YouTube's recommended upload settings: High profile, 4:2:0, BT.709, progressive,
closed GOP of half the frame rate, two B-frames, ``moov`` first, AAC-LC stereo 48 kHz.
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import proglog

from app.domain.output import AudioCodec, Container, Optimize, OutputConfig, VideoCodec
from app.pipeline.errors import Canceled, RenderError
from app.pipeline.media import describe_ffmpeg_failure, ffmpeg_exe

log = logging.getLogger(__name__)

# x264/x265 preset and CRF, and VP9 deadline/cpu-used/CRF, per optimisation level.
X264 = {
    Optimize.SPEED: ("veryfast", 23),
    Optimize.BALANCED: ("medium", 20),
    Optimize.QUALITY: ("slow", 18),
}
X265 = {
    Optimize.SPEED: ("veryfast", 26),
    Optimize.BALANCED: ("medium", 24),
    Optimize.QUALITY: ("slow", 22),
}
VP9 = {
    Optimize.SPEED: ("realtime", 8, 36),
    Optimize.BALANCED: ("good", 4, 32),
    Optimize.QUALITY: ("good", 1, 30),
}
AUDIO_BITRATE = {AudioCodec.AAC: "384k", AudioCodec.OPUS: "192k"}
HARDWARE = {
    VideoCodec.H264: ("h264_nvenc", "h264_qsv", "h264_videotoolbox"),
    VideoCodec.H265: ("hevc_nvenc", "hevc_qsv", "hevc_videotoolbox"),
    VideoCodec.VP9: ("vp9_qsv",),
}
BT709 = ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]


@dataclass(frozen=True, slots=True)
class EncoderPlan:
    codec: str  # the ffmpeg encoder
    preset: str
    params: list[str]
    audio_codec: str

    @property
    def hardware(self) -> bool:
        return not self.codec.startswith("lib")


def plan(config: OutputConfig, encoder: str | None = None) -> EncoderPlan:
    """The encoder and its arguments for ``config`` (``encoder`` overrides the software one)."""
    config.checked()
    gop = max(1, config.fps // 2)
    audio = "aac" if config.audio_codec is AudioCodec.AAC else "libopus"
    audio_params = ["-b:a", AUDIO_BITRATE[config.audio_codec], "-ar", "48000", "-ac", "2"]
    scale = [
        "-vf",
        "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv",
    ]
    container = ["-movflags", "+faststart"] if config.container is not Container.WEBM else []
    if config.video_codec is VideoCodec.H264:
        preset, crf = X264[config.optimize]
        if encoder and encoder != "libx264":
            return EncoderPlan(
                encoder,
                preset,
                [*scale, *_hardware_h264(encoder, crf, gop), *BT709, *container, *audio_params],
                audio,
            )
        params = [
            *scale, "-profile:v", "high", "-crf", str(crf), "-g", str(gop),
            "-keyint_min", str(gop), "-sc_threshold", "0", "-bf", "2", "-flags", "+cgop",
            "-x264-params", "open-gop=0", *BT709, *container, *audio_params,
        ]  # fmt: skip
        return EncoderPlan("libx264", preset, params, audio)
    if config.video_codec is VideoCodec.H265:
        preset, crf = X265[config.optimize]
        x265 = f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:bframes=2:log-level=error"
        params = [
            *scale, "-pix_fmt", "yuv420p", "-crf", str(crf), "-x265-params", x265,
            "-tag:v", "hvc1", *BT709, *container, *audio_params,
        ]  # fmt: skip
        return EncoderPlan(encoder or "libx265", preset, params, audio)
    deadline, cpu_used, crf = VP9[config.optimize]
    params = [
        *scale, "-pix_fmt", "yuv420p", "-crf", str(crf), "-b:v", "0", "-deadline", deadline,
        "-cpu-used", str(cpu_used), "-row-mt", "1", "-g", str(config.fps * 4), *BT709,
        *audio_params,
    ]  # fmt: skip
    return EncoderPlan(encoder or "libvpx-vp9", "medium", params, audio)


def _hardware_h264(encoder: str, crf: int, gop: int) -> list[str]:
    common = ["-g", str(gop), "-bf", "2", "-profile:v", "high"]
    if encoder.endswith("nvenc"):
        return [
            *common,
            "-rc",
            "vbr",
            "-cq",
            str(crf + 2),
            "-b:v",
            "0",
            "-strict_gop",
            "1",
            "-forced-idr",
            "1",
        ]
    if encoder.endswith("qsv"):
        return [*common, "-global_quality", str(crf + 2), "-look_ahead", "0"]
    return [*common, "-q:v", "65"]


def detect_hardware(codec: VideoCodec, cache_file: Path) -> str | None:
    """A hardware encoder for ``codec`` that works on this machine, probed once and cached."""
    version = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, text=True, check=False
    ).stdout.split("\n", 1)[0]
    cache: dict[str, Any] = {}
    if cache_file.exists():
        try:
            cache = json.loads(cache_file.read_text())
        except (OSError, ValueError):
            cache = {}
    if cache.get("ffmpeg") != version:
        cache = {"ffmpeg": version, "encoders": {}}
    if codec.value in cache["encoders"]:
        found = cache["encoders"][codec.value]
        return str(found) if found else None
    working = None
    for candidate in HARDWARE[codec]:
        test = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
             "color=black:s=256x256:d=0.2", "-c:v", candidate, "-f", "null", "-"],
            capture_output=True, timeout=30, check=False,
        )  # fmt: skip
        if test.returncode == 0:
            working = candidate
            break
    cache["encoders"][codec.value] = working
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    cache_file.write_text(json.dumps(cache, indent=2))
    log.info("hardware %s encoder: %s", codec.value, working or "none, using software")
    return working


class _Progress(proglog.ProgressBarLogger):
    """Turns moviepy's frame counter into a fraction, and lets a cancel stop the write."""

    def __init__(
        self, total: int, report: Callable[[float], None], cancel: Callable[[], bool]
    ) -> None:
        super().__init__()
        self.total = max(total, 1)
        self.report = report
        self.cancel = cancel
        self.last = -1

    def bars_callback(self, bar: str, attr: str, value: int, old_value: int | None = None) -> None:
        if attr != "index":
            return
        if self.cancel():
            raise Canceled
        step = value * 100 // self.total
        if step != self.last:
            self.last = step
            self.report(min(value / self.total, 1.0))


def encode(
    frame_at: Callable[[float], Any],
    frames: int,
    soundtrack: Path,
    config: OutputConfig,
    destination: Path,
    *,
    encoder: str | None = None,
    progress: Callable[[float], None] = lambda _f: None,
    cancel: Callable[[], bool] = lambda: False,
) -> Path:
    """Write the video to a temporary name beside ``destination`` and rename it when whole."""
    from moviepy import VideoClip

    chosen = plan(config, encoder)
    temp = destination.with_name(f".{destination.stem.lstrip('.')}.partial{destination.suffix}")
    clip = VideoClip(frame_function=frame_at, duration=frames / config.fps)
    logger = _Progress(frames, progress, cancel)
    try:
        clip.write_videofile(
            str(temp), fps=config.fps, codec=chosen.codec, preset=chosen.preset,
            audio=str(soundtrack), audio_codec=chosen.audio_codec,
            ffmpeg_params=chosen.params, logger=logger, threads=None,
        )  # fmt: skip
    except Canceled:
        temp.unlink(missing_ok=True)
        raise
    except OSError as exc:
        temp.unlink(missing_ok=True)
        message = str(exc)
        if "No space left" in message or getattr(exc, "errno", None) == 28:
            raise RenderError(
                "the disk is full — free some space in the output folder, then retry"
            ) from exc
        raise RenderError(describe_ffmpeg_failure(message)) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    finally:
        clip.close()
    temp.replace(destination)
    return destination
