"""The voice that ships with Cadence: hibari, a neural English voice whose model is inside its
package — chosen for female and neutral English rows, timed word by word by forced alignment,
faster at a faster rate; male rows and other languages keep the system voice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.domain.idea import Voice
from app.pipeline import alignment, speech
from app.pipeline.media import read_wav
from app.pipeline.speech import SpeechSettings, choose_engine, narrate

SENTENCES = [
    "Look up on a clear day, and the sky is blue.",
    "Sunlight looks white, but it is a mix of every colour.",
]


def test_english_rows_speak_with_the_neural_voice_and_others_with_the_system_voice() -> None:
    assert choose_engine(SpeechSettings(), Voice.FEMALE, "en")[0].name == "hibari"
    assert choose_engine(SpeechSettings(), Voice.NEUTRAL, "en")[0].name == "hibari"
    assert choose_engine(SpeechSettings(), Voice.MALE, "en")[0].name == "espeak-ng"
    assert choose_engine(SpeechSettings(), Voice.FEMALE, "de")[0].name == "espeak-ng"
    assert choose_engine(SpeechSettings(engine="espeak"), Voice.FEMALE)[0].name == "espeak-ng"
    assert choose_engine(SpeechSettings(engine="hibari"), Voice.MALE)[0].name == "hibari"


def test_a_voice_that_cannot_load_leaves_the_row_to_the_system_voice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> None:
        raise RuntimeError("onnxruntime: bad model")

    monkeypatch.setattr(speech, "_hibari_model", broken)
    engine, warnings = choose_engine(SpeechSettings(), Voice.FEMALE, "en")
    assert engine.name == "espeak-ng"
    assert warnings == [
        "the hibari voice cannot load (RuntimeError: onnxruntime: bad model); "
        "the system voice was used"
    ]


def test_the_neural_voice_is_timed_word_by_word_in_order(tmp_path: Path) -> None:
    narration = narrate(SENTENCES, Voice.FEMALE, SpeechSettings(), tmp_path)
    assert narration.engine == "hibari"
    samples, rate = read_wav(narration.path)
    assert rate == 48_000 and narration.duration == pytest.approx(samples.shape[0] / rate)
    for words, (start, end), sentence in zip(
        narration.words, narration.timings, SENTENCES, strict=True
    ):
        assert [sentence[s : s + n] for s, n, _t in words] == sentence.split()
        times = [t for _s, _n, t in words]
        assert times == sorted(times) and start <= times[0] < start + 0.2 and times[-1] < end
        assert len(set(times)) == len(times)  # no two words at the same instant


def test_a_faster_rate_speaks_faster(tmp_path: Path) -> None:
    normal = narrate(SENTENCES[:1], Voice.FEMALE, SpeechSettings(), tmp_path / "a")
    brisk = narrate(SENTENCES[:1], Voice.FEMALE, SpeechSettings(rate_wpm=240), tmp_path / "b")
    assert brisk.duration < normal.duration * 0.85


def test_forced_alignment_finds_where_each_piece_is() -> None:
    """Three distinct tones, the middle one long: each piece's onset found within a frame
    or few, whatever the timing of the whole."""
    rate = 16_000

    def tone(hz: float, seconds: float) -> np.ndarray:
        t = np.arange(int(rate * seconds)) / rate
        return 0.5 * np.sin(2 * np.pi * hz * t)

    pieces = [tone(300, 0.2), tone(1200, 0.2), tone(2800, 0.2)]
    whole = np.concatenate([tone(300, 0.3), tone(1200, 0.6), tone(2800, 0.25)])
    onsets = alignment.word_onsets(whole, pieces, rate)
    assert onsets == pytest.approx([0.0, 0.3, 0.9], abs=0.06)
