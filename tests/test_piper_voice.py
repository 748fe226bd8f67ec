"""Piper voices chosen by language and gender, and its phoneme alignments turned into word
times — without Piper installed (its model is GPL and optional); the real engine is tried in
`test_speech_audio.test_piper_is_used_when_installed` where the extra is present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.domain.idea import Voice
from app.pipeline import piper_voice, speech
from app.pipeline.piper_voice import PiperModel, describe, match_words, pick_model, sounded_words
from app.pipeline.speech import SpeechSettings


def model(folder: Path, name: str, code: str) -> Path:
    path = folder / f"{name}.onnx"
    path.write_bytes(b"onnx")
    Path(f"{path}.json").write_text(json.dumps({"language": {"code": code}}))
    return path


def test_a_voice_speaks_the_language_its_config_names(tmp_path: Path) -> None:
    amy = describe(model(tmp_path, "en_US-amy-medium", "en_US"))
    assert (amy.language, amy.gender, amy.name) == ("en", Voice.FEMALE, "en_US-amy-medium")
    thorsten = describe(model(tmp_path, "de_DE-thorsten-high", "de_DE"))
    assert (thorsten.language, thorsten.gender) == ("de", Voice.NEUTRAL)
    bare = tmp_path / "mine.onnx"  # no config beside it: any language, no known gender
    assert (describe(bare).language, describe(bare).gender) == ("", Voice.NEUTRAL)


def test_each_row_gets_a_voice_of_its_language_and_gender(tmp_path: Path) -> None:
    joe = PiperModel(tmp_path / "en_US-joe-medium.onnx", "en", Voice.MALE)
    amy = PiperModel(tmp_path / "en_US-amy-medium.onnx", "en", Voice.FEMALE)
    thorsten = PiperModel(tmp_path / "de_DE-thorsten-high.onnx", "de", Voice.NEUTRAL)
    voices = [joe, amy, thorsten]
    assert pick_model(voices, Voice.MALE, "en") == joe
    assert pick_model(voices, Voice.FEMALE, "en") == amy
    assert pick_model(voices, Voice.NEUTRAL, "de") == thorsten
    assert pick_model(voices, Voice.FEMALE, "de") is None  # Thorsten is not asked for a woman
    assert pick_model(voices, Voice.NEUTRAL, "zh") is None  # nobody here speaks Chinese
    assert pick_model([joe], Voice.FEMALE, "en") is None


def test_the_voices_folder_adds_voices_and_rows_in_other_languages_keep_espeak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(piper_voice, "installed", lambda: True)
    folder = tmp_path / "voices"
    folder.mkdir()
    model(folder, "en_US-amy-medium", "en_US")
    (folder / "half-copied.onnx").write_bytes(b"")  # no .onnx.json beside it: not a voice
    found = piper_voice.piper_models(folder=folder)
    assert [m.name for m in found if m.path.parent == folder] == ["en_US-amy-medium"]

    class Loaded:  # stands in for the real engine (Piper is not installed here)
        name = "piper"

        def __init__(self, chosen: PiperModel) -> None:
            self.model = chosen

    monkeypatch.setattr(speech, "Piper", Loaded)
    settings = SpeechSettings(voices_dir=folder)
    engine, warnings = speech.choose_engine(settings, Voice.FEMALE, "en")
    assert isinstance(engine, Loaded) and engine.model.name == "en_US-amy-medium" and not warnings
    engine, warnings = speech.choose_engine(settings, Voice.NEUTRAL, "ja")
    assert engine.name == "espeak-ng"
    assert warnings == ["no Piper voice for language “ja” is installed; the system voice was used"]


def test_phoneme_alignments_become_word_times() -> None:
    # "In 1990, Dr. Smith" as Piper says it: "in nineteen-hundred ninety, doctor." then
    # "smith" in a second chunk (espeak-ng ends a sentence after "Dr.").
    first = [("^", 100), ("ɪ", 50), ("n", 50), (" ", 20), ("n", 80), ("ˈ", 0), ("a", 60),
             (" ", 20), ("n", 70), ("i", 30), (",", 40), (" ", 10), ("d", 60), ("ɚ", 40),
             (".", 30), ("$", 0)]  # fmt: skip
    second = [("^", 50), ("s", 40), ("m", 40), ("ɪ", 40), ("θ", 40), ("$", 0)]
    starts = sounded_words([first, second])
    assert starts == [100, 220, 380, 530, 710]

    sounds = {"In": 1, "1990,": 2, "Dr.": 1, "Smith": 1, "—": 0}
    text = "In 1990, Dr. Smith —"
    words = match_words(text, [s / 100 for s in starts], sounds.__getitem__)
    assert [(text[w.start : w.start + w.length], w.seconds) for w in words] == [
        ("In", 1.0), ("1990,", 2.2), ("Dr.", 5.3), ("Smith", 7.1),
    ]  # fmt: skip


def test_when_the_counts_disagree_words_are_placed_in_proportion() -> None:
    words = match_words("one two three four", [0.0, 1.0], lambda _word: 1)
    assert [w.seconds for w in words] == [0.0, 0.0, 1.0, 1.0]
    assert match_words("silent", [], lambda _word: 1) == []


def test_the_voices_command_lists_them_and_says_where_to_add_more(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from app.cli import voices as cli_voices
    from app.paths import AppPaths

    paths = AppPaths.resolve(data_dir)
    monkeypatch.setattr(cli_voices, "installed", lambda: False)
    assert cli_voices.cmd_voices(argparse.Namespace(), paths) == 0
    shown = capsys.readouterr().out
    assert "not installed — .venv/bin/pip install -e '.[piper]'" in shown
    assert "Female and neutral English rows are spoken by hibari; the rest by espeak-ng." in shown
    assert "hibari (neural, English, female — ships with Cadence): installed" in shown

    monkeypatch.setattr(cli_voices, "installed", lambda: True)
    paths.voices_dir.mkdir()
    model(paths.voices_dir, "en_US-amy-medium", "en_US")
    monkeypatch.setattr(piper_voice, "installed", lambda: True)
    assert cli_voices.cmd_voices(argparse.Namespace(), paths) == 0
    shown = capsys.readouterr().out
    assert "en_US-amy-medium" in shown and " en   female " in shown
    assert (
        "Rows no Piper voice fits (language, or gender) are spoken by espeak-ng, female and "
        "neutral English rows by hibari." in shown
    )
    assert f"NAME.onnx with its NAME.onnx.json in {paths.voices_dir}" in shown


def test_a_broken_voice_file_does_not_stop_the_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(piper_voice, "installed", lambda: True)
    model(tmp_path, "en_US-amy-medium", "en_US")

    def broken(chosen: PiperModel) -> None:
        raise speech.RenderError(
            f"the Piper voice {chosen.path.name} cannot be loaded (bad model) — remove it"
        )

    monkeypatch.setattr(speech, "Piper", broken)
    settings = SpeechSettings(voices_dir=tmp_path)
    engine, warnings = speech.choose_engine(settings, Voice.FEMALE, "en")
    assert engine.name == "hibari"  # English, female: the voice that ships with Cadence
    assert warnings == [
        "the Piper voice en_US-amy-medium.onnx cannot be loaded (bad model) — remove it; "
        "the hibari voice was used"
    ]
    with pytest.raises(speech.RenderError, match="cannot be loaded"):  # Piper asked for by name
        speech.choose_engine(SpeechSettings(engine="piper", voices_dir=tmp_path), Voice.FEMALE)
