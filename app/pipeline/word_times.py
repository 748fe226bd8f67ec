"""When each word is spoken, as the speech engine itself reports it.

espeak-ng tells its library's callers a word event for every word it says, with the word's
place in the text and its position in the audio (milliseconds). Cadence speaks through
espeak-ng's command line (its library is not safe to use from several threads, and the
command line runs sentences in parallel), so the library is asked again, for the timings
only, with the same voice and rate — the same synthesis, so the same positions — one
sentence at a time under a lock. Where the library cannot be loaded the captions fall back
to timing words by their length.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)
_LOCK = threading.Lock()
AUDIO_OUTPUT_SYNCHRONOUS = 2
EVENT_LIST_END, EVENT_WORD = 0, 1
POS_CHARACTER, CHARS_UTF8 = 1, 1
PARAMETER_RATE, PARAMETER_PITCH = 1, 3


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # characters, counted from 1
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True, slots=True)
class Word:
    start: int  # character offset in the sentence, from 0
    length: int  # characters
    seconds: float  # into the sentence's audio


class _Library:
    def __init__(self, lib: Any) -> None:
        self.lib = lib
        self.rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 500, None, 0)
        if self.rate <= 0:
            raise OSError("espeak_Initialize failed")
        self.words: list[Word] = []
        self.samples = 0
        self.callback = _CALLBACK(self._on_audio)  # kept: the library holds the pointer
        lib.espeak_SetSynthCallback(self.callback)

    def _on_audio(self, _wav: Any, count: int, events: Any) -> int:
        self.samples += count
        index = 0
        while events[index].type != EVENT_LIST_END:
            event = events[index]
            if event.type == EVENT_WORD and event.length > 0:
                self.words.append(
                    Word(event.text_position - 1, event.length, event.audio_position / 1000)
                )
            index += 1
        return 0

    def words_of(
        self, text: str, voice_name: str, rate_wpm: int, pitch: int
    ) -> tuple[list[Word], float]:
        self.words, self.samples = [], 0
        if self.lib.espeak_SetVoiceByName(voice_name.encode()) != 0:
            raise OSError(f"no espeak-ng voice {voice_name}")
        self.lib.espeak_SetParameter(PARAMETER_RATE, rate_wpm, 0)
        self.lib.espeak_SetParameter(PARAMETER_PITCH, pitch, 0)
        data = text.encode("utf-8")
        if self.lib.espeak_Synth(data, len(data) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8, None, None):
            raise OSError("espeak_Synth failed")
        self.lib.espeak_Synchronize()
        return list(self.words), self.samples / self.rate


@lru_cache(maxsize=1)
def _library() -> _Library | None:
    for name in ("libespeak-ng.so.1", "libespeak-ng.so", "libespeak-ng.dylib", "libespeak-ng"):
        try:
            return _Library(ctypes.CDLL(name))
        except OSError:
            continue
    log.info("libespeak-ng is not available: caption words are timed by their length")
    return None


def espeak_words(
    text: str, voice_name: str, rate_wpm: int, pitch: int = 50
) -> tuple[list[Word], float] | None:
    """Each word of ``text`` with when espeak-ng says it, and the audio's length (seconds);
    None when its library cannot be used."""
    with _LOCK:
        library = _library()
        if library is None:
            return None
        try:
            return library.words_of(text, voice_name, rate_wpm, pitch)
        except OSError as exc:
            log.info("espeak-ng word timing unavailable (%s)", exc)
            return None


def token_starts(sentence: str, tokens: list[str], words: list[Word]) -> list[float | None]:
    """For each caption token (in order, as they appear in ``sentence``), when its first
    spoken word starts; None for a token the engine said no word for (punctuation)."""
    starts: list[float | None] = []
    at = 0
    for token in tokens:
        found = sentence.find(token, at)
        if found < 0:
            starts.append(None)
            continue
        end = found + len(token)
        at = end
        inside = [w.seconds for w in words if found <= w.start < end]
        starts.append(min(inside) if inside else None)
    return starts
