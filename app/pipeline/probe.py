"""What a finished file really holds: MP4/MOV boxes parsed directly, plus ``ffmpeg -i``.

Used after every encode (trust the output, not the arguments) and by the conformance tests.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.pipeline.media import ffmpeg_exe

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf"}


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each box in data[start:end]."""
    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
            header = 16
        elif size == 0:
            size = end - at
        if size < header:
            return
        yield kind, at + header, min(at + size, end)
        at += size


def _top_level(path: Path) -> list[tuple[bytes, int, int]]:
    """Top-level boxes by reading headers only (mdat is never loaded)."""
    boxes = []
    with path.open("rb") as fh:
        size_total = path.stat().st_size
        at = 0
        while at + 8 <= size_total:
            fh.seek(at)
            size, kind = struct.unpack(">I4s", fh.read(8))
            header = 8
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0]
                header = 16
            elif size == 0:
                size = size_total - at
            if size < header:
                break
            boxes.append((kind, at, size))
            at += size
    return boxes


@dataclass(slots=True)
class Track:
    handler: str = ""
    codec: str = ""
    timescale: int = 0
    media_duration: int = 0
    presented_seconds: float = 0.0
    width: int = 0
    height: int = 0
    samples: int = 0
    sync_samples: list[int] = field(default_factory=list)
    has_reordering: bool = False  # B-frames (a composition offset table)
    avc_profile: int | None = None
    chroma_format: int | None = None
    sample_rate: int = 0
    channels: int = 0
    audio_object_type: int | None = None

    @property
    def fps(self) -> float:
        duration = self.media_duration / self.timescale if self.timescale else 0
        return self.samples / duration if duration else 0.0

    @property
    def gop_lengths(self) -> list[int]:
        return [b - a for a, b in zip(self.sync_samples, self.sync_samples[1:], strict=False)]


@dataclass(slots=True)
class Mp4Info:
    brand: str
    faststart: bool
    duration: float
    tracks: list[Track]

    def track(self, handler: str) -> Track:
        return next(t for t in self.tracks if t.handler == handler)


def probe_mp4(path: Path) -> Mp4Info:
    """Parse an MP4/MOV file's structure (raises ValueError when it is not one)."""
    top = _top_level(path)
    kinds = [k for k, _a, _s in top]
    if b"moov" not in kinds:
        raise ValueError(f"{path.name} has no moov box")
    moov_at, moov_size = next((a, s) for k, a, s in top if k == b"moov")
    mdat_at = next((a for k, a, _s in top if k == b"mdat"), None)
    with path.open("rb") as fh:
        fh.seek(moov_at)
        moov = fh.read(moov_size)
        fh.seek(0)
        head = fh.read(64)
    brand = head[8:12].decode("latin-1") if head[4:8] == b"ftyp" else ""
    movie_scale, movie_duration = 1, 0
    tracks = []
    for kind, start, end in _boxes(moov, 8):
        if kind == b"mvhd":
            version = moov[start]
            if version == 1:
                movie_scale, movie_duration = struct.unpack(">IQ", moov[start + 20 : start + 32])
            else:
                movie_scale, movie_duration = struct.unpack(">II", moov[start + 12 : start + 20])
        elif kind == b"trak":
            tracks.append(_track(moov, start, end, movie_scale))
    return Mp4Info(
        brand=brand,
        faststart=mdat_at is None or moov_at < mdat_at,
        duration=movie_duration / movie_scale if movie_scale else 0.0,
        tracks=tracks,
    )


