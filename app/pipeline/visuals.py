"""Visuals: backgrounds, logo, title cards and captions, composed into frames (the music
and the mix are `app.pipeline.soundtrack`).

Static layers are composited once per caption (not per frame): for a still background a
frame is a cached array, so encoding costs little more than ffmpeg's own work.
"""

from __future__ import annotations

import hashlib
import math
import re
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from app.pipeline import fonts
from app.pipeline.captions import Cue, Layout, draw_line, render_cue, text_width, wrap
from app.pipeline.errors import RenderError
from app.pipeline.legibility import box_opacity
from app.pipeline.media import (
    run_ffmpeg,
)
from app.pipeline.styles import Style

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".mkv", ".m4v"}
CROSSFADE = 0.4  # seconds between two stock footage scenes
STOPWORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "your",
        "you",
        "are",
        "how",
        "why",
        "what",
        "when",
        "who",
        "its",
        "into",
        "about",
        "over",
        "under",
        "more",
        "most",
        "less",
        "than",
        "then",
        "them",
        "they",
        "their",
        "there",
        "here",
        "one",
        "two",
        "three",
        "minute",
        "minutes",
        "video",
        "videos",
        "short",
        "explainer",
        "simple",
    ]
)


@dataclass(frozen=True, slots=True)
class VisualSettings:
    assets_dir: Path | None = None
    music_dir: Path | None = None
    logo: Path | None = None
    outro_text: str = "Thanks for watching"
    word_highlight: bool = False
    captions: str = "sentence"  # sentence | karaoke | pop (word_highlight means karaoke)


# --- backgrounds -----------------------------------------------------------------------------


def gradient(
    size: tuple[int, int], colors: tuple[tuple[int, int, int], tuple[int, int, int]]
) -> np.ndarray:
    """A diagonal gradient, top-left to bottom-right, as an (h, w, 3) uint8 array."""
    width, height = size
    ramp = (
        np.linspace(0, 0.5, width, dtype=np.float32)[None, :]
        + np.linspace(0, 0.5, height, dtype=np.float32)[:, None]
    )
    image = np.empty((height, width, 3), np.uint8)
    for channel, (a, b) in enumerate(zip(*colors, strict=True)):  # a channel at a time: small
        image[..., channel] = np.rint(a + (b - a) * ramp)
    return image


class Background(ABC):
    static = True

    @abstractmethod
    def frame(self, t: float) -> np.ndarray:
        """The background at ``t`` seconds into its scene, (h, w, 3) uint8."""

    def release(self) -> None:  # noqa: B027 - most backgrounds hold nothing
        """Its scene is over: let go of what it holds (a clip's decoder)."""

    def step(self, t: float) -> int | None:
        """For a background that changes in steps, which one ``t`` is on (frames on the same
        step are the same picture); None when it changes every frame."""
        return None


class Still(Background):
    def __init__(self, image: np.ndarray) -> None:
        self.image = image

    def frame(self, t: float) -> np.ndarray:
        return self.image


class Drift(Background):
    """The style's colours in motion, for scenes with no picture: its gradient with a few soft
    lights in its accent colour, larger than the frame, drifting slowly under it."""

    static = False
    MARGIN = 0.2  # the canvas is this much larger than the frame each way

    def __init__(self, size: tuple[int, int], style: Style, seed: int = 0) -> None:
        width, height = size
        self.size = size
        over = (math.ceil(width * (1 + self.MARGIN)), math.ceil(height * (1 + self.MARGIN)))
        small = (max(over[0] // 8, 2), max(over[1] // 8, 2))  # drawn small, scaled up: smooth
        base = gradient(small, style.background).astype(np.float32)
        rng = np.random.default_rng(seed)
        ys, xs = np.indices((small[1], small[0]), dtype=np.float32)
        lights = ((style.accent, 0.18), (style.background[1], 0.35), ((255, 255, 255), 0.06))
        for colour, strength in lights:
            cx, cy = rng.uniform(0.15, 0.85) * small[0], rng.uniform(0.15, 0.85) * small[1]
            radius = rng.uniform(0.18, 0.3) * max(small)
            glow = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2)) * strength
            base += (np.asarray(colour, np.float32) - base) * glow[..., None]
        picture = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
        self.canvas = np.asarray(picture.resize(over, Image.Resampling.BICUBIC))
        self.phase = float(rng.uniform(0, 2 * math.pi))

    STEPS = 10  # moves a second: ~1.5 px each at 1080p, too small to see as steps

    def step(self, t: float) -> int:
        return math.floor(t * self.STEPS)

    def frame(self, t: float) -> np.ndarray:
        """A frame-sized window of the canvas, moving along a slow ellipse (a lap a minute)."""
        t = self.step(t) / self.STEPS
        width, height = self.size
        room_x, room_y = self.canvas.shape[1] - width, self.canvas.shape[0] - height
        angle = self.phase + 2 * math.pi * t / 60.0
        x = round(room_x * (0.5 + 0.5 * math.cos(angle)))
        y = round(room_y * (0.5 + 0.5 * math.sin(angle)))
        return self.canvas[y : y + height, x : x + width]


