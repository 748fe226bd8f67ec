"""What a job will cost before it starts: render time, disk space, YouTube quota, and the
day its last video will be ready — shown on the wizard's Review step.

Render time comes from this machine's own recent renders (seconds of rendering per second of
video) when there are any; otherwise from a stated guess. Disk space comes from the sizes of
recent videos per second, or from typical bitrates by resolution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# Rendering seconds per second of video when nothing was rendered here yet: the README's
# measured 1080p render of a 63.6 s video took 25 s on a 2-core machine (0.4); rounded up.
GUESSED_PACE = 0.5
# Bytes per second of video by resolution (x264 at the Balanced preset, music and voice).
BYTES_PER_SECOND = {"720p": 450_000, "1080p": 900_000, "1440p": 1_600_000, "4k": 3_500_000}
EXTRA_FILES = 400_000  # thumbnail, captions, metadata, per video
UPLOAD_UNITS = 1_600  # videos.insert


@dataclass(frozen=True, slots=True)
class Pace:
    """This machine's recent renders: render seconds and bytes per second of video."""

    seconds_per_second: float | None = None
    bytes_per_second: float | None = None
    renders: int = 0


@dataclass(frozen=True, slots=True)
class Estimate:
    videos: int
    video_seconds: float  # all videos together
    render_seconds: float  # wall time with the job's concurrency
    measured: bool  # from this machine's renders, not the guess
    disk_bytes: int
    quota_units: int  # 0 when nothing is uploaded
    quota_days: int  # days of the project's daily quota the uploads need
    ready_by: datetime

    def lines(self) -> list[str]:
        pace = (
            "from this computer's recent renders"
            if self.measured
            else ("a guess — nothing was rendered here yet")
        )
        said = [
            f"Estimated render time: {_duration(self.render_seconds)} ({pace})",
            f"Disk space: about {_size(self.disk_bytes)}",
            f"Last video ready: {self.ready_by.astimezone():%a %d %b %H:%M}",
        ]
        if self.quota_units:
            days = "" if self.quota_days <= 1 else f" — {self.quota_days} days of quota"
            said.append(f"YouTube quota: {self.quota_units:,} units{days}")
        return said


def estimate(
    durations: Sequence[float],
    resolution: str,
    concurrency: int,
    start: datetime,
    pace: Pace,
    upload: bool,
    units_per_day: int = 10_000,
    units_per_upload: int = UPLOAD_UNITS + 104,
) -> Estimate:
    """``durations``: each video's planned length in seconds."""
    total = float(sum(durations))
    measured = pace.seconds_per_second is not None
    per_second = pace.seconds_per_second if pace.seconds_per_second is not None else GUESSED_PACE
    lanes = max(1, min(concurrency, len(durations) or 1))
    render = total * per_second / lanes
    size = pace.bytes_per_second or BYTES_PER_SECOND.get(resolution, BYTES_PER_SECOND["1080p"])
    disk = int(total * size + EXTRA_FILES * len(durations))
    units = units_per_upload * len(durations) if upload else 0
    return Estimate(
        videos=len(durations),
        video_seconds=total,
        render_seconds=render,
        measured=measured,
        disk_bytes=disk,
        quota_units=units,
        quota_days=math.ceil(units / units_per_day) if units else 0,
        ready_by=start + timedelta(seconds=render),
    )


def _duration(seconds: float) -> str:
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _size(count: int) -> str:
    if count >= 1024**3:
        return f"{count / 1024**3:.1f} GB"
    return f"{max(1, round(count / 1024**2))} MB"
