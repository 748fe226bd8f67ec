"""Make the bundled background music: two seamless loops, synthesised here (CC0).

    .venv/bin/python packaging/make_music.py

Writes resources/music/calm-pad.m4a and light-pulse.m4a (AAC, 48 kHz stereo). Deterministic.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg
import numpy as np

RATE = 48_000
OUT = Path(__file__).resolve().parent.parent / "resources" / "music"


def note(name: str) -> float:
    names = {"C": -9, "D": -7, "E": -5, "F": -4, "G": -2, "A": 0, "B": 2}
    semitone = names[name[0]] + (1 if "#" in name else 0) + 12 * (int(name[-1]) - 4)
    return 440.0 * 2 ** (semitone / 12)


CHORDS = [
    ["C3", "G3", "E4", "B4"],  # Cmaj7
    ["A2", "E3", "C4", "G4"],  # Am7
    ["F2", "C3", "A3", "E4"],  # Fmaj7
    ["G2", "D3", "B3", "F4"],  # G7
]


def pad(bar_seconds: float = 4.0) -> np.ndarray:
    n = int(bar_seconds * RATE)
    t = np.arange(n) / RATE
    env = np.sin(np.pi * t / bar_seconds) ** 0.6
    bars = []
    for chord in CHORDS:
        tone = sum(
            np.sin(2 * np.pi * note(p) * t + k) + 0.3 * np.sin(2 * np.pi * 2 * note(p) * t)
            for k, p in enumerate(chord)
        )
        bars.append(tone * env / len(chord))
    mono = np.concatenate(bars * 2)
    return _stereo(mono, 0.012)


def pulse(bar_seconds: float = 2.0) -> np.ndarray:
    step = bar_seconds / 8
    n_step = int(step * RATE)
    t = np.arange(n_step) / RATE
    decay = np.exp(-t * 9)
    out = []
    for chord in CHORDS * 2:
        for i in range(8):
            f = note(chord[(i * 3) % 4]) * 2
            pluck = (np.sin(2 * np.pi * f * t) + 0.4 * np.sin(4 * np.pi * f * t)) * decay
            bass = 0.5 * np.sin(2 * np.pi * note(chord[0]) * t) * (decay**0.3 if i % 4 == 0 else 0)
            out.append(pluck * 0.6 + bass)
    return _stereo(np.concatenate(out), 0.018)


def _stereo(mono: np.ndarray, delay_s: float) -> np.ndarray:
    d = int(delay_s * RATE)
    left = mono + 0.35 * np.roll(mono, d)
    right = mono + 0.35 * np.roll(mono, 2 * d)
    both = np.stack([left, right], axis=1)
    return (both / np.abs(both).max() * 0.5).astype("<f4")


def encode(samples: np.ndarray, path: Path) -> None:
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error",
         "-f", "f32le", "-ar", str(RATE), "-ac", "2", "-i", "pipe:0",
         "-c:a", "aac", "-b:a", "128k", "-map_metadata", "-1", "-fflags", "+bitexact",
         "-flags:a", "+bitexact", str(path)],
        input=samples.tobytes(), check=True,
    )  # fmt: skip


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    encode(pad(), OUT / "calm-pad.m4a")
    encode(pulse(), OUT / "light-pulse.m4a")
    print(f"wrote music to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
