"""Caption words timed by the speech engine, not by their length."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import numpy as np
import pytest

from app.domain.idea import Voice
from app.pipeline.captions import Layout, plan_cues, srt_text
from app.pipeline.legibility import safe_box
from app.pipeline.speech import SpeechSettings, _loud_bounds, narrate
from app.pipeline.styles import BUILTIN
from app.pipeline.word_times import Word, espeak_words, token_starts

SENTENCE = "Look up on a clear day, and the sky is blue."


def test_espeak_reports_each_word_in_order() -> None:
    found = espeak_words(SENTENCE, "en-us+f3", 165)
    assert found is not None, "libespeak-ng should be installed with espeak-ng"
    words, total = found
    said = [SENTENCE[w.start : w.start + w.length] for w in words]
    assert said == ["Look", "up", "on", "a", "clear", "day", "and", "the", "sky", "is", "blue"]
    times = [w.seconds for w in words]
    assert times == sorted(times) and times[0] == 0.0 and times[-1] < total < 4.0


def test_tokens_find_their_words_and_punctuation_takes_the_one_before() -> None:
    words = [Word(0, 4, 0.0), Word(5, 2, 0.3), Word(10, 4, 0.7), Word(11, 4, 1.1)]
    starts = token_starts("Look up — 1990!", ["Look", "up", "—", "1990!"], words)
    assert starts == [0.0, 0.3, None, 0.7]  # "1990" is said as two words: its first counts


def test_captions_light_each_word_when_it_is_said() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        narration = narrate([SENTENCE], Voice.FEMALE, SpeechSettings(), Path(scratch))
    said = narration.words[0]
    assert len(said) == 11
    style = BUILTIN["modern"]
    layout = Layout.for_frame((1280, 720), style)
    cues = plan_cues([SENTENCE], narration.timings, style, layout, offset=2.0,
                     word_highlight=True, words=narration.words)  # fmt: skip
    starts = [c.start - 2.0 for c in cues]
    assert starts == pytest.approx([w[2] for w in said], abs=1e-6)  # "day," lights with "day"
    assert [c.highlight for c in cues] == list(range(11))
    assert cues[-1].end == pytest.approx(narration.timings[0][1] + 2.0)
    by_length = plan_cues([SENTENCE], narration.timings, style, layout, word_highlight=True)
    assert [c.start for c in by_length] != [c.start - 2.0 for c in cues]  # it was a guess
    assert "00:00:02,000 --> " in srt_text(cues)


def test_the_reported_times_are_within_the_measured_error() -> None:
    """Against the benchmark's forced alignment of words synthesised one by one: about as
    close as it measured (mean 24 ms, largest 139 ms over the demo sheet), and far closer
    than timing words by their length."""
    from tests.bench.bench_word_timing import Speaker, align, spectra

    synth = Speaker(piper=False).synth

    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        audio = synth(SENTENCE, scratch / "sentence.wav")
        found = espeak_words(SENTENCE, "en-us+f3", 165)
        assert found is not None
        words, _total = found
        pieces, firsts = [], []
        for k, word in enumerate(words):
            alone = synth(SENTENCE[word.start : word.start + word.length], scratch / f"{k}.wav")
            firsts.append(sum(len(p) for p in pieces))
            first, last = _loud_bounds(alone, 22050)
            pieces.append(spectra(alone[first:last], 22050))
        path = align(np.concatenate(pieces), spectra(audio, 22050))
        first, last = _loud_bounds(audio, 22050)
    references = [path[f] * 0.01 for f in firsts]
    errors = [abs(w.seconds - r) for w, r in zip(words, references, strict=True)]
    weights = [w.length + 1 for w in words]
    guessed = np.cumsum([0, *weights[:-1]]) / sum(weights) * (last - first) / 22050 + first / 22050
    by_length = [abs(g - r) for g, r in zip(guessed, references, strict=True)]
    assert np.mean(errors) < 0.06 and max(errors) < 0.2, errors
    assert np.mean(errors) < np.mean(by_length) / 2, (errors, by_length)


def test_pop_captions_show_one_or_two_big_words_in_the_middle() -> None:
    from app.pipeline.captions import render_cue

    with tempfile.TemporaryDirectory() as scratch:
        narration = narrate([SENTENCE], Voice.FEMALE, SpeechSettings(), Path(scratch))
    style = BUILTIN["modern"]  # its captions normally sit at the bottom, in a box
    layout = Layout.for_frame((1080, 1920), style)
    cues = plan_cues([SENTENCE], narration.timings, style, layout, words=narration.words,
                     mode="pop")  # fmt: skip
    texts = [c.text for c in cues]
    assert texts == ["Look up", "on a", "clear day,", "and the", "sky is", "blue."]
    said = [w[2] for w in narration.words[0]]
    assert all(min(abs(c.start - s) for s in said) < 1e-6 for c in cues)  # when a word is said
    assert all(a.end == b.start for a, b in itertools.pairwise(cues))
    popped, (_x, y) = render_cue(cues[0], style, layout)
    plain, (_px, py) = render_cue(plan_cues([SENTENCE], narration.timings, style, layout)[0],
                                  style, layout)  # fmt: skip
    assert popped.height > plain.height * 0.8 and popped.height < 400
    # The middle of the part of the frame no platform covers (`legibility.safe_box`), not the
    # bottom where the sentence captions go.
    _left, top, _right, bottom = safe_box((1080, 1920))
    assert abs(y + popped.height / 2 - (top + bottom) / 2) <= 1 and py > 1000
    assert popped.getpixel((2, 2))[3] == 0  # no box behind pop words


def test_pop_captions_without_engine_times_follow_word_length() -> None:
    style = BUILTIN["modern"]
    layout = Layout.for_frame((1280, 720), style)
    cues = plan_cues(["Hi there. Wonderful!"], [(0.0, 2.0)], style, layout, mode="pop")
    assert [c.text for c in cues] == ["Hi there.", "Wonderful!"]
    assert cues[0].start == 0.0 and cues[-1].end == 2.0 and all(c.pop for c in cues)


def test_emoji_are_drawn_in_colour_in_captions_and_thumbnails(tmp_path: Path) -> None:
    from PIL import Image

    from app.pipeline import fonts
    from app.pipeline.captions import Cue, render_cue, text_width
    from app.pipeline.thumbnail import make_thumbnail

    style = BUILTIN["modern"]  # white text on a grey box: any saturated pixel is an emoji's
    layout = Layout.for_frame((1280, 720), style)
    assert fonts.runs("Go 🚀 now", fonts.resolve(style.font))[1][1].name == "NotoColorEmoji.ttf"

    def colourful(image: Image.Image) -> int:
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(int)
        return int(((pixels.max(axis=1) - pixels.min(axis=1)) > 90).sum())

    plain, _ = render_cue(Cue(0, 1, ("Blast off into the ocean",)), style, layout)
    emoji, _ = render_cue(Cue(0, 1, ("Blast off 🚀 into the ocean 🌊",)), style, layout)
    assert colourful(plain) == 0 and colourful(emoji) > 200
    font = fonts.resolve(style.font)
    size = layout.font_size
    # An emoji is about as wide as a capital letter pair, and a space after it is a space.
    assert size * 0.9 < text_width("🚀", font, size) < size * 1.6
    gap = text_width("🚀 a", font, size) - text_width("🚀a", font, size)
    assert abs(gap - text_width(" ", font, size)) < 1

    with_emoji = make_thumbnail("Space facts 🚀🌍", style, tmp_path / "a.png", None)
    without = make_thumbnail("Space facts", style, tmp_path / "b.png", None)
    assert colourful(Image.open(with_emoji)) > colourful(Image.open(without)) + 5000


def test_a_style_sets_the_voices_speed_and_pitch(tmp_path: Path) -> None:
    from app.domain.errors import UserError
    from app.pipeline.styles import load_template

    template = tmp_path / "brisk.yaml"
    template.write_text("base: modern\nvoice_rate: 220\nvoice_pitch: 70\n")
    style = load_template(template)
    assert (style.voice_rate, style.voice_pitch) == (220, 70)
    for bad, says in (("voice_pitch: 120", "voice_pitch must be from 0 to 99"),
                      ("voice_rate: fast", "voice_rate must be a whole number")):  # fmt: skip
        template.write_text(f"base: modern\n{bad}\n")
        with pytest.raises(UserError, match=says):
            load_template(template)

    normal = narrate([SENTENCE], Voice.FEMALE, SpeechSettings(engine="espeak"), tmp_path / "a")
    brisk = narrate(
        [SENTENCE], Voice.FEMALE, SpeechSettings(engine="espeak", rate_wpm=220, pitch=70),
        tmp_path / "b",
    )  # fmt: skip
    assert brisk.duration < normal.duration * 0.85  # faster
    assert len(brisk.words[0]) == 11 and brisk.words[0][-1][2] < normal.words[0][-1][2]

    def pitch(path: Path) -> float:  # dominant frequency of the voiced audio
        from app.pipeline.media import read_wav

        samples, rate = read_wav(path)
        mono = samples.mean(axis=1) if samples.ndim > 1 else samples
        spectrum = np.abs(np.fft.rfft(mono[: rate * 1]))
        freqs = np.fft.rfftfreq(len(mono[: rate * 1]), 1 / rate)
        band = (freqs > 80) & (freqs < 400)
        return float(freqs[band][np.argmax(spectrum[band])])

    assert pitch(brisk.path) > pitch(normal.path)  # higher
