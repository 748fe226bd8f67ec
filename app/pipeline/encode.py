"""Encoding with moviepy through imageio-ffmpeg's ffmpeg: settings per codec and level.

H.264 follows YouTube's recommended upload settings: High profile, 4:2:0, BT.709, progressive,
closed GOP of half the frame rate, two B-frames, ``moov`` first, AAC-LC stereo 48 kHz.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import proglog
from moviepy.video.io.ffmpeg_writer import FFMPEG_VideoWriter

from app.domain.output import AudioCodec, Container, Optimize, OutputConfig, VideoCodec
from app.pipeline.errors import Canceled, DamagedOutput, RenderError
from app.pipeline.media import describe_ffmpeg_failure, ffmpeg_exe
from app.pipeline.probe import container_problem
from app.pipeline.visuals import FrameSource

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
# Frames x264 looks ahead (its presets' own: 10, 40, 50). Each is a full frame and more held
# in memory: at 1080p, 20 instead of 40 saves ~130 MB for files within 1 % of the size, and
# 10 instead of 20 another ~40 MB — what keeps a 1080p render over moving pictures under
# 600 MB (its frames reach ffmpeg as RGB, twice the bytes of the stills' I420).
LOOKAHEAD = {Optimize.SPEED: 10, Optimize.BALANCED: 10, Optimize.QUALITY: 30}
# x264's own default is 1.5 threads per core, each with frames of its own in memory; the
# render's compositing keeps a core busy too, so one per core is as fast and ~40 MB lighter.
X264_THREADS = max(os.cpu_count() or 1, 1)
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


TAGS_709 = "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"


def plan(config: OutputConfig, encoder: str | None = None, *, planar: bool = False) -> EncoderPlan:
    """The encoder and its arguments for ``config`` (``encoder`` overrides the software one).

    ``planar`` frames arrive as BT.709 I420 already; otherwise ffmpeg converts from RGB.
    """
    config.checked()
    gop = max(1, config.fps // 2)
    audio = "aac" if config.audio_codec is AudioCodec.AAC else "libopus"
    audio_params = ["-b:a", AUDIO_BITRATE[config.audio_codec], "-ar", "48000", "-ac", "2"]
    if planar:
        scale = ["-vf", TAGS_709]
    else:
        scale = ["-vf", f"scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,{TAGS_709}"]
    container = ["-movflags", "+faststart"] if config.container is not Container.WEBM else []
    if config.video_codec is VideoCodec.H264:
        preset, crf = X264[config.optimize]
        if encoder and encoder != "libx264":
            video = _hardware_h264(encoder, crf, gop)
        else:
            encoder, video = "libx264", _x264(config, crf, gop)
        return EncoderPlan(
            encoder, preset, [*scale, *video, *BT709, *container, *audio_params], audio
        )
    if config.video_codec is VideoCodec.H265:
        preset, crf = X265[config.optimize]
        x265 = f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:bframes=2:log-level=error"
        video = ["-pix_fmt", "yuv420p", "-crf", str(crf), "-x265-params", x265, "-tag:v", "hvc1"]
        params = [*scale, *video, *BT709, *container, *audio_params]
        return EncoderPlan(encoder or "libx265", preset, params, audio)
    deadline, cpu_used, crf = VP9[config.optimize]
    video = [
        "-pix_fmt", "yuv420p", "-crf", str(crf), "-b:v", "0", "-deadline", deadline,
        "-cpu-used", str(cpu_used), "-row-mt", "1", "-g", str(config.fps * 4),
    ]  # fmt: skip
    return EncoderPlan(
        encoder or "libvpx-vp9", "medium", [*scale, *video, *BT709, *audio_params], audio
    )


def _x264(config: OutputConfig, crf: int, gop: int) -> list[str]:
    """libx264: closed GOPs of half a second, no scene cuts (every segment seeks cleanly)."""
    lookahead = LOOKAHEAD[config.optimize]
    return [
        "-profile:v", "high", "-crf", str(crf), "-g", str(gop), "-keyint_min", str(gop),
        "-sc_threshold", "0", "-bf", "2", "-flags", "+cgop", "-x264-params",
        f"open-gop=0:rc-lookahead={lookahead}:threads={X264_THREADS}:sync-lookahead=0",
    ]  # fmt: skip


def _planar_frames(frames: FrameSource) -> Callable[[float], np.ndarray]:
    """Frames as I420, each converted once (frames come in time order: only the current one
    is kept)."""
    converted: dict[int, np.ndarray] = {}

    def frame_at(t: float) -> np.ndarray:
        rgb = frames.frame(t)
        key = id(rgb)
        if key not in converted:
            converted.clear()
            converted[key] = rgb_to_i420(rgb)
        return converted[key]

    return frame_at


def _encoding_failed(exc: OSError) -> RenderError:
    message = str(exc)
    if "No space left" in message or getattr(exc, "errno", None) == 28:
        return RenderError("the disk is full — free some space in the output folder, then retry")
    return RenderError(describe_ffmpeg_failure(message))


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
            [
                ffmpeg_exe(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                "color=black:s=256x256:d=0.2",
                "-c:v",
                candidate,
                "-f",
                "null",
                "-",
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
        if test.returncode == 0:
            working = candidate
            break
    cache["encoders"][codec.value] = working
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    cache_file.write_text(json.dumps(cache, indent=2))
    log.info("hardware %s encoder: %s", codec.value, working or "none, using software")
    return working


# A stop asked for (a pause, a quit) lets an encode this near its end finish: its work is
# kept as the stage's checkpoint, where stopping would throw it all away.
NEARLY_DONE = 0.8
NEARLY_DONE_SECONDS = 30.0


class _Progress(proglog.ProgressBarLogger):
    """Turns moviepy's frame counter into a fraction, and lets a stop end the write — unless
    the encode is nearly done (`NEARLY_DONE`), which then finishes first."""

    def __init__(
        self, total: int, report: Callable[[float], None], stop: Callable[[], bool]
    ) -> None:
        super().__init__()
        self.total = max(total, 1)
        self.report = report
        self.stop = stop
        self.last = -1
        self.began = time.monotonic()
        self.finishing = False

    def _nearly_done(self, value: int) -> bool:
        fraction = value / self.total
        if fraction >= NEARLY_DONE:
            return True
        elapsed = time.monotonic() - self.began
        return fraction > 0.05 and elapsed * (1 - fraction) / fraction <= NEARLY_DONE_SECONDS

    def bars_callback(self, bar: str, attr: str, value: int, old_value: int | None = None) -> None:
        if attr != "index":
            return
        if not self.finishing and self.stop():
            if not self._nearly_done(value):
                raise Canceled
            self.finishing = True
            log.info(
                "stop asked at %d %% of the encode: finishing it first", value * 100 // self.total
            )
        step = value * 100 // self.total
        if step != self.last:
            self.last = step
            self.report(min(value / self.total, 1.0))


def rgb_to_i420(frame: np.ndarray) -> np.ndarray:
    """An (h, w, 3) RGB frame as BT.709 limited-range I420, shaped (h * 3 / 2, w).

    Chroma is the average of each 2×2 block. Done once per distinct frame, not per frame.
    """
    rgb = frame.astype(np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16.0 + (0.2126 * r + 0.7152 * g + 0.0722 * b) * (219.0 / 255.0)
    cb = 128.0 + (-0.1146 * r - 0.3854 * g + 0.5 * b) * (224.0 / 255.0)
    cr = 128.0 + (0.5 * r - 0.4542 * g - 0.0458 * b) * (224.0 / 255.0)
    h, w = y.shape

    def half(plane: np.ndarray) -> np.ndarray:
        return plane.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)).reshape(h // 4, w)

    planes = [y, half(cb), half(cr)]
    return np.concatenate([np.clip(p, 0, 255).round().astype(np.uint8) for p in planes])


class _Writer(FFMPEG_VideoWriter):
    """moviepy's writer with our own command: I420 or RGB input, nothing appended after us.

    (moviepy's own forces RGB input and appends ``-pix_fmt`` after the caller's arguments.)
    """

    def __init__(
        self,
        filename: str,
        size: tuple[int, int],
        fps: int,
        plan: EncoderPlan,
        audiofile: str,
        input_format: str,
    ) -> None:
        self.logfile = subprocess.PIPE
        self.filename = filename
        self.codec = plan.codec
        self.ext = filename.rsplit(".", 1)[-1]
        cmd = [
            ffmpeg_exe(),
            "-y",
            "-loglevel",
            "error",
            "-thread_queue_size",  # frames waiting between the pipe and the encoder: few
            "2",
            "-f",
            "rawvideo",
            "-vcodec",
            "rawvideo",
            "-s",
            f"{size[0]}x{size[1]}",
            "-pix_fmt",
            input_format,
            "-r",
            str(fps),
            "-an",
            "-i",
            "-",
            "-i",
            audiofile,
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            plan.codec,
            "-preset",
            plan.preset,
            *plan.params,
            "-c:a",
            plan.audio_codec,
            filename,
        ]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )


def encode(
    frames: FrameSource,
    count: int,
    soundtrack: Path,
    config: OutputConfig,
    destination: Path,
    *,
    encoder: str | None = None,
    progress: Callable[[float], None] = lambda _f: None,
    stop: Callable[[], bool] = lambda: False,
) -> Path:
    """Write the video to a temporary name beside ``destination`` and rename it when whole.

    Frames that never move are converted to I420 once each and piped as they are, which
    halves what goes through the pipe and spares ffmpeg a colour conversion per frame.
    """
    from moviepy import VideoClip

    planar = frames.static and encoder is None
    chosen = plan(config, encoder, planar=planar)
    # A name of this attempt's own: an encoder a crash left running elsewhere never writes
    # into the file this one is making.
    attempt = f"{os.getpid()}-{secrets.token_hex(3)}"
    temp = destination.with_name(
        f".{destination.stem.lstrip('.')}.{attempt}.partial{destination.suffix}"
    )
    frame_at = _planar_frames(frames) if planar else frames.frame
    clip = VideoClip(frame_function=frame_at, duration=count / config.fps)
    logger = _Progress(count, progress, stop)
    try:
        with _Writer(
            str(temp),
            config.size,
            config.fps,
            chosen,
            str(soundtrack),
            "yuv420p" if planar else "rgb24",
        ) as writer:
            for frame in clip.iter_frames(logger=logger, fps=config.fps, dtype="uint8"):
                writer.write_frame(frame)
    except Canceled:
        temp.unlink(missing_ok=True)
        raise
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise _encoding_failed(exc) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    finally:
        clip.close()
    problem = container_problem(
        temp, count / config.fps, matroska=config.container is Container.WEBM
    )
    if problem is not None:
        temp.unlink(missing_ok=True)
        raise DamagedOutput(f"the encoded video was not sound ({problem}) and was not kept")
    temp.replace(destination)
    return destination
