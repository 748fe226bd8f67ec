"""ffmpeg (imageio-ffmpeg's bundled binary) and PCM audio helpers shared by the stages."""

from __future__ import annotations

import re
import subprocess
import wave
from collections.abc import Iterator
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


# --- audio through files, in blocks: memory stays flat however long the narration is ---------

BLOCK = SAMPLE_RATE * 10  # frames per block: ten seconds


class WavWriter:
    """16-bit PCM written block by block to a temporary name, renamed when closed whole."""

    def __init__(self, path: Path, rate: int, channels: int) -> None:
        self.path = path
        self.temp = path.with_name(path.name + ".part")
        self.wav = wave.open(str(self.temp), "wb")  # noqa: SIM115 — closed in close()
        self.wav.setnchannels(channels)
        self.wav.setsampwidth(2)
        self.wav.setframerate(rate)
        self.frames = 0

    def write(self, samples: np.ndarray) -> None:
        pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
        self.wav.writeframes(pcm.tobytes())
        self.frames += len(samples)

    def close(self) -> None:
        self.wav.close()
        self.temp.replace(self.path)

    def abandon(self) -> None:
        self.wav.close()
        self.temp.unlink(missing_ok=True)


def wav_info(path: Path) -> tuple[int, int, int]:
    """(frames, rate, channels) of a 16-bit WAV file."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes(), wav.getframerate(), wav.getnchannels()
    except (wave.Error, EOFError, OSError) as exc:
        raise RenderError(f"audio file {path.name} cannot be read ({exc})") from exc


def wav_blocks(path: Path, frames: int = BLOCK) -> Iterator[np.ndarray]:
    """A 16-bit WAV file's samples, ``frames`` at a time, as float32 (n,) or (n, channels)."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels = wav.getnchannels()
            while True:
                raw = wav.readframes(frames)
                if not raw:
                    return
                samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
                yield samples if channels == 1 else samples.reshape(-1, channels)
    except (wave.Error, EOFError, OSError) as exc:
        raise RenderError(f"audio file {path.name} cannot be read ({exc})") from exc


def resample_file(source: Path, out: Path, channels: int = 2) -> None:
    """A WAV file to 48 kHz with ``channels`` channels (16-bit), ffmpeg streaming it."""
    temp = out.with_name(out.name + ".part.wav")
    run_ffmpeg(
        ["-i", str(source), "-ar", str(SAMPLE_RATE), "-ac", str(channels),
         "-c:a", "pcm_s16le", str(temp)]
    )  # fmt: skip
    temp.replace(out)


def normalise_file(source: Path, out: Path, lufs: float = TARGET_LUFS) -> int:
    """`normalise` for a WAV file, block by block (the limiter works sample by sample, so the
    result is the same); returns the frames written."""
    measured, peak = measure_loudness(source)
    _frames, rate, channels = wav_info(source)
    gain = np.float32(10 ** ((lufs - measured) / 20)) if measured > -70.0 else np.float32(1.0)
    ceiling = (
        10 ** ((TRUE_PEAK_DB - 0.5) / 20)
        if measured > -70.0 and peak + (lufs - measured) > TRUE_PEAK_DB
        else None
    )
    writer = WavWriter(out, rate, channels)
    try:
        for block in wav_blocks(source):
            scaled = (block * gain).astype(np.float32)
            writer.write(limit(scaled, ceiling) if ceiling is not None else scaled)
    except BaseException:
        writer.abandon()
        raise
    writer.close()
    return writer.frames
