"""Draw resources/icons/cadence.png (the window and tray icon): a play mark on a gradient."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 256
OUT = Path(__file__).resolve().parent.parent / "resources" / "icons" / "cadence.png"


def main() -> None:
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    gradient = Image.new("RGBA", (SIZE, SIZE))
    for y in range(SIZE):
        t = y / (SIZE - 1)
        colour = (int(79 + (37 - 79) * t), int(70 + (99 - 70) * t), int(229 + (235 - 229) * t), 255)
        ImageDraw.Draw(gradient).line([(0, y), (SIZE, y)], fill=colour)
    mask = Image.new("L", (SIZE, SIZE), 0)
    ImageDraw.Draw(mask).rounded_rectangle([8, 8, SIZE - 8, SIZE - 8], radius=56, fill=255)
    image.paste(gradient, (0, 0), mask)
    draw = ImageDraw.Draw(image)
    draw.polygon([(98, 72), (98, 184), (190, 128)], fill=(255, 255, 255, 255))
    for n, x in enumerate((54, 70)):
        draw.rounded_rectangle(
            [x, 96 + n * 12, x + 8, 160 - n * 12], radius=4, fill=(255, 255, 255, 200)
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    image.save(OUT)


if __name__ == "__main__":
    main()
