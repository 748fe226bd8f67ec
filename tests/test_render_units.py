"""Pure pieces of the pipeline: sentences, output settings, captions, fonts, styles, metadata."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from app.domain.idea import Idea
from app.domain.output import Container, OutputConfig, OutputError, Resolution, VideoCodec
from app.domain.sentences import split_sentences
from app.pipeline import fonts
from app.pipeline.captions import Layout, plan_cues, srt_text, text_width, wrap
from app.pipeline.errors import RenderError
from app.pipeline.metadata import build_metadata, chapters, clean_title, clip_bytes
from app.pipeline.styles import BUILTIN, load_template, pick_style


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Dr. Smith arrived at 3.15 p.m. today. He left.",
            ["Dr. Smith arrived at 3.15 p.m. today.", "He left."],
        ),
        (
            'He said "Hello!" Then left... Did he? Yes.',
            ['He said "Hello!"', "Then left...", "Did he?", "Yes."],
        ),
        (
            "It costs $1,000.50. See e.g. the U.S. report.",
            ["It costs $1,000.50.", "See e.g. the U.S. report."],
        ),
        ("J. K. Rowling wrote it. The end", ["J. K. Rowling wrote it.", "The end"]),
        ("今天天气很好。我们去公园吧！好吗？", ["今天天气很好。", "我们去公园吧！", "好吗？"]),
        ("नमस्ते। आप कैसे हैं?", ["नमस्ते।", "आप कैसे हैं?"]),
        ("مرحبا؟ كيف حالك.", ["مرحبا؟", "كيف حالك."]),
        ("  \n ", []),
        ("No full stop at all", ["No full stop at all"]),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"container": "webm", "video_codec": "h264"}, "WebM carries VP9 video only"),
        ({"container": "webm", "audio_codec": "aac"}, "WebM carries Opus audio only"),
        ({"container": "mp4", "audio_codec": "opus"}, "Opus in MP4 does not play"),
        ({"container": "mp4", "video_codec": "vp9"}, "VP9 in MP4"),
        ({"container": "mov", "video_codec": "vp9"}, "MOV cannot carry VP9"),
        ({"container": "avi"}, "unknown output setting"),
        ({"resolution": "8k"}, "unknown output setting"),
        ({"fps": 29}, "29 fps is not offered"),
    ],
)
def test_impossible_outputs_are_refused_before_any_work(settings: dict, says: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(OutputError, match=says):
        OutputConfig.from_dict(settings)


def test_output_sizes_and_defaults() -> None:
    assert OutputConfig().size == (1920, 1080)
    assert OutputConfig(resolution=Resolution.UHD, vertical=True).size == (2160, 3840)
    webm = OutputConfig.from_dict({"container": "webm"})
    assert (webm.video_codec, webm.audio_codec.value) == (VideoCodec.VP9, "opus")
    assert (
        OutputConfig.from_dict(OutputConfig(container=Container.MOV).to_dict()).container
        is Container.MOV
    )


SCRIPTS = {
    "Latin": "Crème brûlée, façade, naïve — Straße!",
    "Cyrillic": "Почему небо голубое?",
    "Greek": "Γιατί ο ουρανός είναι μπλε;",
    "Arabic": "لماذا السماء زرقاء؟",
    "Hebrew": "למה השמיים כחולים?",
    "Devanagari": "आसमान नीला क्यों है?",
    "Bengali": "আকাশ নীল কেন?",
    "Thai": "ทำไมท้องฟ้าเป็นสีฟ้า",
    "Tamil": "வானம் ஏன் நீலமாக இருக்கிறது?",
    "Chinese": "天空为什么是蓝色的？",
    "Japanese": "空はなぜ青いのですか？カタカナ",
    "Korean": "하늘은 왜 파란가요?",
    "Georgian": "რატომ არის ცა ლურჯი?",
    "Armenian": "Ինչու է երկինքը կապույտ",
    "Ethiopic": "ሰማዩ ለምን ሰማያዊ ነው?",
    "Symbols": "→ ★ ✓ © € ½",
}


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_has_a_shipped_font(script: str) -> None:
    for style in ("NotoSans-Bold.ttf", "NotoSerif-Bold.ttf"):
        assert fonts.missing_glyphs(SCRIPTS[script], fonts.resolve(style)) == set()


def test_an_unreadable_font_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "Broken.ttf"
    bad.write_bytes(b"not a font at all")
    with pytest.raises(RenderError, match=r"Broken\.ttf cannot be read"):
        fonts.coverage(bad)
    with pytest.raises(RenderError, match="was not found"):
        fonts.resolve("Nope.ttf")


def test_captions_fit_the_safe_area_two_lines_at_most() -> None:
    style = BUILTIN["modern"]
    layout = Layout.for_frame((1280, 720), style)
    long = "This sentence is long enough that it will need several lines, " * 4 + "done."
    cues = plan_cues([long, "Short one."], [(0.0, 12.0), (12.5, 14.0)], style, layout, offset=2.0)
    font = fonts.resolve(style.font)
    assert all(len(c.lines) <= 2 for c in cues)
    assert all(
        text_width(line, font, layout.font_size) <= layout.max_width
        for c in cues
        for line in c.lines
    )
    assert cues[0].start == 2.0 and cues[-1].end == pytest.approx(16.0)
    first_sentence = [c for c in cues if c.end <= 14.0]
    assert all(a.end == pytest.approx(b.start) for a, b in itertools.pairwise(first_sentence))
    assert " ".join(" ".join(c.lines) for c in first_sentence) == " ".join(long.split())


def test_cjk_text_wraps_between_characters() -> None:
    style = BUILTIN["modern"]
    lines = wrap("天空为什么是蓝色的" * 12, fonts.resolve(style.font), 60, 600)
    assert len(lines) > 1 and all(
        text_width(line, fonts.resolve(style.font), 60) <= 600 for line in lines
    )


def test_srt_and_word_highlight() -> None:
    style = BUILTIN["classic"]
    layout = Layout.for_frame((1920, 1080), style)
    cues = plan_cues(
        ["One two three."], [(0.0, 1.5)], style, layout, offset=2.0, word_highlight=True
    )
    assert [c.highlight for c in cues] == [0, 1, 2]
    assert srt_text(cues) == "1\n00:00:02,000 --> 00:00:03,500\nOne two three.\n"


def test_user_templates(tmp_path: Path) -> None:
    good = tmp_path / "neon.yaml"
    good.write_text(
        "base: modern\nbackground: ['#000000', '#ff00ff']\naccent: '#0f0'\ncaption_position: top\n"
    )
    style = load_template(good)
    assert (style.name, style.background[1], style.accent, style.caption_position) == (
        "neon",
        (255, 0, 255),
        (0, 255, 0),
        "top",
    )
    assert pick_style("Neon", tmp_path).name == "neon"
    bad = tmp_path / "bad.yaml"
    bad.write_text("colour: red\n")
    with pytest.raises(RenderError, match="unknown setting 'colour'"):
        load_template(bad)
    bad.write_text("text: reddish\n")
    with pytest.raises(RenderError, match="not a colour"):
        load_template(bad)
    with pytest.raises(RenderError, match="does not exist"):
        pick_style("vaporwave", None)


def test_metadata_limits_and_chapters() -> None:
    long_title = clean_title("<b>Words</b> " + "word " * 40)
    assert long_title.startswith("bWords/b word") and len(long_title) <= 100
    assert long_title.endswith("word")  # cut between words
    assert len(clean_title("x" * 150)) == 100
    assert len(clip_bytes("é" * 3000, 5000).encode()) <= 5000
    sentences = [f"Sentence number {n} is here." for n in range(10)]
    starts = [2.0 + 8.0 * n for n in range(10)]
    marks = chapters(sentences, starts, 90.0, intro=2.0)
    assert marks[0] == {"start": 0.0, "title": "Intro"}
    assert all(b["start"] - a["start"] >= 10 for a, b in itertools.pairwise(marks))
    assert len(marks) >= 3
    assert chapters(sentences, starts, 45.0, intro=2.0) == []  # too short for chapters
    idea = Idea(idea_title="A <great> title", script_content="x", description="About it.")
    meta = build_metadata(
        idea,
        sentences=sentences,
        starts=starts,
        duration=90.0,
        intro=2.0,
        language="en",
        made_for_kids=False,
        category_id="27",
        files={},
    )
    assert meta["title"] == "A great title"
    assert "Chapters:\n0:00 Intro\n0:" in meta["description"]
    assert meta["made_for_kids"] is False and meta["duration_seconds"] == 90.0


def test_right_to_left_captions_are_laid_out_right_to_left() -> None:
    """Arabic and Hebrew lines read right to left: the full stop is drawn first (leftmost),
    a Latin word inside keeps its own order, and a Hebrew word in an English line is drawn
    right to left in its place."""
    from app.pipeline import fonts
    from app.pipeline.styles import BUILTIN

    font = fonts.resolve(BUILTIN["modern"].font)

    def order(text: str) -> list[tuple[str, str]]:
        return [(run, way) for run, _path, way in fonts.visual_runs(text, font)]

    assert order("مرحبا بالعالم.") == [(".", "rtl"), ("مرحبا بالعالم", "rtl")]
    assert order("مرحبا Cadence اليوم.") == [
        (".", "rtl"), ("اليوم", "rtl"), ("Cadence ", "ltr"), ("مرحبا ", "rtl"),
    ]  # fmt: skip
    assert order("I said שלום today.") == [
        ("I said ", "ltr"), ("שלום ", "rtl"), ("today.", "ltr"),
    ]  # fmt: skip
    assert order("Plain text.") == [("Plain text.", "ltr")]


def test_a_right_to_left_caption_is_drawn_with_its_stop_on_the_left() -> None:
    """Pixels, not just the plan: in an Arabic caption the first ink from the left is the
    full stop (a small blob), and the words begin further right."""
    from dataclasses import replace

    import numpy as np

    from app.pipeline.captions import Cue, Layout, render_cue
    from app.pipeline.styles import BUILTIN

    style = replace(BUILTIN["minimal"], caption_box=None, text=(0, 0, 0))  # dark letters
    layout = Layout.for_frame((1280, 720), style)
    sprite, _ = render_cue(Cue(0, 1, ("مرحبا بالعالم.",)), style, layout)
    pixels = np.asarray(sprite).astype(int)
    letters = (pixels[:, :, 3] > 128) & (pixels[:, :, :3].sum(axis=2) < 200)  # not the outline
    columns = np.nonzero(letters.any(axis=0))[0]
    first = [int(columns[0])]  # the first blob of ink from the left: consecutive columns
    for column in columns[1:]:
        if column != first[-1] + 1:
            break
        first.append(int(column))
    assert len(first) < layout.font_size / 3  # a full stop, not the start of a word


def test_a_crossfade_goes_from_one_picture_to_the_next() -> None:
    import numpy as np

    from app.pipeline.visuals import crossfade

    old = np.zeros((4, 4, 3), np.uint8)
    new = np.full((4, 4, 3), 255, np.uint8)
    new[0, 0] = (10, 200, 0)
    assert (crossfade(old, new, 0.0) == old).all()
    assert (crossfade(old, new, 1.0) == new).all()
    half = crossfade(old, new, 0.5)
    assert half.dtype == np.uint8 and half[1, 1].tolist() == [128, 128, 128]
    assert half[0, 0].tolist() == [5, 100, 0]
    assert crossfade(new, old, 0.25)[1, 1].tolist() == [191, 191, 191]  # 255 × ¾, rounded


@pytest.mark.parametrize(
    ("title", "stem"),
    [
        ("Café au lait!", "cafe-au-lait"),
        ("مرحبا بالعالم", "مرحبا-بالعالم"),  # an Arabic row keeps its words
        ("नमस्ते दुनिया", "नमस्ते-दुनिया"),
        ("東京 Tokyo 🎬", "東京-tokyo"),
        ("🎬 / ..", "video"),  # nothing readable left: a name still
    ],
)
def test_a_videos_file_name_keeps_the_titles_letters(title: str, stem: str) -> None:
    from app.pipeline.render import output_stem, slug

    assert output_stem(3, Idea(idea_title=title)) == f"003-{stem}"
    assert len(slug("東" * 200).encode()) <= 150  # room for suffixes in a 255-byte name


def test_no_caption_is_one_lone_word_or_a_flash() -> None:
    """Every sentence of the demo sheet, at every shape: a sentence's last word never gets a
    caption of its own, and no caption is on screen for less than 0.4 s — with words timed
    by length, and with the speech engine's own word times."""
    import csv

    from app.domain.output import Resolution
    from app.pipeline.captions import MIN_CUE

    style = pick_style("modern", None)
    with (Path(__file__).parent.parent / "resources" / "demo" / "ideas.csv").open() as fh:
        scripts = [row[6] for row in list(csv.reader(fh))[1:]]  # column G, the script
    sentences = [s for script in scripts for s in split_sentences(script)]
    for vertical in (False, True):
        size = OutputConfig(resolution=Resolution.FULL_HD, vertical=vertical).size
        layout = Layout.for_frame(size, style)
        at, timings, words = 0.0, [], []
        for sentence in sentences:
            length = 0.06 * len(sentence)  # about 165 words a minute
            timings.append((at, at + length))
            offsets, cursor = [], 0
            for word in sentence.split():
                cursor = sentence.index(word, cursor)
                offsets.append((cursor, len(word), at + length * cursor / len(sentence)))
                cursor += len(word)
            words.append(offsets)
            at += length + 0.35
        for said in (None, words):
            cues = plan_cues(sentences, timings, style, layout, words=said)
            lone = [c.text for c in cues if len(c.text.split()) == 1]
            assert lone == [], (vertical, lone)
            short = [(c.text, round(c.end - c.start, 3)) for c in cues if c.end - c.start < MIN_CUE]
            assert short == [], (vertical, short)


def test_a_picture_is_cropped_around_its_subject_not_its_centre() -> None:
    from PIL import Image, ImageDraw

    from app.pipeline.visuals import interest

    picture = Image.new("RGB", (1600, 900), "skyblue")  # a plain sky …
    ImageDraw.Draw(picture).ellipse((120, 300, 420, 600), fill="darkred", outline="black")
    x, y = interest(picture)  # … with its subject on the left
    assert x < 0.3 and 0.35 < y < 0.65
    assert interest(Image.new("RGB", (800, 800), "grey")) == (0.5, 0.5)


def test_phones_get_large_word_by_word_captions_by_default() -> None:
    from app.pipeline.captions import caption_mode
    from app.settings import option

    assert option("render.captions").default == "auto"
    assert caption_mode("auto", vertical=True) == "pop"  # a phone's frame: big, a word or two
    assert caption_mode("auto", vertical=False) == "sentence"
    assert caption_mode("karaoke", vertical=True) == "karaoke"  # chosen: kept
