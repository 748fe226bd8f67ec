"""Still frames of a rendered video, for the approval preview (no video player needed)."""

from __future__ import annotations

import json
from pathlib import Path

from app.pipeline.media import run_ffmpeg


def preview_frames(video: Path, out_dir: Path, count: int = 4, width: int = 320) -> list[Path]:
    """``count`` frames spread over ``video`` as small PNGs in ``out_dir`` (made once; kept
    while the video is unchanged)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = out_dir / "source.json"
    key = {"video": str(video), "mtime": video.stat().st_mtime_ns, "count": count}
    frames = [out_dir / f"frame-{n}.png" for n in range(count)]
    try:
        if json.loads(stamp.read_text()) == key and all(f.exists() for f in frames):
            return frames
    except (OSError, ValueError):
        pass
    duration = _duration(video)
    for n, frame in enumerate(frames):
        at = duration * (n + 0.5) / count
        run_ffmpeg(
            ["-ss", f"{at:.3f}", "-i", str(video), "-frames:v", "1", "-vf",
             f"scale={width}:-2", str(frame)]
        )  # fmt: skip
    stamp.write_text(json.dumps(key))
    return frames


def _duration(video: Path) -> float:
    from app.pipeline.probe import ffmpeg_summary

    return max(ffmpeg_summary(video).duration, 0.1)