def _track(data: bytes, start: int, end: int, movie_scale: int) -> Track:
    track = Track()
    edits: list[tuple[int, int]] = []

    def walk(s: int, e: int) -> None:
        for kind, a, b in _boxes(data, s, e):
            if kind in _CONTAINERS:
                walk(a, b)
            elif kind == b"mdhd":
                if data[a] == 1:
                    track.timescale, track.media_duration = struct.unpack(
                        ">IQ", data[a + 20 : a + 32]
                    )
                else:
                    track.timescale, track.media_duration = struct.unpack(
                        ">II", data[a + 12 : a + 20]
                    )
            elif kind == b"hdlr" and data[a + 4 : a + 8] != b"dhlr":  # QuickTime's data handler
                track.handler = data[a + 8 : a + 12].decode("latin-1")
            elif kind == b"elst":
                version, count = data[a], struct.unpack(">I", data[a + 4 : a + 8])[0]
                at = a + 8
                for _ in range(count):
                    if version == 1:
                        duration, media_time = struct.unpack(">Qq", data[at : at + 16])
                        at += 20
                    else:
                        duration, media_time = struct.unpack(">Ii", data[at : at + 8])
                        at += 12
                    edits.append((duration, media_time))
            elif kind == b"stsd":
                _sample_entry(data, a + 8, b, track)
            elif kind == b"stts":
                count = struct.unpack(">I", data[a + 4 : a + 8])[0]
                track.samples = sum(
                    struct.unpack(">I", data[a + 8 + 8 * i : a + 12 + 8 * i])[0]
                    for i in range(count)
                )
            elif kind == b"stss":
                count = struct.unpack(">I", data[a + 4 : a + 8])[0]
                track.sync_samples = list(
                    struct.unpack(f">{count}I", data[a + 8 : a + 8 + 4 * count])
                )
            elif kind == b"ctts":
                track.has_reordering = True

    walk(start, end)
    presented = sum(d for d, media_time in edits if media_time != -1)
    if edits and movie_scale:
        track.presented_seconds = presented / movie_scale
    elif track.timescale:
        track.presented_seconds = track.media_duration / track.timescale
    return track


def _sample_entry(data: bytes, start: int, end: int, track: Track) -> None:
    for kind, a, b in _boxes(data, start, end):
        track.codec = kind.decode("latin-1")
        if track.handler == "vide":
            track.width, track.height = struct.unpack(">HH", data[a + 24 : a + 28])
            for inner, x, _y in _boxes(data, a + 78, b):
                if inner == b"avcC":
                    track.avc_profile = data[x + 1]
                    track.chroma_format = _avc_chroma(data, x)
        elif track.handler == "soun":
            track.channels = struct.unpack(">H", data[a + 16 : a + 18])[0]
            track.sample_rate = struct.unpack(">I", data[a + 24 : a + 28])[0] >> 16
            for inner, x, y in _boxes(data, a + 28, b):
                if inner == b"esds":
                    track.audio_object_type = _audio_object_type(data, x + 4, y)
        return


def _audio_object_type(data: bytes, at: int, end: int) -> int | None:
    """The AAC audio object type (2 = AAC-LC) from an esds box's descriptors."""
    while at + 2 <= end:
        tag = data[at]
        at += 1
        length = 0
        for _ in range(4):
            byte = data[at]
            at += 1
            length = (length << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        if tag == 0x03:  # ES_Descriptor: id, flags, then nested descriptors
            flags = data[at + 2]
            at += 3 + (2 if flags & 0x80 else 0) + (2 if flags & 0x20 else 0)
            if flags & 0x40:
                at += 1 + data[at]
        elif tag == 0x04:  # DecoderConfigDescriptor: 13 bytes, then DecoderSpecificInfo
            at += 13
        elif tag == 0x05:
            return data[at] >> 3
        else:
            at += length
    return None


def _avc_chroma(data: bytes, at: int) -> int | None:
    """chroma_format_idc from an avcC record (present for High and above profiles)."""
    profile = data[at + 1]
    cursor = at + 5
    sps_count = data[cursor] & 0x1F
    cursor += 1
    for _ in range(sps_count):
        length = struct.unpack(">H", data[cursor : cursor + 2])[0]
        cursor += 2 + length
    pps_count = data[cursor]
    cursor += 1
    for _ in range(pps_count):
        length = struct.unpack(">H", data[cursor : cursor + 2])[0]
        cursor += 2 + length
    if profile in (100, 110, 122, 144) and cursor < len(data):
        return data[cursor] & 0x03
    return 1 if profile in (66, 77, 88) else None


@dataclass(slots=True)
class StreamSummary:
    """What ``ffmpeg -i`` says about a file's streams (any container)."""

    video: str = ""
    audio: str = ""
    duration: float = 0.0


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+\.\d+)")


