"""How legible text is over a picture: WCAG 2 contrast ratios, the caption box opacity that
keeps them at least 4.5:1 over any picture, and the part of a phone's vertical frame no
platform covers with its own buttons and captions."""

from __future__ import annotations

import numpy as np

Color = tuple[int, int, int]
MIN_CONTRAST = 4.5  # WCAG 2's AA level for normal text

# The part of a 9:16 frame that TikTok, Instagram Reels and YouTube Shorts all leave alone,
# as fractions of the frame (left, top, right, bottom) — the union of their overlays on a
# 1080 × 1920 frame: TikTok's side buttons (right 140 px) and caption area (bottom 484 px),
# Reels' top bar (220 px), a 60 px margin on the left.
PHONE_SAFE = (60 / 1080, 220 / 1920, 1 - 140 / 1080, 1 - 484 / 1920)


def safe_box(size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The safe rectangle of a frame in pixels (the whole frame, less a margin, when landscape)."""
    width, height = size
    if height > width:
        left, top, right, bottom = PHONE_SAFE
    else:
        left, top, right, bottom = 0.05, 0.05, 0.95, 0.95
    return round(width * left), round(height * top), round(width * right), round(height * bottom)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Relative luminance (WCAG 2) of sRGB values in 0–255, over the last axis."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def contrast(a: np.ndarray | Color, b: np.ndarray | Color) -> np.ndarray:
    """The contrast ratio between colours ``a`` and ``b`` (1 to 21)."""
    la, lb = luminance(np.asarray(a)), luminance(np.asarray(b))
    return (np.maximum(la, lb) + 0.05) / (np.minimum(la, lb) + 0.05)


def box_opacity(text: Color, box: Color, wanted: float) -> float:
    """The least opacity of a ``box``-coloured shade (at least ``wanted``) at which ``text``
    keeps a contrast of 4.5:1 over a white or a black picture, whichever is worse."""
    for step in range(round(wanted * 100), 101):
        alpha = step / 100
        worst = min(
            float(contrast(text, np.asarray(box) * alpha + np.asarray(under) * (1 - alpha)))
            for under in ((255, 255, 255), (0, 0, 0))
        )
        if worst >= MIN_CONTRAST + 0.05:  # a margin for rounding in the blend
            return alpha
    return 1.0


def _grown(mask: np.ndarray, pixels: int) -> np.ndarray:
    """``mask`` dilated by ``pixels`` (a square neighbourhood, one pixel at a time)."""
    grown = mask.copy()
    for _ in range(pixels):
        step = grown.copy()
        step[1:] |= grown[:-1]
        step[:-1] |= grown[1:]
        step[:, 1:] |= grown[:, :-1]
        step[:, :-1] |= grown[:, 1:]
        grown = step
    return grown


def text_contrast(frame: np.ndarray, text: np.ndarray, ring: int, gap: int = 2) -> float:
    """The contrast of the text pixels (``text``: a boolean mask of the frame) against the
    pixels around them — from ``gap`` pixels out (past the anti-aliased edge, which is half
    text) to ``gap + ring``: the 5th percentile over the text's surroundings, so a stray
    bright pixel does not count but a bright area does."""
    mask = np.asarray(text, dtype=bool)
    if not mask.any():
        return 21.0
    around = _grown(mask, gap + ring) & ~_grown(mask, gap)
    if not around.any():
        return 21.0
    text_colour = np.median(frame[mask].reshape(-1, 3), axis=0)
    ratios = contrast(frame[around].reshape(-1, 3), text_colour)
    return float(np.percentile(ratios, 5))
