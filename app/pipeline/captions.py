"""Captions: sentences wrapped to the safe area, timed from the speech, drawn as sprites.

A caption is at most two lines; longer sentences become several captions that share the
sentence's time in proportion to their length. An ``.srt`` sidecar is always written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image, ImageDraw

from app.pipeline import fonts
from app.pipeline.legibility import box_opacity, safe_box
from app.pipeline.styles import Color, Style
from app.pipeline.word_times import Word, token_starts

MAX_LINES = 2
MIN_CUE = 0.4  # seconds: a caption shown for less is a flash nobody reads
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]")


@dataclass(frozen=True, slots=True)
class Layout:
    """Where captions go in a frame of ``size``, and how big their text is."""

    size: tuple[int, int]
    font_size: int
    max_width: int
    position: str

    @classmethod
    def for_frame(cls, size: tuple[int, int], style: Style) -> Layout:
        width, height = size
        vertical = height > width
        font_size = round(width * 0.062) if vertical else round(height * 0.055)
        left, _top, right, _bottom = safe_box(size)
        max_width = min(round(width * 0.84), right - left - round(font_size * 1.2))
        return cls(size, font_size, max_width, style.caption_position)

    def anchor(self, block: tuple[int, int]) -> tuple[int, int]:
        """Top-left corner for a caption block of (width, height): inside the part of the
        frame no platform covers with its buttons (`legibility.safe_box`)."""
        width, height = self.size
        left, top, right, bottom = safe_box(self.size)
        x = left + (right - left - block[0]) // 2
        vertical = height > width
        if self.position == "top":
            y = max(round(height * 0.08), top)
        elif self.position == "center":
            y = top + (bottom - top - block[1]) // 2
        else:  # bottom; Shorts and Reels cover the bottom quarter with their own captions
            y = round(min(height * (0.72 if vertical else 0.91), bottom) - block[1])
        return max(x, 0), max(y, 0)

    def middle(self, block: tuple[int, int]) -> tuple[int, int]:
        """Top-left corner for a block centred in the safe part of the frame."""
        left, top, right, bottom = safe_box(self.size)
        return left + (right - left - block[0]) // 2, top + (bottom - top - block[1]) // 2


@dataclass(frozen=True, slots=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]
    highlight: int | None = None  # index of the spoken word, for the word-by-word style
    pop: bool = False  # one or two words, large, in the middle of the frame

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _tokens(text: str) -> list[str]:
    """Words; CJK text (which has no spaces) breaks between characters."""
    tokens: list[str] = []
    for word in text.split():
        if _CJK.search(word):
            tokens.extend(
                re.findall(
                    r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef][^\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]*|[^\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]+",
                    word,
                )
            )
        else:
            tokens.append(word)
    return tokens


def _join(tokens: Sequence[str]) -> str:
    text = ""
    for token in tokens:
        glue = "" if (not text or (_CJK.search(token[:1]) and _CJK.search(text[-1:]))) else " "
        text += glue + token
    return text


def text_width(text: str, font: Path, size: int) -> float:
    return sum(_run_width(run, path, size, way) for run, path, way in fonts.visual_runs(text, font))


def _run_width(run: str, path: Path, size: int, way: str) -> float:
    if fonts.is_emoji(path):  # its bitmaps have one size: measured there, scaled
        return fonts.load(path, fonts.EMOJI_SIZE).getlength(run) * size / fonts.EMOJI_SIZE
    return fonts.load(path, size).getlength(run, direction=way)


def _draw_emoji(draw: ImageDraw.ImageDraw, xy: tuple[float, float], run: str, path: Path,
                size: int) -> float:  # fmt: skip
    """Colour emoji: drawn at the font's one bitmap size, scaled to ``size`` and laid on
    the picture ``draw`` paints (the draw's own image); returns the width taken."""
    face = fonts.load(path, fonts.EMOJI_SIZE)
    width = face.getlength(run)
    ascent, descent = face.getmetrics()
    tile = Image.new("RGBA", (math.ceil(width) + 1, ascent + descent), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((0, 0), run, font=face, embedded_color=True)
    scale = size / fonts.EMOJI_SIZE
    tile = tile.resize(
        (max(1, round(tile.width * scale)), max(1, round(tile.height * scale))),
        Image.Resampling.LANCZOS,
    )
    target: Image.Image = draw._image
    target.paste(tile, (round(xy[0]), round(xy[1])), tile)
    return width * scale


def wrap(text: str, font: Path, size: int, max_width: int) -> list[str]:
    """Greedy line breaking by measured width; a single over-long word gets a line of its own."""
    lines: list[list[str]] = [[]]
    for token in _tokens(text):
        candidate = [*lines[-1], token]
        if lines[-1] and text_width(_join(candidate), font, size) > max_width:
            lines.append([token])
        else:
            lines[-1] = candidate
    lines = [line for line in lines if line]
    if len(lines) > 1 and len(lines[-1]) == 1 and len(lines[-2]) > 2:
        # No word left alone on the last line: its neighbour joins it if the line fits.
        moved = [lines[-2][-1], *lines[-1]]
        if text_width(_join(moved), font, size) <= max_width:
            lines[-2], lines[-1] = lines[-2][:-1], moved
    return [_join(line) for line in lines]


def _chunks(lines: list[str]) -> list[tuple[str, ...]]:
    """Lines in caption-sized groups — never a last group of one lone word: three lines are
    shown one, then two."""
    chunks = [tuple(lines[i : i + MAX_LINES]) for i in range(0, len(lines), MAX_LINES)]
    if len(chunks) > 1 and len(chunks[-1]) == 1 and len(chunks[-1][0].split()) == 1:
        head = chunks[-2]
        chunks[-2:] = [head[:-1], (head[-1], chunks[-1][0])]
    return [chunk for chunk in chunks if chunk]


def _lengthened(cues: list[Cue]) -> list[Cue]:
    """Each caption on screen at least `MIN_CUE`: a short one starts a little early, taking
    the time from the one before it (which keeps at least as much)."""
    out = list(cues)
    for n in range(1, len(out)):
        cue, before = out[n], out[n - 1]
        short = MIN_CUE - (cue.end - cue.start)
        if short <= 0 or abs(before.end - cue.start) > 1e-6 or before.lines == cue.lines:
            continue  # (the same lines, another word highlighted: no new caption)
        take = min(short, max(0.0, (before.end - before.start) - MIN_CUE))
        if take > 0:
            out[n - 1] = replace(before, end=before.end - take)
            out[n] = replace(cue, start=cue.start - take)
    return out


def plan_cues(
    sentences: Sequence[str],
    timings: Sequence[tuple[float, float]],
    style: Style,
    layout: Layout,
    *,
    offset: float = 0.0,
    word_highlight: bool = False,
    words: Sequence[Sequence[Sequence[float]]] | None = None,
    mode: str = "sentence",
) -> list[Cue]:
    """Captions for the narration, shifted by ``offset`` (the intro's length). With the
    speech engine's ``words`` (per sentence: character offset, length, seconds), each chunk
    and each highlighted word starts when it is said; without, words are timed by length."""
    if mode == "pop":
        return _pop_cues(sentences, timings, words, offset)
    word_highlight = word_highlight or mode == "karaoke"
    font = fonts.resolve(style.font)
    cues: list[Cue] = []
    for n, (sentence, (start, end)) in enumerate(zip(sentences, timings, strict=True)):
        lines = wrap(sentence, font, layout.font_size, layout.max_width)
        chunks = _chunks(lines)
        said = words[n] if words and n < len(words) else None
        times = _spoken_times(sentence, chunks, start, said) if said else None
        if times is not None:
            cues += _timed_cues(chunks, times, end, offset, word_highlight)
            continue
        weights = [sum(len(line) for line in chunk) or 1 for chunk in chunks]
        total = sum(weights)
        at = start
        for chunk, weight in zip(chunks, weights, strict=True):
            until = at + (end - start) * weight / total
            if word_highlight:
                cues.extend(_word_cues(chunk, at + offset, until + offset))
            else:
                cues.append(Cue(at + offset, until + offset, chunk))
            at = until
    return _lengthened(cues)


CAPTION_MODES = ("auto", "sentence", "karaoke", "pop")


def caption_mode(mode: str, vertical: bool) -> str:
    """``auto``: large word-by-word captions for a phone's vertical frame, sentences for a
    landscape one; any other mode as chosen."""
    if mode == "auto":
        return "pop" if vertical else "sentence"
    return mode


POP_CHARS = 14  # two words share a pop caption when together they are this short


def _pop_cues(
    sentences: Sequence[str],
    timings: Sequence[tuple[float, float]],
    words: Sequence[Sequence[Sequence[float]]] | None,
    offset: float,
) -> list[Cue]:
    """One or two words at a time, each group shown from when its first word is said."""
    cues: list[Cue] = []
    for n, (sentence, (start, end)) in enumerate(zip(sentences, timings, strict=True)):
        tokens = _tokens(sentence)
        if not tokens:
            continue
        said = words[n] if words and n < len(words) else None
        if said:
            times = _spoken_times(sentence, [(sentence,)], start, said)
        else:  # by length, as the other styles do without the engine's word times
            weights = [len(t) + 1 for t in tokens]
            times = [start + (end - start) * sum(weights[:k]) / sum(weights)
                     for k in range(len(tokens))]  # fmt: skip
        groups: list[list[int]] = []
        for k, token in enumerate(tokens):
            if groups and _joins(tokens[groups[-1][0]], token, len(groups[-1])):
                groups[-1].append(k)
            else:
                groups.append([k])
        for g, group in enumerate(groups):
            first = times[group[0]]
            until = times[groups[g + 1][0]] if g + 1 < len(groups) else end
            if until > first:
                text = " ".join(tokens[k] for k in group)
                cues.append(Cue(first + offset, until + offset, (text,), pop=True))
    return cues


def _joins(before: str, word: str, count: int) -> bool:
    """Whether ``word`` shares the pop caption that starts with ``before``: two short words,
    not across a pause (punctuation)."""
    return count == 1 and before[-1] not in ".,;:!?" and len(before) + 1 + len(word) <= POP_CHARS


def _spoken_times(
    sentence: str, chunks: list[tuple[str, ...]], start: float, said: Sequence[Sequence[float]]
) -> list[float]:
    """When each caption token is said (a token with no word of its own — punctuation —
    takes the time of the one before)."""
    tokens = [token for chunk in chunks for line in chunk for token in _tokens(line)]
    reported = [Word(int(w[0]), int(w[1]), float(w[2])) for w in said]
    times, last = [], start
    for found in token_starts(sentence, tokens, reported):
        last = found if found is not None and found >= last else last
        times.append(last)
    return times


def _timed_cues(
    chunks: list[tuple[str, ...]], times: list[float], end: float, offset: float, each: bool
) -> list[Cue]:
    cues: list[Cue] = []
    index = 0
    for number, chunk in enumerate(chunks):
        count = sum(len(_tokens(line)) for line in chunk)
        mine = times[index : index + count]
        until = times[index + count] if index + count < len(times) else end
        if not mine:
            continue
        if each:
            bounds = [*mine, until]
            cues += [
                Cue(bounds[k] + offset, bounds[k + 1] + offset, chunk, highlight=k)
                for k in range(count)
                if bounds[k + 1] > bounds[k]
            ]
        else:
            first = mine[0] if number else min(mine[0], times[0])
            cues.append(Cue(first + offset, until + offset, chunk))
        index += count
    return cues


def _word_cues(lines: tuple[str, ...], start: float, end: float) -> list[Cue]:
    words = [w for line in lines for w in _tokens(line)]
    weights = [len(w) + 1 for w in words]
    total = sum(weights)
    cues = []
    at = start
    for index, weight in enumerate(weights):
        until = at + (end - start) * weight / total
        cues.append(Cue(at, until, lines, highlight=index))
        at = until
    return cues


def _srt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02}:{minutes:02}:{secs:02},{millis:03}"


def srt_text(cues: Sequence[Cue]) -> str:
    """SubRip text; word-highlight cues of one caption are merged back into one entry."""
    merged: list[Cue] = []
    for cue in cues:
        if merged and cue.lines == merged[-1].lines and cue.highlight:
            merged[-1] = Cue(merged[-1].start, cue.end, cue.lines)
        else:
            merged.append(Cue(cue.start, cue.end, cue.lines))
    blocks = [
        f"{n}\n{_srt_time(c.start)} --> {_srt_time(c.end)}\n{c.text}\n"
        for n, c in enumerate(merged, start=1)
    ]
    return "\n".join(blocks)


def draw_line(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    font: Path,
    size: int,
    fill: Color,
    *,
    stroke: int = 0,
    stroke_fill: Color = (0, 0, 0),
) -> None:
    """Draw ``text`` run by run, each run in the first font that has its characters, in
    visual order (right-to-left scripts included: see `fonts.visual_runs`)."""
    x, y = xy
    for run, path, way in fonts.visual_runs(text, font):
        if fonts.is_emoji(path):
            x += _draw_emoji(draw, (x, y), run, path, size)
            continue
        face = fonts.load(path, size)
        drawable = "".join(ch for ch in run if ord(ch) in fonts.coverage(path) or ch.isspace())
        draw.text(
            (x, y),
            drawable,
            font=face,
            fill=fill,
            stroke_width=stroke,
            stroke_fill=stroke_fill,
            direction=way,
        )
        x += face.getlength(drawable, direction=way)


def _pop_size(cue: Cue, font: Path, layout: Layout) -> int:
    """A pop caption's size: nearly twice the sentence size, smaller for a long word so that
    it stays inside the safe part of the frame."""
    left, _top, right, _bottom = safe_box(layout.size)
    size = round(layout.font_size * 1.9)
    widest = max(text_width(line, font, size) for line in cue.lines)
    room = (right - left) / (1 + 1.2 * size / max(widest, 1))  # the text and its padding
    if widest > room:
        size = max(int(size * room / widest), layout.font_size // 2)
    return size


def render_cue(cue: Cue, style: Style, layout: Layout) -> tuple[Image.Image, tuple[int, int]]:
    """The caption as an RGBA sprite and where its top-left corner goes in the frame."""
    font = fonts.resolve(style.font)
    size = _pop_size(cue, font, layout) if cue.pop else layout.font_size
    line_height = round(size * 1.3)
    pad_x, pad_y = round(size * 0.6), round(size * 0.3)
    widths = [text_width(line, font, size) for line in cue.lines]
    block = (round(max(widths)) + 2 * pad_x, line_height * len(cue.lines) + 2 * pad_y)
    sprite = Image.new("RGBA", block, (0, 0, 0, 0))
    draw = ImageDraw.Draw(sprite)
    stroke = 0
    if style.caption_box is not None and not cue.pop:
        # Never so faint that white text over a white picture drops under 4.5:1.
        alpha = round(255 * box_opacity(style.text, style.caption_box, style.caption_box_opacity))
        draw.rounded_rectangle(
            (0, 0, block[0] - 1, block[1] - 1),
            radius=round(size * 0.35),
            fill=(*style.caption_box, alpha),
        )
    else:  # an outline wide enough to hold 4.5:1 against any picture
        stroke = max(3, round(size / 10))
    outline = (0, 0, 0) if sum(style.text) > 380 else (255, 255, 255)
    word_index = 0
    for row, (line, width) in enumerate(zip(cue.lines, widths, strict=True)):
        x = (block[0] - width) / 2
        y = pad_y + row * line_height + (line_height - size) / 2 - size * 0.1
        if cue.highlight is None:
            draw_line(
                draw, (x, y), line, font, size, style.text, stroke=stroke, stroke_fill=outline
            )
            continue
        tokens = _tokens(line)
        order = range(len(tokens))
        if fonts.direction(line) == "rtl":  # words run right to left: draw the last first
            order = range(len(tokens) - 1, -1, -1)
        for n in order:
            token = tokens[n]
            colour = style.accent if word_index + n == cue.highlight else style.text
            draw_line(draw, (x, y), token, font, size, colour, stroke=stroke, stroke_fill=outline)
            x += text_width(token + " ", font, size)
        word_index += len(tokens)
    if cue.pop:  # the middle of the frame, whatever the style's caption position
        return sprite, layout.middle(block)
    return sprite, layout.anchor(block)
