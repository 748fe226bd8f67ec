"""Draw Cadence's icon: a play mark on a gradient, drawn at each size (not scaled down).

python packaging/make_icon.py                 resources/icons/cadence.png (window, tray)
python packaging/make_icon.py --set DIR       DIR/hicolor/NxN/apps/cadence.png for 16…512,
                                              DIR/cadence.ico and DIR/cadence.icns
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "resources" / "icons" / "cadence.png"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)  # the freedesktop hicolor theme's usual sizes


def draw(size: int) -> Image.Image:
    """The icon at ``size`` pixels, drawn at 4× and reduced for clean edges."""
    big = size * 4
    s = big / 256  # the design is laid out on a 256-pixel grid
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    gradient = Image.new("RGBA", (big, big))
    line = ImageDraw.Draw(gradient)
    for y in range(big):
        t = y / (big - 1)
        colour = (int(79 + (37 - 79) * t), int(70 + (99 - 70) * t), int(229 + (235 - 229) * t))
        line.line([(0, y), (big, y)], fill=(*colour, 255))
    mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        [8 * s, 8 * s, big - 8 * s, big - 8 * s], radius=56 * s, fill=255
    )
    image.paste(gradient, (0, 0), mask)
    pen = ImageDraw.Draw(image)
    pen.polygon([(98 * s, 72 * s), (98 * s, 184 * s), (190 * s, 128 * s)], fill="white")
    for n, x in enumerate((54, 70)):
        pen.rounded_rectangle(
            [x * s, (96 + n * 12) * s, (x + 8) * s, (160 - n * 12) * s],
            radius=4 * s,
            fill=(255, 255, 255, 200),
        )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def icon_set(folder: Path) -> None:
    for size in SIZES:
        target = folder / "hicolor" / f"{size}x{size}" / "apps" / "cadence.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        draw(size).save(target)
    draw(256).save(folder / "cadence.ico", sizes=[(n, n) for n in (16, 24, 32, 48, 64, 256)])
    draw(512).save(folder / "cadence.icns")


def main(argv: list[str]) -> None:
    if argv[:1] == ["--set"] and len(argv) == 2:
        icon_set(Path(argv[1]))
        return
    OUT.parent.mkdir(parents=True, exist_ok=True)
    draw(256).save(OUT)


if __name__ == "__main__":
    main(sys.argv[1:])
