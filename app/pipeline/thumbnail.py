"""Thumbnail: 1280×720 from the title and style, readable at the size YouTube lists it."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from app.pipeline import fonts
from app.pipeline.captions import draw_line, text_width, wrap
from app.pipeline.styles import Style
from app.pipeline.visuals import gradient, interest, open_image

SIZE = (1280, 720)
MAX_PNG_BYTES = 2 * 1024 * 1024


def fit_title(title: str, font: Path, max_width: int, max_lines: int = 3) -> tuple[int, list[str]]:
    """The biggest font size at which the title fits in ``max_lines`` lines."""
    for size in range(150, 40, -6):
        lines = wrap(title, font, size, max_width)
        if len(lines) <= max_lines and all(
            text_width(line, font, size) <= max_width for line in lines
        ):
            return size, lines
    return 42, wrap(title, font, 42, max_width)[:max_lines]


def make_thumbnail(
    title: str, style: Style, destination: Path, background: Path | None = None
) -> Path:
    """Write ``destination`` (.png); a PNG over 2 MB is written as .jpg instead."""
    if background is not None:
        # The picture cropped around its subject, softened and darkened under the title.
        picture = open_image(background)
        image = ImageOps.fit(picture, SIZE, Image.Resampling.LANCZOS, centering=interest(picture))
        image = image.filter(ImageFilter.GaussianBlur(1.5))
        image = Image.blend(image, Image.new("RGB", SIZE, (0, 0, 0)), 0.4)
    else:
        image = Image.fromarray(gradient(SIZE, style.background))
    draw = ImageDraw.Draw(image)
    font = fonts.resolve(style.title_font)
    size, lines = fit_title(title, font, round(SIZE[0] * 0.86))
    line_height = round(size * 1.18)
    block = line_height * len(lines)
    y = (SIZE[1] - block) / 2 - size * 0.1
    outline = (0, 0, 0) if sum(style.text) > 380 else (255, 255, 255)
    for line in lines:
        x = (SIZE[0] - text_width(line, font, size)) / 2
        draw_line(
            draw,
            (x, y),
            line,
            font,
            size,
            style.text,
            stroke=max(3, size // 16),
            stroke_fill=outline,
        )
        y += line_height
    bar_w = round(SIZE[0] * 0.12)
    bar_top = y + size * 0.2
    draw.rectangle(
        ((SIZE[0] - bar_w) / 2, bar_top, (SIZE[0] + bar_w) / 2, bar_top + 12), fill=style.accent
    )
    temp = destination.with_name(f".{destination.name}.part.png")
    image.save(temp, "PNG", optimize=True)
    if temp.stat().st_size > MAX_PNG_BYTES:
        jpeg = destination.with_suffix(".jpg")
        temp_jpeg = jpeg.with_name(f".{jpeg.name}.part.jpg")
        image.save(temp_jpeg, "JPEG", quality=90)
        temp.unlink()
        temp_jpeg.replace(jpeg)
        return jpeg
    temp.replace(destination)
    return destination