def interest(picture: Image.Image) -> tuple[float, float]:
    """Where a picture's subject is, as (x, y) from 0 to 1: the centre of its detail (edges),
    pulled towards the middle — a sky or a wall has little, the subject most."""
    from PIL import ImageFilter

    small = picture.convert("L").resize((64, 64), Image.Resampling.BILINEAR)
    edges = np.asarray(small.filter(ImageFilter.FIND_EDGES), dtype=np.float64)[1:-1, 1:-1]
    total = edges.sum()
    if total <= 0:
        return 0.5, 0.5
    ys, xs = np.indices(edges.shape)
    x = float((edges * xs).sum() / total / (edges.shape[1] - 1))
    y = float((edges * ys).sum() / total / (edges.shape[0] - 1))
    return (min(max(0.5 + 1.5 * (x - 0.5), 0.0), 1.0), min(max(0.5 + 1.5 * (y - 0.5), 0.0), 1.0))


class KenBurns(Background):
    """A still photo with a slow zoom (and a drift) across its scene."""

    static = False

    def __init__(self, path: Path, size: tuple[int, int], duration: float, seed: int) -> None:
        self.size = size
        self.duration = max(duration, 0.1)
        over = (math.ceil(size[0] * 1.12), math.ceil(size[1] * 1.12))
        picture = open_image(path)
        # Cropped to the frame's shape around what the picture shows, not its blind centre.
        self.source = ImageOps.fit(
            picture, over, Image.Resampling.LANCZOS, centering=interest(picture)
        )
        self.zoom_in = seed % 2 == 0

    def frame(self, t: float) -> np.ndarray:
        progress = min(max(t / self.duration, 0.0), 1.0)
        zoom = 1.0 + 0.1 * (progress if self.zoom_in else 1 - progress)
        src_w, src_h = self.source.size
        crop_w, crop_h = src_w / zoom, src_h / zoom
        left = (src_w - crop_w) * (0.3 + 0.4 * progress)
        top = (src_h - crop_h) / 2
        box = (left, top, left + crop_w, top + crop_h)
        return np.asarray(self.source.resize(self.size, Image.Resampling.BILINEAR, box=box))


class Footage(Background):
    """A video clip scaled to cover the frame (once, by ffmpeg), looped for its scene."""

    static = False

    def __init__(self, path: Path, size: tuple[int, int], fps: int, workdir: Path) -> None:
        key = hashlib.sha1(
            f"{path.resolve()}|{path.stat().st_mtime}|{size}|{fps}".encode()
        ).hexdigest()[:16]
        prepared = workdir / f"footage-{key}.mp4"
        if not prepared.exists():
            width, height = size
            temp = prepared.with_name(prepared.stem + ".part.mp4")
            run_ffmpeg(
                [
                    "-i",
                    str(path),
                    "-an",
                    "-vf",
                    f"scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},fps={fps}",
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-crf",
                    "16",
                    str(temp),
                ]
            )
            temp.replace(prepared)
        self.prepared, self.size, self.fps = prepared, size, fps
        # Its decoder: one single-threaded ffmpeg reading frames in order (a scene asks for
        # them in order), opened when the scene is shown and closed when it is over.
        self._frames: Any = None
        self._position = -1  # index of the frame last read
        self._last = b""
        self._count = 0  # frames in the clip, once read to its end (then it loops)

    def _open(self) -> None:
        import imageio_ffmpeg

        self.release()
        # One frame queued between its stages, not eight: the render reads slower than it
        # decodes, and full queues of 1080p pictures cost ~40 MB.
        self._frames = imageio_ffmpeg.read_frames(
            str(self.prepared),
            input_params=["-threads", "1", "-filter_threads", "1"],
            output_params=["-threads", "1", "-thread_queue_size", "1"],
        )
        next(self._frames)  # its description
        self._position = -1

    def frame(self, t: float) -> np.ndarray:
        index = int(t * self.fps + 1e-6)
        if self._count:
            index %= self._count
        if self._frames is None or index < self._position:
            self._open()
        while self._position < index:
            try:
                self._last = next(self._frames)
            except StopIteration:  # the clip's end: loop
                if self._position < 0:
                    raise RenderError(f"clip {self.prepared.name} has no frames") from None
                self._count = self._position + 1
                return self.frame(t)
            self._position += 1
        width, height = self.size
        return np.frombuffer(self._last, np.uint8).reshape(height, width, 3)

    def release(self) -> None:
        """Close the decoder and let go of its last picture (a crossfade keeps its own)."""
        if self._frames is not None:
            self._frames.close()
            self._frames = None
        self._last, self._position = b"", -1


