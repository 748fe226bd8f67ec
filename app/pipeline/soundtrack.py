"""The soundtrack: the voice placed after the intro, music looped and ducked under speech,
mixed ten seconds at a time and normalised to −16 LUFS."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from app.pipeline.errors import RenderError
from app.pipeline.media import (
    BLOCK,
    SAMPLE_RATE,
    WavWriter,
    decode_audio,
    measure_samples,
    normalise_file,
    wav_blocks,
)

AUDIO_SUFFIXES = {".m4a", ".mp3", ".ogg", ".opus", ".wav", ".flac", ".aac"}


def pick_music(folder: Path | None, preferred: str, seed: str) -> Path | None:
    if folder is None or not folder.is_dir():
        return None
    tracks = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    if not tracks:
        return None
    for track in tracks:
        if track.name == preferred:
            return track
    return tracks[int(hashlib.sha1(seed.encode()).hexdigest(), 16) % len(tracks)]


def _smooth(coarse: np.ndarray, seconds: float) -> np.ndarray:
    """A 0/1 envelope (one value per 100 samples) smoothed with a moving average."""
    width = max(1, int(seconds * SAMPLE_RATE / 100))
    kernel = np.ones(width, dtype=np.float32) / width
    return np.convolve(coarse.astype(np.float32), kernel, mode="same")


def _music_bed(
    music: Path | None,
    timings: Sequence[tuple[float, float]],
    offset: int,
    total_samples: int,
    music_level_db: float,
    warnings: list[str],
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The music, decoded, and its gain per 100 samples — at ``music_level_db`` under the
    voice, 8 dB louder between sentences — or (None, None) without usable music."""
    if music is None:
        return None, None
    try:
        bed = decode_audio(music)
        level, _peak = measure_samples(bed)
    except RenderError as exc:
        raise RenderError(
            f"music {music.name} cannot be used ({exc}) — replace or remove it"
        ) from exc
    if len(bed) < SAMPLE_RATE:
        warnings.append(f"music {music.name} is shorter than a second and was left out")
        return None, None
    coarse = np.zeros(-(-total_samples // 100), dtype=bool)
    for start, end in timings:
        first = (offset + int(start * SAMPLE_RATE)) // 100
        coarse[first : (offset + int((end + 0.3) * SAMPLE_RATE)) // 100] = True
    duck = _smooth(coarse, 0.3)
    under, over = music_level_db, music_level_db + 8.0
    gain = (10 ** ((over + (under - over) * duck + (-16.0 - level)) / 20)).astype(np.float32)
    return bed, gain


def soundtrack(
    voice: Path,
    timings: Sequence[tuple[float, float]],
    *,
    intro: float,
    total_samples: int,
    music: Path | None,
    music_level_db: float,
    out: Path,
) -> list[str]:
    """Voice at ``intro``, music looped and ducked under speech, mixed to −16 LUFS.

    Mixed ten seconds at a time into a file and normalised from it, so memory stays flat
    whatever the video's length; only the music loop and a coarse ducking envelope (one value
    per 100 samples) are held whole."""
    warnings: list[str] = []
    offset = round(intro * SAMPLE_RATE)
    bed, gain = _music_bed(music, timings, offset, total_samples, music_level_db, warnings)
    fade_in, fade_out = SAMPLE_RATE, min(3 * SAMPLE_RATE, total_samples // 3)
    mixed = out.with_name(out.stem + ".mix.wav")
    writer = WavWriter(mixed, SAMPLE_RATE, 2)
    voice_blocks = wav_blocks(voice)
    pending = np.zeros((0, 2), dtype=np.float32)  # voice samples read but not yet mixed
    voice_at = offset  # where the next voice sample goes
    try:
        for start in range(0, total_samples, BLOCK):
            stop = min(start + BLOCK, total_samples)
            block = np.zeros((stop - start, 2), dtype=np.float32)
            # The voice: read as far as this block reaches.
            while voice_at + len(pending) < stop:
                chunk = next(voice_blocks, None)
                if chunk is None:
                    break
                pending = np.concatenate([pending, chunk.reshape(-1, 2)])
            lo = max(start, voice_at)
            hi = min(stop, voice_at + len(pending))
            if hi > lo:
                block[lo - start : hi - start] += pending[lo - voice_at : hi - voice_at]
                pending, voice_at = pending[hi - voice_at :], hi
            if bed is not None and gain is not None:
                index = np.arange(start, stop)
                envelope = gain[index // 100]
                fade = np.ones(stop - start, dtype=np.float32)
                fade = np.minimum(fade, index / fade_in)
                fade = np.minimum(fade, (total_samples - index) / fade_out)
                block += bed[index % len(bed)] * (envelope * np.clip(fade, 0, 1))[:, None]
            writer.write(block)
    except BaseException:
        writer.abandon()
        raise
    writer.close()
    normalise_file(mixed, out)
    mixed.unlink(missing_ok=True)
    return warnings
