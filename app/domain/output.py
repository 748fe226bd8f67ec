"""What a render produces: container, codecs, size, speed/quality trade-off — checked up front."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from app.domain.errors import UserError


class Container(StrEnum):
    MP4 = "mp4"
    MOV = "mov"
    WEBM = "webm"


class VideoCodec(StrEnum):
    H264 = "h264"
    H265 = "h265"
    VP9 = "vp9"


class AudioCodec(StrEnum):
    AAC = "aac"
    OPUS = "opus"


class Resolution(StrEnum):
    HD = "720p"
    FULL_HD = "1080p"
    UHD = "4k"


class Optimize(StrEnum):
    SPEED = "speed"
    BALANCED = "balanced"
    QUALITY = "quality"


_LANDSCAPE = {
    Resolution.HD: (1280, 720),
    Resolution.FULL_HD: (1920, 1080),
    Resolution.UHD: (3840, 2160),
}

# What each container can carry and players reliably play.
_ALLOWED: dict[Container, tuple[set[VideoCodec], set[AudioCodec]]] = {
    Container.MP4: ({VideoCodec.H264, VideoCodec.H265}, {AudioCodec.AAC}),
    Container.MOV: ({VideoCodec.H264, VideoCodec.H265}, {AudioCodec.AAC}),
    Container.WEBM: ({VideoCodec.VP9}, {AudioCodec.OPUS}),
}
_WHY = {
    (Container.WEBM, "video"): "WebM carries VP9 video only — choose vp9, or MP4 for H.264/H.265",
    (Container.WEBM, "audio"): "WebM carries Opus audio only — choose opus",
    (Container.MP4, "video"): "VP9 in MP4 does not play in QuickTime, Safari or most editors — "
    "choose h264/h265, or the WebM container for VP9",
    (Container.MP4, "audio"): "Opus in MP4 does not play in QuickTime, Safari or most editors — "
    "choose aac, or the WebM container for Opus",
    (Container.MOV, "video"): "MOV cannot carry VP9 — choose h264 or h265",
    (Container.MOV, "audio"): "MOV cannot carry Opus — choose aac",
}


class OutputError(UserError, ValueError):
    """An output configuration that cannot be produced; says which setting to change."""


@dataclass(frozen=True, slots=True)
class OutputConfig:
    container: Container = Container.MP4
    video_codec: VideoCodec = VideoCodec.H264
    audio_codec: AudioCodec = AudioCodec.AAC
    resolution: Resolution = Resolution.FULL_HD
    vertical: bool = False
    optimize: Optimize = Optimize.BALANCED
    fps: int = 30

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels; vertical (9:16, Shorts) swaps them."""
        width, height = _LANDSCAPE[self.resolution]
        return (height, width) if self.vertical else (width, height)

    @property
    def extension(self) -> str:
        return f".{self.container.value}"

    def checked(self) -> OutputConfig:
        """Self when it can be produced, else `OutputError` before any work starts."""
        videos, audios = _ALLOWED[self.container]
        if self.video_codec not in videos:
            raise OutputError(_WHY[(self.container, "video")])
        if self.audio_codec not in audios:
            raise OutputError(_WHY[(self.container, "audio")])
        if self.fps not in (24, 25, 30, 50, 60):
            raise OutputError(f"{self.fps} fps is not offered — choose 24, 25, 30, 50 or 60")
        return self

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: (str(v) if isinstance(v, StrEnum) else v) for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutputConfig:
        """Build from stored or typed-in values; unknown values are an `OutputError`."""
        try:
            config = cls(
                container=Container(data.get("container", Container.MP4)),
                video_codec=VideoCodec(data.get("video_codec", _default_video(data))),
                audio_codec=AudioCodec(data.get("audio_codec", _default_audio(data))),
                resolution=Resolution(str(data.get("resolution", Resolution.FULL_HD)).lower()),
                vertical=bool(data.get("vertical", False)),
                optimize=Optimize(data.get("optimize", Optimize.BALANCED)),
                fps=int(data.get("fps", 30)),
            )
        except ValueError as exc:
            raise OutputError(f"unknown output setting: {exc}") from exc
        return config.checked()


def _default_video(data: dict[str, Any]) -> VideoCodec:
    return VideoCodec.VP9 if data.get("container") == Container.WEBM else VideoCodec.H264


def _default_audio(data: dict[str, Any]) -> AudioCodec:
    return AudioCodec.OPUS if data.get("container") == Container.WEBM else AudioCodec.AAC


DELIVERY_FIELDS = ("folder", "storage", "needs", "footage")


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a job's videos go and what makes them, beside how they are encoded: its own
    folder, object storage (``none``: nowhere), what a cluster worker must offer, the footage
    library. A job stores these in one ``output_config`` with the codec fields."""

    folder: str | None = None
    storage: str | None = None
    needs: str | None = None
    footage: str | None = None

    @classmethod
    def split(cls, data: dict[str, Any]) -> tuple[dict[str, Any], Delivery]:
        """A stored ``output_config`` as (its codec fields, its delivery)."""
        codecs = {k: v for k, v in data.items() if k not in DELIVERY_FIELDS}
        found = {k: data.get(k) for k in DELIVERY_FIELDS}
        return codecs, cls(**{k: None if v in (None, "") else str(v) for k, v in found.items()})

    @classmethod
    def of(cls, data: dict[str, Any]) -> Delivery:
        return cls.split(data)[1]

    def to_dict(self) -> dict[str, str]:
        return {k: v for k in DELIVERY_FIELDS if (v := getattr(self, k)) is not None}


def codec_config(data: dict[str, Any]) -> OutputConfig:
    """The encoding a stored ``output_config`` asks for (its delivery fields aside)."""
    return OutputConfig.from_dict(Delivery.split(data)[0])