def open_image(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            return ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise RenderError(
            f"asset {path.name} cannot be read ({type(exc).__name__}) — replace it or remove it "
            "from the assets folder"
        ) from exc


def keywords(*texts: str) -> set[str]:
    words = re.findall(r"[^\W\d_]{3,}", " ".join(texts).lower())
    return {w for w in words if w not in STOPWORDS}


def asset_tags(path: Path, root: Path) -> set[str]:
    """Tags of an asset: the words of its folder names and file name."""
    return keywords(
        " ".join(path.relative_to(root).with_suffix("").parts).replace("_", " ").replace("-", " ")
    )


def choose_assets(root: Path | None, wanted: set[str], limit: int) -> list[Path]:
    """Assets whose tags share the most words with the idea, best first."""
    if root is None or not root.is_dir() or limit <= 0:
        return []
    scored = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES and path.is_file():
            score = len(asset_tags(path, root) & wanted)
            if score:
                scored.append((-score, str(path), path))
    return [p for _s, _n, p in sorted(scored)[:limit]]


# --- sprites ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Sprite:
    """An RGBA overlay (uint8) and where it goes; blended onto frames in place."""

    x: int
    y: int
    rgba: np.ndarray

    @classmethod
    def from_image(cls, image: Image.Image, xy: tuple[int, int]) -> Sprite:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.uint8)
        # Only the part that is not fully transparent is kept (title cards are mostly empty).
        alpha = rgba[..., 3]
        rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
        if rows.size == 0:
            return cls(xy[0], xy[1], rgba[:0, :0])
        top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        return cls(
            xy[0] + int(left), xy[1] + int(top), np.ascontiguousarray(rgba[top:bottom, left:right])
        )

    def blend(self, frame: np.ndarray) -> None:
        """Draw onto ``frame`` in place (clipped at its edges)."""
        h, w = self.rgba.shape[:2]
        fh, fw = frame.shape[:2]
        x0, y0 = max(self.x, 0), max(self.y, 0)
        x1, y1 = min(self.x + w, fw), min(self.y + h, fh)
        if x0 >= x1 or y0 >= y1:
            return
        part = self.rgba[y0 - self.y : y1 - self.y, x0 - self.x : x1 - self.x]
        alpha = part[..., 3:].astype(np.float32) / 255.0
        region = frame[y0:y1, x0:x1].astype(np.float32)
        blended = part[..., :3].astype(np.float32) * alpha + region * (1.0 - alpha)
        frame[y0:y1, x0:x1] = blended.round().astype(np.uint8)


def logo_sprite(path: Path, size: tuple[int, int], position: str) -> Sprite:
    try:
        with Image.open(path) as raw:
            logo = raw.convert("RGBA")
    except (UnidentifiedImageError, OSError) as exc:
        raise RenderError(f"logo {path.name} cannot be read — choose a PNG or JPEG file") from exc
    width = round(min(size) * 0.16)
    logo = ImageOps.contain(logo, (width, width), Image.Resampling.LANCZOS)
    margin = round(min(size) * 0.04)
    x = margin if "left" in position else size[0] - logo.width - margin
    y = margin if "top" in position else size[1] - logo.height - margin
    return Sprite.from_image(logo, (x, y))


