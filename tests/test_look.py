"""What a viewer sees: captions legible over any picture (4.5:1 at the least) and inside the
part of a phone's frame no platform covers, a title that reads over a bright picture, a
background that moves when there is no picture, and the user's own media asked first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.pipeline import fonts, footage
from app.pipeline.captions import Cue, Layout, render_cue, wrap
from app.pipeline.footage import FootageSettings
from app.pipeline.legibility import MIN_CONTRAST, PHONE_SAFE, contrast, safe_box, text_contrast
from app.pipeline.styles import BUILTIN
from app.pipeline.visuals import Drift, Sprite, keywords, title_card

VERTICAL = (1080, 1920)
WHITE, BLACK = (255, 255, 255), (0, 0, 0)


def over(sprite_image: Image.Image, colour: tuple[int, int, int]) -> np.ndarray:
    """The sprite drawn over a flat picture of ``colour``."""
    frame = np.full((sprite_image.height, sprite_image.width, 3), colour, np.uint8)
    Sprite.from_image(sprite_image, (0, 0)).blend(frame)
    return frame


def text_mask(sprite_image: Image.Image, text: tuple[int, int, int]) -> np.ndarray:
    """The text's own pixels: the same over white and over black, and the text's colour."""
    on_white, on_black = over(sprite_image, WHITE), over(sprite_image, BLACK)
    same = np.abs(on_white.astype(int) - on_black.astype(int)).max(axis=2) <= 2
    return same & (np.abs(on_white.astype(int) - text).max(axis=2) <= 40)


@pytest.mark.parametrize("style", sorted(BUILTIN))
@pytest.mark.parametrize("pop", [False, True], ids=["sentence", "pop"])
def test_captions_keep_4_5_to_1_over_a_white_or_a_black_picture(style: str, pop: bool) -> None:
    chosen = BUILTIN[style]
    layout = Layout.for_frame(VERTICAL, chosen)
    cue = Cue(0, 1, ("Blue" if pop else "The sky looks blue because air",), pop=pop)
    image, _xy = render_cue(cue, chosen, layout)
    mask = text_mask(image, chosen.text)
    assert mask.sum() > 500  # the words are there
    for behind in (WHITE, BLACK):
        measured = text_contrast(over(image, behind), mask, ring=3)
        assert measured >= MIN_CONTRAST, (style, pop, behind, measured)


def test_the_measure_fails_faint_text() -> None:
    frame = np.full((40, 40, 3), 250, np.uint8)
    frame[10:30, 10:30] = 200  # light grey words on white
    mask = np.zeros((40, 40), bool)
    mask[10:30, 10:30] = True
    assert text_contrast(frame, mask, ring=3) < 2
    assert float(contrast(WHITE, BLACK)) == pytest.approx(21.0)


@pytest.mark.parametrize("word", ["Blue", "photosynthesis", "Internationalisation"])
def test_pop_captions_stay_inside_every_platforms_safe_area(word: str) -> None:
    style = BUILTIN["modern"]
    layout = Layout.for_frame(VERTICAL, style)
    image, (x, y) = render_cue(Cue(0, 1, (word,), pop=True), style, layout)
    left, top, right, bottom = safe_box(VERTICAL)
    assert (left, top) <= (x, y) and x + image.width <= right and y + image.height <= bottom
    # TikTok's side buttons are 140 px wide on a 1080 px frame; its caption area 484 px high.
    assert right <= 1080 - 140 and bottom <= 1920 - 484 and PHONE_SAFE[0] > 0
    # In the middle third of the height, where the eye is.
    assert 1920 / 3 <= y + image.height / 2 <= 2 * 1920 / 3


def test_sentence_captions_on_a_phone_keep_clear_of_the_buttons() -> None:
    style = BUILTIN["modern"]
    layout = Layout.for_frame(VERTICAL, style)
    sentence = "Light from the sun is a mix of every colour there is, and the air scatters it"
    lines = wrap(sentence, fonts.resolve(style.font), layout.font_size, layout.max_width)
    cue = Cue(0, 1, tuple(lines[:2]))
    image, (x, y) = render_cue(cue, style, layout)
    left, top, right, bottom = safe_box(VERTICAL)
    assert left <= x and x + image.width <= right and top <= y and y + image.height <= bottom


def test_the_title_reads_over_a_white_picture() -> None:
    style = BUILTIN["modern"]
    card = title_card("Why the sky is blue", "", style, (1280, 720))
    mask = text_mask(card, style.text)
    assert mask.sum() > 2000
    assert text_contrast(over(card, WHITE), mask, ring=3) >= MIN_CONTRAST


def test_without_pictures_the_background_moves_in_the_styles_colours() -> None:
    style = BUILTIN["modern"]
    drift = Drift((1280, 720), style, seed=3)
    frames = [drift.frame(t).astype(int) for t in (0.0, 5.0, 10.0)]
    assert all(frame.shape == (720, 1280, 3) for frame in frames)
    assert np.abs(frames[0] - frames[1]).mean() > 1 and np.abs(frames[1] - frames[2]).mean() > 1
    # Between frames a 30th of a second apart it glides (no jumps).
    assert np.abs(drift.frame(5.0).astype(int) - drift.frame(5.0 + 1 / 30)).mean() < 2
    darkest = min(style.background[0] + style.background[1])
    assert frames[0].min() >= darkest - 10  # the style's colours, nothing foreign


def test_the_users_media_folder_is_asked_before_any_provider(tmp_path: Path) -> None:
    folder = tmp_path / "media"
    (folder / "ocean").mkdir(parents=True)
    Image.new("RGB", (1280, 720), "navy").save(folder / "ocean" / "waves.jpg")
    Image.new("RGB", (1280, 720), "gray").save(folder / "desk.jpg")
    settings = FootageSettings(
        "free", cache_dir=tmp_path / "cache", chain=(("openverse", ""),)
    )  # nothing listens on the Openverse address the tests use
    shots, notes = footage.plan_shots(
        settings, ["Waves roll over the ocean.", "A desk by the window."], portrait=False,
        need=1280, idea_words=set(), words=keywords, folder=folder,
    )  # fmt: skip
    assert [(index, clip.provider, path.name) for index, clip, path in shots] == [
        (0, "folder", "waves.jpg"), (1, "folder", "desk.jpg"),
    ]  # fmt: skip
    assert footage.credits([footage.Shot(0, 1, p, c) for _i, c, p in shots]) == []
    assert notes == []  # Openverse was never needed


def test_a_still_picture_is_panned_and_zoomed_around_its_subject(tmp_path: Path) -> None:
    from app.pipeline.visuals import KenBurns

    picture = Image.new("RGB", (1600, 900), "white")
    ImageDraw.Draw(picture).ellipse((1200, 300, 1400, 500), fill="black")  # the subject, right
    picture.save(tmp_path / "photo.jpg")
    burns = KenBurns(tmp_path / "photo.jpg", (640, 360), duration=6.0, seed=0)
    frames = [burns.frame(t).astype(int) for t in (0.0, 3.0, 6.0)]
    assert all(frame.shape == (360, 640, 3) for frame in frames)
    assert np.abs(frames[0] - frames[1]).mean() > 0.5 and np.abs(frames[1] - frames[2]).mean() > 0.5
    # Consecutive frames glide: a 30th of a second changes little.
    assert np.abs(burns.frame(3.0).astype(int) - burns.frame(3.0 + 1 / 30)).mean() < 2
    # A 9:16 crop of a wide picture keeps its subject in the frame, not the blind centre.
    tall = KenBurns(tmp_path / "photo.jpg", (360, 640), duration=6.0, seed=1)
    assert (tall.frame(3.0).sum(axis=2) < 100).any()


def test_a_scene_fades_in_over_the_whole_crossfade_then_holds_still() -> None:
    from app.pipeline.visuals import FrameSource, Scene, Still

    black, white = (np.full((90, 160, 3), value, np.uint8) for value in (0, 255))
    frames = FrameSource((160, 90), [Scene(0, 1, Still(black)), Scene(1, 3, Still(white))], [],
                         fade=0.4)  # fmt: skip
    levels = [float(frames.frame(t).mean()) for t in (1.05, 1.15, 1.25, 1.35, 2.0, 2.5)]
    assert levels[:4] == sorted(levels[:4]) and len(set(levels[:4])) == 4  # a real fade
    assert levels[4] == levels[5] == 255.0  # then the still picture, reused
