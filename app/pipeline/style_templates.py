"""Making style templates without writing YAML: a template's settings as a dict, a preview
frame of it (the background and a caption as a render draws them), and saving it to the
templates folder — checked by the same `load_template` renders use, written to a temporary
name first so a half-written template never exists under its real name.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

from app.pipeline.captions import Cue, Layout, render_cue, wrap
from app.pipeline.errors import RenderError
from app.pipeline.fonts import resolve
from app.pipeline.styles import BUILTIN, Style, load_template
from app.pipeline.visuals import Sprite, gradient

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
SAMPLE = "Why is the sky blue? Sunlight scatters off the air"
CAPTION_FONTS = ("NotoSans-Bold.ttf", "NotoSerif-Bold.ttf", "DejaVuSans-Bold.ttf")


def hex_color(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def settings_of(style: Style) -> dict[str, Any]:
    """The settings the editor shows, as a template writes them."""
    return {
        "background": [hex_color(style.background[0]), hex_color(style.background[1])],
        "text": hex_color(style.text),
        "accent": hex_color(style.accent),
        "caption_box": hex_color(style.caption_box) if style.caption_box else "none",
        "caption_box_opacity": style.caption_box_opacity,
        "caption_position": style.caption_position,
        "font": style.font,
        "title_font": style.title_font,
    }


def template_text(base: str, settings: dict[str, Any]) -> str:
    """The template's YAML: its base and only what differs from it."""
    if base not in BUILTIN:
        raise RenderError(f"base must be one of {', '.join(BUILTIN)}")
    plain = settings_of(BUILTIN[base])
    changed = {k: v for k, v in settings.items() if plain.get(k) != v}
    return yaml.safe_dump({"base": base, **changed}, sort_keys=False, allow_unicode=True)


def style_from(base: str, settings: dict[str, Any], name: str = "preview") -> Style:
    """The style the settings make (a `RenderError` names a setting that is wrong)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"{name}.yaml"
        path.write_text(template_text(base, settings), encoding="utf-8")
        return load_template(path)


def preview_png(style: Style, size: tuple[int, int] = (640, 360), caption: str = SAMPLE) -> bytes:
    """One frame as the style draws it: its background and a caption, as PNG bytes."""
    frame = gradient(size, style.background)
    layout = Layout.for_frame(size, style)
    lines = tuple(wrap(caption, resolve(style.font), layout.font_size, layout.max_width)[:2])
    sprite, xy = render_cue(Cue(0.0, 1.0, lines), style, layout)
    Sprite.from_image(sprite, xy).blend(frame)
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG")
    return buffer.getvalue()


def save_template(folder: Path, name: str, base: str, settings: dict[str, Any]) -> Path:
    """Write ``folder/NAME.yaml`` — checked first, then under a temporary name, then renamed."""
    if not NAME.match(name):
        raise RenderError(
            f"style name {name!r}: use lower-case letters, digits and hyphens (up to 40), "
            "starting with a letter or digit"
        )
    if name in BUILTIN:
        raise RenderError(f"style name {name!r} is a built-in style — choose another name")
    text = template_text(base, settings)
    style_from(base, settings, name)  # refuses a wrong setting before anything is written
    target = folder / f"{name}.yaml"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    except OSError as exc:
        raise RenderError(
            f"the style {name!r} cannot be saved in {folder} ({exc.strerror or exc}) — make "
            "that folder writable (it is in the data folder: --data-dir chooses another)"
        ) from exc
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        Path(temp).replace(target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise RenderError(
            f"the style {name!r} could not be written to {target} ({exc.strerror or exc}) — "
            "nothing was changed; free some space or check the folder's permissions"
        ) from exc
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target
