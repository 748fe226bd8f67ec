"""ffmpeg (imageio-ffmpeg's bundled binary) and PCM audio helpers shared by the stages."""

from __future__ import annotations

import re
import subprocess
import wave
from functools import lru_cache
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from app.pipeline.errors import RenderError

SAMPLE_RATE = 48_000
FFMPEG_TIMEOUT = 600


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as exc:
        raise RenderError(
            "the bundled ffmpeg is missing — reinstall Cadence (bash packaging/setup.sh run)"
        ) from exc


def run_ffmpeg(
    args: list[str], *, input_bytes: bytes | None = None, timeout: float = FFMPEG_TIMEOUT
) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg; a failure becomes a `RenderError` with ffmpeg's last words."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args]
    try:
        result = subprocess.run(
            cmd, input=input_bytes, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"ffmpeg took longer than {timeout:.0f} s and was stopped") from exc
    if result.returncode != 0:
        raise RenderError(describe_ffmpeg_failure(result.stderr.decode("utf-8", "replace")))
    return result


def describe_ffmpeg_failure(stderr: str) -> str:
    """One line naming the cause and the fix, from ffmpeg's error output."""
    text = stderr.lower()
    if "no space left on device" in text:
        return "the disk is full — free some space in the output folder, then retry"
    if "permission denied" in text:
        return "ffmpeg was refused access to a file — check the output folder's permissions"
    if "invalid data found" in text or "could not find codec parameters" in text:
        return "a media file is damaged or not a format ffmpeg reads — replace it"
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return "ffmpeg failed: " + (lines[-1].strip() if lines else "no details")


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Samples as float32 in [-1, 1], shape (n,) for mono or (n, channels), and the rate."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, OSError) as exc:
        raise RenderError(f"audio file {path.name} cannot be read ({exc})") from exc
    if width != 2:
        raise RenderError(f"audio file {path.name} is not 16-bit PCM")
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    return (samples if channels == 1 else samples.reshape(-1, channels)), rate


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """16-bit PCM; clipped to [-1, 1]. Written to a temporary name, then renamed."""
    clipped = np.clip(samples, -1.0, 1.0)
    channels = 1 if clipped.ndim == 1 else clipped.shape[1]
    pcm = (clipped * 32767.0).round().astype("<i2")
    temp = path.with_name(path.name + ".part")
    with wave.open(str(temp), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
    temp.replace(path)


def resample(samples: np.ndarray, rate: int, channels: int = 2) -> np.ndarray:
    """To 48 kHz with ``channels`` channels, through ffmpeg's resampler."""
    source_channels = 1 if samples.ndim == 1 else samples.shape[1]
    result = run_ffmpeg(
        [
            "-f",
            "f32le",
            "-ar",
            str(rate),
            "-ac",
            str(source_channels),
            "-i",
            "pipe:0",
            "-ar",
            str(SAMPLE_RATE),
            "-ac",
            str(channels),
            "-f",
            "f32le",
            "pipe:1",
        ],
        input_bytes=np.ascontiguousarray(samples, dtype="<f4").tobytes(),
    )
    out = np.frombuffer(result.stdout, dtype="<f4")
    return out.reshape(-1, channels) if channels > 1 else out


def decode_audio(path: Path) -> np.ndarray:
    """Any audio file ffmpeg reads, as 48 kHz stereo float32."""
    result = run_ffmpeg(
        ["-i", str(path), "-vn", "-ar", str(SAMPLE_RATE), "-ac", "2", "-f", "f32le", "pipe:1"]
    )
    return np.frombuffer(result.stdout, dtype="<f4").reshape(-1, 2)


_EBUR128 = re.compile(r"I:\s+(-?[\d.]+|-inf) LUFS.*?Peak:\s+(-?[\d.]+|-inf) dBFS", re.DOTALL)
TARGET_LUFS = -16.0
TRUE_PEAK_DB = -1.5


def _loudness_from(stderr: bytes) -> tuple[float, float]:
    summary = stderr.decode("utf-8", "replace").rsplit("Summary:", 1)[-1]
    match = _EBUR128.search(summary)
    if not match:
        raise RenderError("could not measure loudness (ffmpeg printed no figures)")
    return tuple(-120.0 if v == "-inf" else float(v) for v in match.groups())  # type: ignore[return-value]


def measure_loudness(path: Path) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) of an audio file (EBU R128)."""
    result = run_ffmpeg(
        ["-nostats", "-i", str(path), "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"]
    )
    return _loudness_from(result.stderr)


def measure_samples(samples: np.ndarray, rate: int = SAMPLE_RATE) -> tuple[float, float]:
    """The same for samples in memory (float32, mono or stereo)."""
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    result = run_ffmpeg(
        [
            "-nostats",
            "-f",
            "f32le",
            "-ar",
            str(rate),
            "-ac",
            str(channels),
            "-i",
            "pipe:0",
            "-af",
            "ebur128=peak=true:framelog=quiet",
            "-f",
            "null",
            "-",
        ],
        input_bytes=np.ascontiguousarray(samples, dtype="<f4").tobytes(),
    )
    return _loudness_from(result.stderr)


def limit(samples: np.ndarray, ceiling: float) -> np.ndarray:
    """Soft-knee limiter: untouched below 80 % of ``ceiling``, never above it."""
    knee = ceiling * 0.8
    magnitude = np.abs(samples)
    over = magnitude > knee
    if not over.any():
        return samples
    out = samples.copy()
    squeezed = knee + (ceiling - knee) * np.tanh((magnitude[over] - knee) / (ceiling - knee))
    out[over] = np.sign(samples[over]) * squeezed
    return out


def normalise(samples: np.ndarray, lufs: float = TARGET_LUFS) -> np.ndarray:
    """Gain to ``lufs`` integrated loudness, peaks held under −1.5 dBTP. Length unchanged."""
    measured, peak = measure_samples(samples)
    if measured <= -70.0:  # silence (or nearly): nothing to normalise
        return samples
    gain_db = lufs - measured
    out = (samples * np.float32(10 ** (gain_db / 20))).astype(np.float32)
    if peak + gain_db > TRUE_PEAK_DB:
        out = limit(out, 10 ** ((TRUE_PEAK_DB - 0.5) / 20))  # sample ceiling with a margin
    return out


def fit_length(samples: np.ndarray, length: int) -> np.ndarray:
    """Cut or pad with silence to exactly ``length`` samples."""
    if len(samples) >= length:
        return samples[:length]
    pad = np.zeros((length - len(samples), *samples.shape[1:]), dtype=samples.dtype)
    return np.concatenate([samples, pad])
