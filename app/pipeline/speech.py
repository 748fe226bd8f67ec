"""Speech: narration synthesised offline, one sentence at a time, timed from the real audio.

Linux uses espeak-ng's own command line (pyttsx3's espeak driver hangs or overwrites files on
repeated saves); Windows and macOS use the OS voice through pyttsx3.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from app.domain.idea import Voice
from app.pipeline.errors import RenderError
from app.pipeline.media import SAMPLE_RATE, normalise, read_wav, resample, run_ffmpeg, write_wav

log = logging.getLogger(__name__)

SENTENCE_TIMEOUT = 60.0
SILENCE_DB = -45.0


@dataclass(frozen=True, slots=True)
class SpeechSettings:
    rate_wpm: int = 165
    pause_seconds: float = 0.35
    engine: str = "auto"  # auto | espeak | pyttsx3


@dataclass(slots=True)
class Narration:
    """The voice track (48 kHz stereo, −16 LUFS) and when each sentence is spoken in it."""

    path: Path
    timings: list[tuple[float, float]]
    duration: float
    engine: str
    voice: str
    warnings: list[str] = field(default_factory=list)


class Engine(Protocol):
    name: str

    def voice_name(self, voice: Voice, text: str) -> str: ...

    def synthesize(self, text: str, voice_name: str, rate_wpm: int, out: Path) -> None: ...


# --- espeak-ng ------------------------------------------------------------------------------

_VARIANTS = {Voice.FEMALE: "+f3", Voice.MALE: "+m3", Voice.NEUTRAL: ""}
# Script → espeak-ng language, for narration that is not in English.
_SCRIPT_LANGUAGES = (
    ("CJK UNIFIED", "cmn"), ("HIRAGANA", "ja"), ("KATAKANA", "ja"), ("HANGUL", "ko"),
    ("DEVANAGARI", "hi"), ("BENGALI", "bn"), ("ARABIC", "ar"), ("HEBREW", "he"),
    ("CYRILLIC", "ru"), ("GREEK", "el"), ("THAI", "th"), ("TAMIL", "ta"), ("TELUGU", "te"),
    ("GUJARATI", "gu"), ("GURMUKHI", "pa"), ("KANNADA", "kn"), ("MALAYALAM", "ml"),
    ("GEORGIAN", "ka"), ("ARMENIAN", "hy"), ("ETHIOPIC", "am"),
)  # fmt: skip


def script_language(text: str) -> str | None:
    """The language of the script most letters of ``text`` are written in, if not Latin."""
    counts: dict[str, int] = {}
    letters = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        name = unicodedata.name(ch, "")
        for prefix, language in _SCRIPT_LANGUAGES:
            if name.startswith(prefix):
                counts[language] = counts.get(language, 0) + 1
                break
    if not counts:
        return None
    language, count = max(counts.items(), key=lambda kv: kv[1])
    return language if count * 2 >= letters else None


class Espeak:
    name = "espeak-ng"

    def __init__(self) -> None:
        binary = shutil.which("espeak-ng") or shutil.which("espeak")
        if binary is None:
            raise RenderError(
                "no speech engine: espeak-ng is not installed — install it with "
                "sudo apt-get install espeak-ng (or run bash packaging/setup.sh system)"
            )
        self.binary = binary

    @lru_cache(maxsize=1)  # noqa: B019 - one engine per process
    def languages(self) -> frozenset[str]:
        result = subprocess.run(
            [self.binary, "--voices"], capture_output=True, text=True, timeout=30, check=False
        )
        return frozenset(
            line.split()[1] for line in result.stdout.splitlines()[1:] if len(line.split()) > 1
        )

    def voice_name(self, voice: Voice, text: str) -> str:
        language = script_language(text) or "en-us"
        if language not in self.languages():
            language = "en-us"
        return language + _VARIANTS[voice]

    def synthesize(self, text: str, voice_name: str, rate_wpm: int, out: Path) -> None:
        try:
            result = subprocess.run(
                [self.binary, "-v", voice_name, "-s", str(rate_wpm), "-w", str(out), "--stdin"],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=SENTENCE_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise RenderError(
                f"espeak-ng did not finish a sentence in {SENTENCE_TIMEOUT:.0f} s — "
                "shorten the sentence or check the espeak-ng installation"
            ) from exc
        if result.returncode != 0 or not out.exists() or out.stat().st_size <= 44:
            reason = result.stderr.decode("utf-8", "replace").strip() or "no audio written"
            raise RenderError(f"espeak-ng failed ({reason}) — check the espeak-ng installation")


# --- pyttsx3 (Windows SAPI5, macOS NSSpeechSynthesizer) --------------------------------------

_FEMALE_HINTS = ("female", "zira", "hazel", "samantha", "victoria", "karen", "susan", "eva")
_MALE_HINTS = ("male", "david", "mark", "alex", "daniel", "fred", "george", "james")


class Pyttsx3:
    name = "pyttsx3"

    def __init__(self) -> None:
        try:
            import pyttsx3

            self.engine = pyttsx3.init()
        except Exception as exc:  # the OS voice layer raises a variety of errors
            raise RenderError(
                f"the system voice cannot be used ({type(exc).__name__}: {exc}) — "
                "check the OS speech settings"
            ) from exc

    def voice_name(self, voice: Voice, text: str) -> str:
        voices = self.engine.getProperty("voices") or []
        if voice is Voice.NEUTRAL or not voices:
            return ""
        hints = _FEMALE_HINTS if voice is Voice.FEMALE else _MALE_HINTS
        for candidate in voices:
            described = f"{getattr(candidate, 'gender', '')} {candidate.name}".lower()
            if any(h in described for h in hints) and not (
                voice is Voice.MALE and "female" in described
            ):
                return str(candidate.id)
        return ""

    def synthesize(self, text: str, voice_name: str, rate_wpm: int, out: Path) -> None:
        if voice_name:
            self.engine.setProperty("voice", voice_name)
        self.engine.setProperty("rate", rate_wpm)
        raw = out.with_suffix(".aiff" if sys.platform == "darwin" else ".raw.wav")
        self.engine.save_to_file(text, str(raw))
        self.engine.runAndWait()
        if not raw.exists():
            raise RenderError("the system voice wrote no audio — check the OS speech settings")
        run_ffmpeg(["-i", str(raw), "-ac", "1", "-acodec", "pcm_s16le", str(out)])
        raw.unlink(missing_ok=True)


def choose_engine(settings: SpeechSettings) -> Engine:
    name = settings.engine
    if name == "auto":
        name = "espeak" if sys.platform.startswith("linux") else "pyttsx3"
    if name == "espeak":
        return Espeak()
    if name == "pyttsx3":
        return Pyttsx3()
    raise RenderError(f"unknown speech engine {settings.engine!r} — use auto, espeak or pyttsx3")


# --- the stage -------------------------------------------------------------------------------


def trim_silence(samples: np.ndarray, rate: int, keep: float = 0.02) -> np.ndarray:
    """Drop leading and trailing near-silence, keeping ``keep`` seconds at each end."""
    if samples.size == 0:
        return samples
    threshold = 10 ** (SILENCE_DB / 20)
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if loud.size == 0:
        return samples[:0]
    margin = int(keep * rate)
    return samples[max(loud[0] - margin, 0) : loud[-1] + margin + 1]


def narrate(
    sentences: Sequence[str],
    voice: Voice,
    settings: SpeechSettings,
    workdir: Path,
    progress: Callable[[float], None] = lambda _f: None,
) -> Narration:
    """Synthesise each sentence (reusing earlier results), join with pauses, normalise."""
    if not sentences:
        raise RenderError("the script is empty — add narration to the row's script column")
    engine = choose_engine(settings)
    parts_dir = workdir / "speech"
    parts_dir.mkdir(parents=True, exist_ok=True)
    voice_name = engine.voice_name(voice, " ".join(sentences))
    warnings: list[str] = []
    if (
        voice is not Voice.NEUTRAL
        and not voice_name.endswith(_VARIANTS[voice])
        and engine.name == "pyttsx3"
    ):
        warnings.append(f"no {voice.value} system voice is installed; the default voice was used")

    def part_for(sentence: str) -> Path:
        key = hashlib.sha1(
            f"{engine.name}|{voice_name}|{settings.rate_wpm}|{sentence}".encode()
        ).hexdigest()[:16]
        part = parts_dir / f"{key}.wav"
        if not part.exists():
            temp = part.with_name(part.stem + f".{threading.get_ident()}.part.wav")
            engine.synthesize(sentence, voice_name, settings.rate_wpm, temp)
            temp.replace(part)
        return part

    # espeak-ng runs as separate processes, so sentences synthesise in parallel; the OS
    # voices behind pyttsx3 are not thread-safe and go one at a time.
    workers = (os.cpu_count() or 1) if isinstance(engine, Espeak) else 1
    parts: list[Path] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done, part in enumerate(pool.map(part_for, sentences), start=1):
            parts.append(part)
            progress(done / len(sentences) * 0.8)

    clips: list[np.ndarray] = []
    rate = 0
    for part in parts:
        samples, part_rate = read_wav(part)
        if samples.ndim > 1:
            samples = samples.mean(axis=1)
        if rate and part_rate != rate:
            raise RenderError("the speech engine changed its sample rate mid-script")
        rate = part_rate
        clips.append(trim_silence(samples, rate))

    pause = np.zeros(int(settings.pause_seconds * rate), dtype=np.float32)
    timings: list[tuple[float, float]] = []
    pieces: list[np.ndarray] = []
    cursor = 0
    for index, clip in enumerate(clips):
        if index:
            pieces.append(pause)
            cursor += len(pause)
        timings.append((cursor / rate, (cursor + len(clip)) / rate))
        pieces.append(clip)
        cursor += len(clip)
    track = normalise(resample(np.concatenate(pieces), rate, channels=2))
    out = workdir / "voice.wav"
    write_wav(out, track, SAMPLE_RATE)
    progress(1.0)
    return Narration(out, timings, len(track) / SAMPLE_RATE, engine.name, voice_name, warnings)