def title_card(text: str, subtitle: str, style: Style, size: tuple[int, int]) -> Image.Image:
    """A full-frame RGBA overlay with a big centred title (and a smaller line under it)."""
    card = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(card)
    font = fonts.resolve(style.title_font)
    width, height = size
    big = round(min(width, height) * (0.11 if height > width else 0.085))  # phones: bigger
    lines = wrap(text, font, big, round(width * 0.8))[:3]
    line_height = round(big * 1.25)
    small = round(big * 0.45)
    total = line_height * len(lines) + (small * 2 if subtitle else 0)
    y = (height - total) / 2
    # A shade behind the words: the title reads over any picture (4.5:1 at the least).
    widest = max([text_width(line, font, big) for line in lines] + [0])
    pad = round(big * 0.6)
    shade = round(255 * box_opacity(style.text, (0, 0, 0), 0.45))
    draw.rounded_rectangle(
        ((width - widest) / 2 - pad, y - pad, (width + widest) / 2 + pad, y + total + pad),
        radius=pad,
        fill=(0, 0, 0, shade),
    )
    outline = (0, 0, 0) if sum(style.text) > 380 else (255, 255, 255)
    for line in lines:
        x = (width - text_width(line, font, big)) / 2
        draw_line(
            draw, (x, y), line, font, big, style.text, stroke=max(2, big // 20), stroke_fill=outline
        )
        y += line_height
    bar = round(width * 0.08)
    bar_top = y + big * 0.25
    draw.rectangle(
        ((width - bar) / 2, bar_top, (width + bar) / 2, bar_top + max(4, big // 12)),
        fill=(*style.accent, 255),
    )
    if subtitle:
        x = (width - text_width(subtitle, font, small)) / 2
        draw_line(draw, (x, bar_top + small * 0.9), subtitle, font, small, style.text)
    return card


# --- the frame source ------------------------------------------------------------------------


@dataclass(slots=True)
class Scene:
    start: float
    end: float
    background: Background


@dataclass(slots=True)
class Overlay:
    """A picture shown from ``start`` to ``end``; drawn when first shown and let go of when
    over, so a video's captions are not all held in memory at once."""

    start: float
    end: float
    make: Callable[[], Sprite]
    _sprite: Sprite | None = None

    @property
    def sprite(self) -> Sprite:
        if self._sprite is None:
            self._sprite = self.make()
        return self._sprite

    def release(self) -> None:
        self._sprite = None


@dataclass(slots=True)
class FrameSource:
    """Frames for time t; frames built only from static layers are made once and reused."""

    size: tuple[int, int]
    scenes: list[Scene]
    overlays: list[Overlay]
    fixed: list[Sprite] = field(default_factory=list)  # the logo
    fade: float = 0.0  # seconds each scene crossfades in from the one before
    _cache: OrderedDict[tuple[int, tuple[int, ...], int], np.ndarray] = field(
        default_factory=OrderedDict
    )
    # The last picture of each clip's scene, for the crossfade out of it: a clip's decoder
    # is closed as soon as its scene ends, so one decoder is open at a time.
    _last_of: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def static(self) -> bool:
        """True when no scene moves: every frame is one of a few cached pictures."""
        return all(scene.background.static for scene in self.scenes)

    def frame(self, t: float) -> np.ndarray:
        scene_index = next(
            (i for i, s in enumerate(self.scenes) if s.start <= t < s.end), len(self.scenes) - 1
        )
        for done in self.scenes[:scene_index]:  # scenes over: their decoders closed
            done.background.release()
        scene = self.scenes[scene_index]
        active = tuple(i for i, o in enumerate(self.overlays) if o.start <= t < o.end)
        for overlay in self.overlays:
            if overlay.end <= t:
                overlay.release()
        into = t - scene.start
        fading = bool(self.fade and scene_index and into < self.fade)
        # A frame is kept for reuse when its background holds still (or changes in steps: the
        # step it is on is part of the key) and it is not fading in from the scene before.
        step = scene.background.step(into)
        reusable = (scene.background.static or step is not None) and not fading
        key = (scene_index, active, step if step is not None else -1)
        if reusable and key in self._cache:
            return self._cache[key]
        if not scene.background.static:
            self._cache.clear()  # a moving scene: the frames before it are not needed
        picture = scene.background.frame(into)
        frame = np.array(picture, dtype=np.uint8, copy=True)
        if isinstance(scene.background, Footage):  # a read-only buffer: kept, not copied
            # The scene before is needed until its crossfade is over.
            self._last_of = {
                i: p for i, p in self._last_of.items() if fading and i == scene_index - 1
            }
            self._last_of[scene_index] = picture
        if fading:  # crossfade from the scene before
            before = self.scenes[scene_index - 1]
            held = self._last_of.get(scene_index - 1)  # a clip fades out on its last picture
            old = held if held is not None else before.background.frame(t - before.start)
            frame = crossfade(old, frame, into / self.fade)
        for sprite in self.fixed:
            sprite.blend(frame)
        for index in active:
            self.overlays[index].sprite.blend(frame)
        if reusable:
            self._cache[key] = frame
            while len(self._cache) > 4:
                self._cache.popitem(last=False)
        return frame


def crossfade(old: np.ndarray, new: np.ndarray, weight: float) -> np.ndarray:
    """``weight`` of the way from ``old`` to ``new`` (uint8 pictures), in 16-bit integers: a
    1080p frame needs 25 MB of temporaries this way, not the 125 MB floats would."""
    share = round(weight * 256)
    mixed = old.astype(np.uint16)
    mixed *= 256 - share
    mixed += new.astype(np.uint16) * np.uint16(share)
    mixed += 128
    mixed >>= 8
    return mixed.astype(np.uint8)


def build_frames(
    *,
    title: str,
    cues: Sequence[Cue],
    style: Style,
    layout: Layout,
    settings: VisualSettings,
    narration_span: tuple[float, float],
    duration: float,
    fps: int,
    keywords_of_idea: set[str],
    workdir: Path,
    shots: Sequence[tuple[float, float, Path]] | None = None,
    moving: bool = False,
) -> FrameSource:
    """``moving``: scenes without a picture get the style's colours in motion (`Drift`), not
    its still gradient — what a render that wanted pictures falls back to."""
    size = layout.size
    start, end = narration_span
    base: Background = Drift(size, style) if moving else Still(gradient(size, style.background))
    if shots:  # stock footage, scene by scene; a scene without a clip keeps the background
        scenes: list[Scene] = []
        at = 0.0
        for n, (first, last, path) in enumerate(shots):
            if first > at:
                scenes.append(Scene(at, first, base))
            scenes.append(
                Scene(first, last, _background(path, size, last - first, fps, workdir, n))
            )
            at = last
        if at < duration:
            scenes.append(Scene(at, duration, base))
    else:  # the assets folder's best matches for the idea, spread over the narration
        scene_count = max(1, math.ceil((end - start) / 8.0))
        assets = choose_assets(settings.assets_dir, keywords_of_idea, scene_count)
        scenes = [Scene(0.0, duration, base)] if not assets else []
        edges = np.linspace(start, end, len(assets) + 1)
        if assets:
            edges[0], edges[-1] = 0.0, duration
        for n, path in enumerate(assets):
            length = float(edges[n + 1] - edges[n])
            background = _background(path, size, length, fps, workdir, n)
            scenes.append(Scene(float(edges[n]), float(edges[n + 1]), background))
    overlays = [
        Overlay(cue.start, cue.end, partial(_cue_sprite, cue, style, layout)) for cue in cues
    ]
    if start > 0:
        card = partial(title_card, title, "", style, size)
        overlays.append(Overlay(0.0, start, lambda: Sprite.from_image(card(), (0, 0))))
    if duration > end:
        outro = partial(title_card, settings.outro_text, title, style, size)
        overlays.append(Overlay(end, duration + 1, lambda: Sprite.from_image(outro(), (0, 0))))
    fixed = [logo_sprite(settings.logo, size, style.logo_position)] if settings.logo else []
    return FrameSource(size, scenes, overlays, fixed, fade=CROSSFADE if shots else 0.0)


def _cue_sprite(cue: Cue, style: Style, layout: Layout) -> Sprite:
    image, xy = render_cue(cue, style, layout)
    return Sprite.from_image(image, xy)


def _background(
    path: Path, size: tuple[int, int], length: float, fps: int, workdir: Path, seed: int
) -> Background:
    """A clip looped for its scene, or a photo with a slow zoom and drift."""
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return Footage(path, size, fps, workdir)
    return KenBurns(path, size, length, seed=seed)
