"""Fonts: the shipped set, which of them covers which characters, and loading at a size.

Text is drawn run by run: each run is the longest stretch of characters the preferred font
covers, else the first fallback that does. So mixed-script captions render without boxes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageFont

from app.paths import RESOURCES
from app.pipeline.errors import RenderError

FONT_DIR = RESOURCES / "fonts"
EMOJI = "NotoColorEmoji.ttf"  # colour bitmaps: drawn at EMOJI_SIZE and scaled (`is_emoji`)
EMOJI_SIZE = 109  # the one size its bitmaps come in
FALLBACKS: tuple[str, ...] = (
    "NotoSans-Bold.ttf",
    "NotoSansArabic-Bold.ttf",
    "NotoSansHebrew-Bold.ttf",
    "NotoSansDevanagari-Bold.ttf",
    "NotoSansBengali-Bold.ttf",
    "NotoSansThai-Bold.ttf",
    "NotoSansTamil-Bold.ttf",
    "NotoSansTelugu-Bold.ttf",
    "NotoSansGujarati-Bold.ttf",
    "NotoSansGurmukhi-Bold.ttf",
    "NotoSansKannada-Bold.ttf",
    "NotoSansMalayalam-Bold.ttf",
    "NotoSansSinhala-Bold.ttf",
    "NotoSansKhmer-Bold.ttf",
    "NotoSansLao-Bold.ttf",
    "NotoSansMyanmar-Bold.ttf",
    "NotoSansEthiopic-Bold.ttf",
    "NotoSansArmenian-Bold.ttf",
    "NotoSansGeorgian-Bold.ttf",
    EMOJI,
    "DroidSansFallbackFull.ttf",
    "NanumGothicBold.ttf",  # Hangul
    "DejaVuSans-Bold.ttf",  # symbols, arrows, dingbats and some emoji
)


def resolve(name: str | Path) -> Path:
    """A font file by path, or by file name in the shipped fonts folder."""
    path = Path(name)
    if not path.is_absolute() and not path.exists():
        path = FONT_DIR / path
    if not path.is_file():
        raise RenderError(f"font {name} was not found — check the style's font setting")
    return path


@lru_cache(maxsize=64)
def coverage(path: Path) -> frozenset[int]:
    """The code points a font file has glyphs for."""
    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            cmap = font.getBestCmap() or {}
    except (TTLibError, OSError, AssertionError) as exc:
        raise RenderError(
            f"font {path.name} cannot be read ({exc}) — replace the file or pick another font"
        ) from exc
    return frozenset(cmap)


def is_emoji(path: Path) -> bool:
    return path.name == EMOJI


@lru_cache(maxsize=256)
def load(path: Path, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)
    except OSError as exc:
        raise RenderError(
            f"font {path.name} cannot be loaded ({exc}) — replace the file or pick another font"
        ) from exc


def _needs_glyph(ch: str) -> bool:
    return not (ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Mn", "Me"))


def font_for(ch: str, preferred: Path, chain: Iterable[Path]) -> Path:
    """The first font (preferred, then the fallbacks) that has ``ch``."""
    code = ord(ch)
    for path in (preferred, *chain):
        if code in coverage(path):
            return path
    return preferred  # nothing has it: the preferred font's .notdef is the honest result


def runs(text: str, preferred: Path) -> list[tuple[str, Path]]:
    """Split ``text`` into (run, font) pieces; spaces and marks stay with their neighbours."""
    chain = [FONT_DIR / name for name in FALLBACKS]
    pieces: list[tuple[str, Path]] = []
    current: Path | None = None
    buffer = ""
    for ch in text:
        if _needs_glyph(ch):
            font = font_for(ch, preferred, chain)
        elif ch.isspace() and current is not None and is_emoji(current):
            font = preferred  # a space after an emoji is the text's space, not the emoji font's
        else:
            font = current or preferred
        if current is not None and font != current:
            pieces.append((buffer, current))
            buffer = ""
        current = font
        buffer += ch
    if buffer:
        pieces.append((buffer, current or preferred))
    return pieces


def direction(text: str) -> str | None:
    """``rtl`` or ``ltr`` from the first strongly directional character (Unicode's P2–P3
    rule for a paragraph's base direction); None when there is none (digits, punctuation)."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return None


def visual_runs(text: str, preferred: Path) -> list[tuple[str, Path, str]]:
    """(run, font, direction) in the order to draw them left to right.

    A simplified Unicode bidi reordering at the level of font runs: each run keeps its own
    direction (raqm then orders and shapes its letters), runs without a strong character take
    the line's direction, and the line's segments of one direction are laid out as the line's
    direction says — so an Arabic or Hebrew line reads right to left with its full stop on
    the left, and an English word inside it stays readable."""
    base = direction(text) or "ltr"
    pieces = [(run, font, direction(run) or base) for run, font in runs(text, preferred)]
    segments: list[list[tuple[str, Path, str]]] = []
    for piece in pieces:
        if segments and segments[-1][-1][2] == piece[2]:
            segments[-1].append(piece)
        else:
            segments.append([piece])
    ordered = [list(reversed(s)) if s[0][2] == "rtl" else s for s in segments]
    if base == "rtl":
        ordered.reverse()
    return [piece for segment in ordered for piece in segment]


def missing_glyphs(text: str, preferred: Path) -> set[str]:
    """Characters no shipped font can draw (for warnings and tests)."""
    return {
        ch
        for piece, font in runs(text, preferred)
        for ch in piece
        if _needs_glyph(ch) and ord(ch) not in coverage(font)
    }