def ffmpeg_summary(path: Path) -> StreamSummary:
    import subprocess

    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True, check=False
    )
    summary = StreamSummary()
    for line in result.stderr.splitlines():
        line = line.strip()
        if line.startswith("Stream #") and ": Video:" in line and not summary.video:
            summary.video = line.split(": Video:", 1)[1].strip()
        elif line.startswith("Stream #") and ": Audio:" in line and not summary.audio:
            summary.audio = line.split(": Audio:", 1)[1].strip()
        match = _DURATION.search(line)
        if match:
            h, m, s = match.groups()
            summary.duration = int(h) * 3600 + int(m) * 60 + float(s)
    return summary


EBML_MAGIC = b"\x1a\x45\xdf\xa3"
SEGMENT_ID = b"\x18\x53\x80\x67"


def _ebml_size(head: bytes, at: int) -> tuple[int | None, int]:
    """An EBML variable-size integer at ``at``: (value, or None for "unknown"; its length)."""
    first = head[at]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8:
        raise ValueError("not an EBML size")
    value = first & (0xFF >> length)
    for byte in head[at + 1 : at + length]:
        value = (value << 8) | byte
    unknown = value == (1 << (7 * length)) - 1
    return (None if unknown else value), length


def _matroska_problem(path: Path) -> str | None:
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(64)
    if not head.startswith(EBML_MAGIC):
        return "it does not start with an EBML header"
    header_size, length = _ebml_size(head, 4)
    if header_size is None:
        return "its EBML header has no size"
    at = 4 + length + header_size
    with path.open("rb") as fh:
        fh.seek(at)
        segment = fh.read(12)
    if not segment.startswith(SEGMENT_ID):
        return "it has no Segment after its header"
    segment_size, length = _ebml_size(segment, 4)
    if segment_size is not None and at + 4 + length + segment_size != size:
        return f"its Segment says {segment_size} bytes, the file holds {size - at - 4 - length}"
    return None


def _mp4_problem(path: Path) -> str | None:
    size = path.stat().st_size
    top = _top_level(path)
    kinds = [k for k, _a, _s in top]
    if not top or kinds[0] != b"ftyp":
        return "it does not start with an ftyp box"
    ends = top[-1][1] + top[-1][2]
    if ends != size:
        return f"its boxes end at byte {ends}, the file at {size}"
    for kind in (b"moov", b"mdat"):
        if kinds.count(kind) != 1:
            return f"it has {kinds.count(kind)} {kind.decode()} boxes, not one"
    return None


def container_problem(path: Path, expected_seconds: float, *, matroska: bool) -> str | None:
    """Why the finished file at ``path`` is not one sound container of about
    ``expected_seconds`` — a duplicate ``moov``, bytes past the last box, a wrong length —
    or None when it is. Read from the file's structure, not from the encoder's word."""
    try:
        if path.stat().st_size < 64:
            return "it is empty or nearly so"
        problem = _matroska_problem(path) if matroska else _mp4_problem(path)
        if problem is not None:
            return problem
        duration = ffmpeg_summary(path).duration if matroska else probe_mp4(path).duration
    except (OSError, ValueError, IndexError, struct.error) as exc:
        return f"it cannot be read ({exc})"
    if abs(duration - expected_seconds) > max(0.5, 0.02 * expected_seconds):
        return f"it lasts {duration:.2f} s, not {expected_seconds:.2f} s"
    return None
