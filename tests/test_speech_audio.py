"""Narration and loudness: real espeak-ng, real ffmpeg."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.domain.idea import Idea, Voice
from app.pipeline import speech
from app.pipeline.errors import RenderError
from app.pipeline.media import SAMPLE_RATE, limit, measure_samples, read_wav
from app.pipeline.script import LLMSettings, prepare_script
from app.pipeline.speech import SpeechSettings, narrate, script_language
from tests.fake_chat import ChatServer


def test_narration_timings_come_from_the_audio(tmp_path: Path) -> None:
    sentences = ["The first sentence is here.", "A second, longer sentence follows it now.", "End."]
    result = narrate(sentences, Voice.NEUTRAL, SpeechSettings(pause_seconds=0.4), tmp_path)
    samples, rate = read_wav(result.path)
    assert rate == SAMPLE_RATE and samples.shape[1] == 2
    assert result.duration == pytest.approx(len(samples) / rate)
    starts = [s for s, _ in result.timings]
    assert starts[0] == 0.0 and starts == sorted(starts)
    gaps = [b[0] - a[1] for a, b in zip(result.timings, result.timings[1:], strict=False)]
    assert gaps == pytest.approx([0.4, 0.4], abs=0.001)
    lengths = [e - s for s, e in result.timings]
    assert lengths[1] > lengths[0] > lengths[2]  # the longest sentence takes longest to say
    assert result.timings[-1][1] == pytest.approx(result.duration, abs=0.01)
    lufs, peak = measure_samples(samples)
    assert lufs == pytest.approx(-16.0, abs=0.7) and peak <= -1.0


def test_voices_differ_and_sentences_are_reused(tmp_path: Path) -> None:
    espeak = SpeechSettings(engine="espeak")
    female = narrate(["Hello there."], Voice.FEMALE, espeak, tmp_path / "f")
    male = narrate(["Hello there."], Voice.MALE, espeak, tmp_path / "m")
    assert female.voice.endswith("+f3") and male.voice.endswith("+m3")
    assert not np.array_equal(read_wav(female.path)[0][:1000], read_wav(male.path)[0][:1000])
    parts = sorted((tmp_path / "f" / "speech").iterdir())
    narrate(["Hello there."], Voice.FEMALE, espeak, tmp_path / "f")
    assert sorted((tmp_path / "f" / "speech").iterdir()) == parts


def test_non_latin_narration_picks_a_matching_voice(tmp_path: Path) -> None:
    assert script_language("Почему небо голубое?") == "ru"
    assert script_language("आसमान नीला क्यों है?") == "hi"
    assert script_language("Hello world") is None
    result = narrate(
        ["Почему небо голубое?"], Voice.FEMALE, SpeechSettings(engine="espeak"), tmp_path
    )
    assert result.voice == "ru+f3"


def test_missing_speech_engine_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(speech.shutil, "which", lambda _name: None)
    with pytest.raises(RenderError, match="sudo apt-get install espeak-ng"):
        narrate(["Hi."], Voice.NEUTRAL, SpeechSettings(engine="espeak"), tmp_path)


def test_normalise_and_limit(tmp_path: Path) -> None:
    from app.pipeline.media import normalise_file, write_wav

    t = np.arange(SAMPLE_RATE * 5) / SAMPLE_RATE
    quiet = (0.02 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    write_wav(tmp_path / "quiet.wav", np.stack([quiet, quiet], axis=1), SAMPLE_RATE)
    assert normalise_file(tmp_path / "quiet.wav", tmp_path / "loud.wav") == len(t)
    loud, _rate = read_wav(tmp_path / "loud.wav")
    assert measure_samples(loud)[0] == pytest.approx(-16.0, abs=0.3)
    assert np.abs(limit(np.array([0.1, 0.95, -2.0], dtype=np.float32), 0.8)).max() <= 0.8
    write_wav(tmp_path / "silence.wav", np.zeros((SAMPLE_RATE, 2), np.float32), SAMPLE_RATE)
    normalise_file(tmp_path / "silence.wav", tmp_path / "still.wav")
    assert not read_wav(tmp_path / "still.wav")[0].any()


def test_script_is_generated_when_the_row_has_none(chat_server: type[ChatServer]) -> None:
    def answer(text: str) -> tuple[int, dict[str, object]]:
        return 200, {"choices": [{"message": {"content": text}}]}

    longer = " ".join(["Stars are huge balls of hot gas far away."] * 14)  # 126 words
    chat_server.replies = [(500, {"error": "busy"}), answer("Stars are far away."), answer(longer)]
    llm = LLMSettings(endpoint=chat_server.url, model="llama3", api_key="k3y")
    idea = Idea(idea_title="Why stars shine", duration_seconds=60, tone="calm")
    assert prepare_script(idea, llm) == ["Stars are huge balls of hot gas far away."] * 14
    assert len(chat_server.seen) == 3  # the 500 was retried; the short draft asked again
    first, again = chat_server.seen[1], chat_server.seen[2]
    assert first["path"] == "/v1/chat/completions" and first["auth"] == "Bearer k3y"
    assert first["body"]["model"] == "llama3"
    assert "Why stars shine" in first["body"]["messages"][1]["content"]
    assert "about 150 words" in first["body"]["messages"][1]["content"]
    assert "only 4 words" in again["body"]["messages"][1]["content"]
    # A draft of about the asked length is taken as it is: one request.
    chat_server.seen.clear()
    chat_server.replies = [answer(longer)]
    assert len(prepare_script(idea, llm)) == 14 and len(chat_server.seen) == 1


def test_script_generator_errors_say_what_to_check(chat_server: type[ChatServer]) -> None:
    chat_server.replies = [(401, {"error": "bad key"})]
    llm = LLMSettings(endpoint=chat_server.url, model="m")
    with pytest.raises(
        RenderError,
        match="refused the request \\(HTTP 401\\) — check its address, model name and API key",
    ):
        prepare_script(Idea(idea_title="x"), llm)
    with pytest.raises(RenderError, match="no script and no script generator"):
        prepare_script(Idea(idea_title="x"), None)
    unreachable = LLMSettings(endpoint="http://127.0.0.1:9/v1", model="m", timeout=2)
    with pytest.raises(RenderError, match="could not be reached"):
        prepare_script(Idea(idea_title="x"), unreachable)


def test_piper_is_used_when_installed(tmp_path: Path) -> None:
    """The optional neural engine (GPL, never a hard dependency): runs where it is installed."""
    pytest.importorskip("piper", reason="piper-tts is an optional extra: pip install -e '.[piper]'")
    models = speech.piper_models()
    if not models:
        pytest.skip("no Piper voice package is installed")
    engine, warnings = speech.choose_engine(SpeechSettings(), Voice.MALE)
    assert engine.name == "piper" and warnings == []
    sentences = ["Hello from a neural voice.", "In 1990, Dr. Smith found three new stars."]
    result = narrate(sentences, Voice.MALE, SpeechSettings(), tmp_path)
    assert result.engine == "piper" and result.voice == "en_US-joe-medium"
    assert result.duration > 1.0
    # Piper's phoneme alignments time every written word, in order, inside its sentence.
    for words, (start, end), sentence in zip(result.words, result.timings, sentences, strict=True):
        assert [sentence[s : s + n] for s, n, _t in words] == sentence.split()
        times = [t for _s, _n, t in words]
        assert times == sorted(times) and start <= times[0] < start + 0.3 and times[-1] < end
    # No female Piper voice is installed: hibari speaks, and the user is told.
    fallback, said = speech.choose_engine(SpeechSettings(), Voice.FEMALE)
    assert fallback.name == "hibari" and said == [
        "no female Piper voice for language “en” is installed; the hibari voice was used"
    ]


def test_choosing_piper_without_it_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(speech, "piper_models", lambda _extra=None, _folder=None: [])
    with pytest.raises(RenderError, match="pip install piper-tts"):
        speech.choose_engine(SpeechSettings(engine="piper"))


def test_a_long_narration_and_its_soundtrack_keep_memory_flat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty minutes of narration with music: joined, resampled, normalised and mixed
    through files, so Python holds tens of megabytes, not the gigabytes whole arrays take
    (a 90-minute script once grew a render to 11 GB)."""
    import tracemalloc
    import wave

    from app.domain.idea import Voice
    from app.paths import MUSIC_DIR
    from app.pipeline import speech
    from app.pipeline.media import measure_loudness, wav_info
    from app.pipeline.soundtrack import soundtrack

    class Tone:
        name = "tone"

        def voice_name(self, voice: Voice, text: str) -> str:
            return "tone"

        def synthesize(
            self, text: str, voice_name: str, rate_wpm: int, out: Path, pitch: int = 50
        ) -> None:
            rate = 22050
            t = np.arange(rate) / rate
            samples = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
            with wave.open(str(out), "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(rate)
                wav.writeframes(samples.tobytes())

    monkeypatch.setattr(speech, "choose_engine", lambda *_a, **_k: (Tone(), []))
    sentences = ["A sentence that lasts one second."] * 890  # about 20 minutes with pauses
    tracemalloc.start()
    narration = speech.narrate(sentences, Voice.NEUTRAL, speech.SpeechSettings(), tmp_path)
    total = round((narration.duration + 2.0) * SAMPLE_RATE)
    soundtrack(
        narration.path,
        narration.timings,
        intro=1.0,
        total_samples=total,
        music=MUSIC_DIR / "calm-pad.m4a",
        music_level_db=-22.0,
        out=tmp_path / "soundtrack.wav",
    )
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert 19 * 60 < narration.duration < 21 * 60
    assert peak < 80 * 1024 * 1024, f"peak {peak / 1024**2:.0f} MB"
    frames, rate, channels = wav_info(tmp_path / "soundtrack.wav")
    assert (frames, rate, channels) == (total, SAMPLE_RATE, 2)
    lufs, true_peak = measure_loudness(tmp_path / "soundtrack.wav")
    assert abs(lufs - -16.0) < 1.0 and true_peak <= -1.0
