"""Looks: the built-in styles and user templates (YAML files), checked when loaded."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from app.domain.errors import UserError
from app.pipeline.errors import RenderError
from app.user_files import read_user_text

Color = tuple[int, int, int]


def parse_color(value: Any, field: str) -> Color:
    text = str(value).strip().lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    try:
        if len(text) != 6:
            raise ValueError
        return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))
    except ValueError:
        raise RenderError(
            f"style setting {field}: {value!r} is not a colour like #1a2b3c"
        ) from None


@dataclass(frozen=True, slots=True)
class Style:
    name: str
    background: tuple[Color, Color]  # gradient from top-left to bottom-right (equal = flat)
    text: Color
    accent: Color
    caption_box: Color | None  # a rounded box behind captions, or None for an outline
    caption_box_opacity: float
    caption_position: str  # "bottom", "center" or "top"
    font: str
    title_font: str
    logo_position: str  # "top-left", "top-right", "bottom-left", "bottom-right"
    music: str  # file name in the music folder, or "" for any / none found
    music_level_db: float  # music under the voice, relative to the voice
    intro_seconds: float
    outro_seconds: float
    voice_rate: int = 0  # words per minute for this style's narration (0: the setting's)
    voice_pitch: int = 50  # 0–99, espeak-ng's scale (50 is its own); other engines ignore it


BUILTIN: dict[str, Style] = {
    "modern": Style(
        "modern",
        ((24, 26, 58), (104, 38, 122)),
        (255, 255, 255),
        (255, 200, 60),
        (12, 12, 24),
        0.55,
        "bottom",
        "NotoSans-Bold.ttf",
        "NotoSans-Bold.ttf",
        "top-right",
        "light-pulse.m4a",
        -20.0,
        2.0,
        2.0,
    ),
    "classic": Style(
        "classic",
        ((58, 40, 28), (24, 18, 14)),
        (250, 240, 220),
        (214, 170, 90),
        None,
        0.0,
        "bottom",
        "NotoSerif-Bold.ttf",
        "NotoSerif-Bold.ttf",
        "bottom-right",
        "calm-pad.m4a",
        -22.0,
        2.5,
        2.5,
    ),
    "minimal": Style(
        "minimal",
        ((245, 245, 242), (245, 245, 242)),
        (28, 28, 30),
        (230, 80, 60),
        None,
        0.0,
        "center",
        "NotoSans-Bold.ttf",
        "NotoSans-Bold.ttf",
        "bottom-left",
        "calm-pad.m4a",
        -24.0,
        1.5,
        1.5,
    ),
    "corporate": Style(
        "corporate",
        ((10, 48, 92), (18, 94, 150)),
        (255, 255, 255),
        (120, 200, 255),
        (6, 30, 60),
        0.7,
        "bottom",
        "NotoSans-Bold.ttf",
        "NotoSans-Bold.ttf",
        "top-left",
        "light-pulse.m4a",
        -22.0,
        2.0,
        2.0,
    ),
}
DEFAULT_STYLE = "modern"

_EDITABLE = {f.name for f in fields(Style)} - {"name"}
VOICE_BOUNDS = {"voice_rate": (80, 400), "voice_pitch": (0, 99)}
_CHOICES = {
    "caption_position": {"bottom", "center", "top"},
    "logo_position": {"top-left", "top-right", "bottom-left", "bottom-right"},
}


def load_template(path: Path) -> Style:
    """A user template: YAML with ``base:`` (a built-in style) and the settings it changes."""
    try:
        data = yaml.safe_load(read_user_text(path, "template")) or {}
    except RenderError:
        raise
    except UserError as exc:
        raise RenderError(f"{exc}, or remove it") from None
    except RecursionError:
        raise RenderError(f"template {path} is nested too deeply — remove it") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RenderError(
            f"template {path} is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}"
        ) from None
    if not isinstance(data, dict):
        raise RenderError(f"template {path.name} must be a mapping of settings")
    base = BUILTIN.get(str(data.pop("base", DEFAULT_STYLE)))
    if base is None:
        raise RenderError(f"template {path.name}: base must be one of {', '.join(BUILTIN)}")
    changes: dict[str, Any] = {"name": path.stem.lower()}
    for key, value in data.items():
        if key not in _EDITABLE:
            raise RenderError(
                f"template {path.name}: unknown setting {key!r} — "
                f"use {', '.join(sorted(_EDITABLE))}"
            )
        changes[key] = _coerce(path.name, key, value)
    return replace(base, **changes)


def _coerce(name: str, key: str, value: Any) -> Any:
    if key == "background":
        if isinstance(value, list) and len(value) == 2:
            return (parse_color(value[0], key), parse_color(value[1], key))
        color = parse_color(value, key)
        return (color, color)
    if key in ("text", "accent"):
        return parse_color(value, key)
    if key == "caption_box":
        return None if value in (None, "none", "") else parse_color(value, key)
    if key in _CHOICES and value not in _CHOICES[key]:
        raise RenderError(
            f"template {name}: {key} must be one of {', '.join(sorted(_CHOICES[key]))}"
        )
    if key in VOICE_BOUNDS:
        low, high = VOICE_BOUNDS[key]
        try:
            whole = int(value)
        except (TypeError, ValueError):
            raise RenderError(f"template {name}: {key} must be a whole number") from None
        if not (low <= whole <= high or (key == "voice_rate" and whole == 0)):
            raise RenderError(f"template {name}: {key} must be from {low} to {high}")
        return whole
    if key in ("caption_box_opacity", "music_level_db", "intro_seconds", "outro_seconds"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise RenderError(f"template {name}: {key} must be a number") from None
        if not math.isfinite(number):
            raise RenderError(f"template {name}: {key} must be a number, not {value}")
        if key == "caption_box_opacity" and not 0 <= number <= 1:
            raise RenderError(f"template {name}: caption_box_opacity must be from 0 to 1")
        if key.endswith("_seconds") and not 0 <= number <= 10:
            raise RenderError(f"template {name}: {key} must be from 0 to 10 seconds")
        return number
    return str(value)


def template_files(template_dir: Path | None) -> dict[str, Path]:
    """Style name → template file, for every ``*.yaml``/``*.yml`` in ``template_dir``."""
    if not template_dir or not template_dir.is_dir():
        return {}
    return {p.stem.lower(): p for p in sorted(template_dir.glob("*.y*ml")) if p.is_file()}


def style_names(template_dir: Path | None) -> list[str]:
    """Every style a row or setting may name (templates are not read for this)."""
    return [*BUILTIN, *(n for n in template_files(template_dir) if n not in BUILTIN)]


def available_styles(template_dir: Path | None) -> dict[str, Style]:
    """Built-in styles plus every ``*.yaml`` template in ``template_dir``."""
    styles = dict(BUILTIN)
    for path in template_files(template_dir).values():
        style = load_template(path)
        styles[style.name] = style
    return styles


def pick_style(name: str, template_dir: Path | None = None) -> Style:
    """One style. Only the template asked for is read: a broken template makes only its own
    style unusable (with its file named), never the others."""
    key = (name or DEFAULT_STYLE).lower()
    templates = template_files(template_dir)
    if key in templates:
        return load_template(templates[key])
    if key in BUILTIN:
        return BUILTIN[key]
    names = ", ".join(style_names(template_dir))
    raise RenderError(f"style {name!r} does not exist — use one of {names}")
