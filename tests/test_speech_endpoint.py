"""The speech endpoint: any OpenAI-compatible `POST /v1/audio/speech` server (OpenAI, a local
Kokoro server) speaks the narration — against a strict loopback fake that streams its WAV the
way OpenAI does; word times by forced alignment; refusals said in one line with where to fix
them; the key kept in the keyring and sent only to the address it was given with."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.domain.idea import Voice
from app.pipeline.errors import RenderError
from app.pipeline.speech import SpeechSettings, narrate
from app.pipeline.speech_endpoint import SpeechEndpoint
from tests.fake_speech import KEY, Speech, serve

SENTENCES = ["Look up on a clear day, and the sky is blue.", "Sunlight is a mix of colours."]


@pytest.fixture
def endpoint() -> Iterator[Speech]:
    with serve() as fake:
        yield fake


def settings(fake: Speech, **changes: str) -> SpeechSettings:
    chosen = SpeechEndpoint(url=fake.url, model="tts-1", voice="female=nova, male=onyx", key=KEY)
    return SpeechSettings(engine="endpoint", endpoint=replace(chosen, **changes))


def test_the_endpoint_speaks_the_narration_timed_word_by_word(
    endpoint: Speech, tmp_path: Path
) -> None:
    narration = narrate(SENTENCES, Voice.MALE, settings(endpoint), tmp_path / "a")
    assert (narration.engine, narration.voice) == ("endpoint", "onyx")
    assert [asked["input"] for asked in endpoint.asked] == SENTENCES
    assert endpoint.asked[0] == {
        "model": "tts-1", "input": SENTENCES[0], "voice": "onyx", "response_format": "wav",
        "speed": 1.0,
    }  # fmt: skip
    assert narration.duration > 3 and narration.path.exists()
    # Forced alignment finds each word where the voice says it: the fake speaks with the
    # built-in voice, whose own word times are known.
    own = narrate(SENTENCES, Voice.FEMALE, SpeechSettings(engine="hibari"), tmp_path / "b")
    for theirs, ours, sentence in zip(narration.words, own.words, SENTENCES, strict=True):
        assert [sentence[s : s + n] for s, n, _t in theirs] == sentence.split()
        times = np.array([t for _s, _n, t in theirs]) - theirs[0][2]
        expected = np.array([t for _s, _n, t in ours]) - ours[0][2]
        assert np.abs(times - expected).mean() < 0.08


def test_a_faster_rate_asks_for_a_faster_voice(endpoint: Speech, tmp_path: Path) -> None:
    narrate(SENTENCES[:1], Voice.FEMALE, replace(settings(endpoint), rate_wpm=231), tmp_path)
    assert endpoint.asked[0]["speed"] == 1.4 and endpoint.asked[0]["voice"] == "nova"


def test_a_busy_endpoint_is_asked_again(endpoint: Speech, tmp_path: Path) -> None:
    endpoint.busy = 1
    narration = narrate(SENTENCES[:1], Voice.FEMALE, settings(endpoint), tmp_path)
    assert narration.engine == "endpoint" and len(endpoint.asked) == 1


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"key": "wrong"}, "the speech endpoint refused the API key: Incorrect API key provided. "
                           "— check it in Settings › Footage and voices"),
        ({"voice": "marvin"}, "the speech endpoint refused the request (HTTP 400): Invalid voice "
                              "— check its model and voice in Settings › Footage and voices"),
        ({"url": "/nowhere"}, "the speech endpoint has no /audio/speech (404) — check its "
                              "address in Settings › Footage and voices"),
    ],
)  # fmt: skip
def test_a_refusal_says_what_to_fix_in_one_line(
    endpoint: Speech, tmp_path: Path, changes: dict[str, str], says: str
) -> None:
    if "url" in changes:
        changes = {"url": endpoint.url.removesuffix("/v1") + changes["url"]}
    with pytest.raises(RenderError) as refused:
        narrate(SENTENCES[:1], Voice.FEMALE, settings(endpoint, **changes), tmp_path)
    assert str(refused.value) == says and KEY not in str(refused.value)


def test_an_endpoint_that_is_not_there_or_not_set_is_said(tmp_path: Path) -> None:
    gone = SpeechSettings(engine="endpoint", endpoint=SpeechEndpoint(url="http://127.0.0.1:9/v1"))
    with pytest.raises(RenderError, match=r"^the speech endpoint could not be reached .*retry$"):
        narrate(SENTENCES[:1], Voice.FEMALE, gone, tmp_path)
    with pytest.raises(
        RenderError, match="no speech endpoint is set — add its address in Settings"
    ):
        narrate(SENTENCES[:1], Voice.FEMALE, SpeechSettings(engine="endpoint"), tmp_path)


def test_one_voice_or_one_per_row_voice() -> None:
    assert SpeechEndpoint(voice="alloy").voice_for(Voice.MALE) == "alloy"
    paired = SpeechEndpoint(voice="female=af_heart; male=am_adam")
    assert paired.voice_for(Voice.MALE) == "am_adam"
    assert paired.voice_for(Voice.NEUTRAL) == "af_heart"  # no neutral named: the first
    assert "secret" not in repr(SpeechEndpoint(key="secret"))


def test_the_key_is_a_secret_and_goes_only_to_its_address(run_cli: Any, tmp_path: Path) -> None:
    assert run_cli("settings", "set", "speech.endpoint", "http://127.0.0.1:8880/v1").returncode == 0
    key = tmp_path / "key.txt"
    key.write_text("sk-local-1\n")
    put = run_cli("settings", "set", "speech.endpoint_key", f"@{key}")
    assert put.returncode == 0, put.stdout + put.stderr
    shown = run_cli("settings", "show")
    assert "sk-local-1" not in shown.stdout + shown.stderr
    moved = run_cli("settings", "set", "speech.endpoint", "http://evil.example/v1")
    assert moved.returncode != 0
    assert "the stored speech.endpoint_key would be sent to http://evil.example/v1" in (
        moved.stdout + moved.stderr
    )


def test_the_endpoint_is_set_and_tested_in_the_settings_view(
    qtbot: Any, data_dir: Path, endpoint: Speech
) -> None:
    """Settings › Footage and voices: the voice, the endpoint's address, model, voice and key
    (kept in the keyring, never shown again) and its Test — no terminal needed."""
    from app.paths import AppPaths
    from app.services import Services
    from app.ui.main_window import PAGES, MainWindow

    workspace = Services(AppPaths.resolve(data_dir), front_end="gui")
    window = MainWindow(lambda: workspace)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.workspace is not None, timeout=15_000)
    window.nav.setCurrentRow(PAGES.index("Settings"))
    page = window.settings_page
    qtbot.waitUntil(page.footage_free.isChecked, timeout=10_000)  # the stored settings, shown
    page.speech_engine.setCurrentIndex(page.speech_engine.findData("endpoint"))
    page.speech_endpoint.setText(endpoint.url)
    page.speech_voice.setText("shimmer")
    page.speech_key.setText(KEY)
    page.save_button.click()
    qtbot.waitUntil(lambda: page.message.text() == "Saved.", timeout=10_000)
    assert workspace.settings.get("speech.engine") == "endpoint"
    assert workspace.settings.get("speech.endpoint_key") == KEY
    assert page.speech_key.text() == "" and page.speech_model.text() == "tts-1"
    page.test_speech_button.click()
    qtbot.waitUntil(lambda: page.speech_status.text().startswith("✓"), timeout=30_000)
    assert "in voice “shimmer”" in page.speech_status.text()
    assert endpoint.asked[-1]["voice"] == "shimmer"
    window.close()
