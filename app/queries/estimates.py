"""What a job will take: video lengths, render time, disk, quota (from this computer's measured
renders)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.domain.estimate import Estimate, Pace
    from app.services import Services

log = logging.getLogger(__name__)


def render_pace(services: Services, sizes: bool = True) -> Pace:
    """This computer's recent whole renders, as estimates learn from them (``sizes``:
    with their videos' sizes, for disk estimates — a file look each)."""
    from app.store.stats import render_pace

    with services.db.read() as session:
        return render_pace(session, sizes)


def video_lengths(
    services: Services, ideas: list[Any], style: str | None = None, pace: Pace | None = None
) -> list[float]:
    """How long each idea's video will be: its script spoken at the voice's measured pace,
    with the style's intro and outro (`app.domain.estimate`)."""
    from app.pipeline.errors import RenderError
    from app.pipeline.styles import pick_style

    pace = pace or render_pace(services)
    settings = services.settings
    templates = services.paths.templates_dir
    chosen: dict[str, tuple[float, float, int]] = {}
    lengths = []
    for idea in ideas:
        name = style or idea.style_override or settings.text("render.style")
        if name not in chosen:
            try:
                found = pick_style(name, templates)
                chosen[name] = (found.intro_seconds, found.outro_seconds, found.voice_rate)
            except RenderError:  # said when it renders; the estimate goes on
                chosen[name] = (0.0, 0.0, 0)
        intro, outro, rate = chosen[name]
        lengths.append(
            pace.video_seconds(
                idea.script_content,
                float(idea.duration_seconds or 0),
                wpm=rate or settings.integer("speech.rate"),
                pause=float(settings.get("speech.pause")),
                intro=intro,
                outro=outro,
            )
        )
    return lengths


def estimate(
    services: Services,
    ideas: list[Any],
    output_config: dict[str, Any],
    scheduling: dict[str, Any],
    upload: bool,
    *,
    style: str | None = None,
    left_out: int = 0,
    publish: dict[str, Any] | None = None,
) -> Estimate:
    """What a job of these ideas will take (the wizard's Review, ``jobs create
    --dry-run``): render time, disk, quota, when its last video is ready."""
    from app.domain.estimate import estimate, job_lanes
    from app.domain.publishing import VERTICAL_PLATFORMS, PublishConfig

    vertical_copy = False
    if publish:  # where the videos go decides the quota spent and the shapes rendered
        places = set(PublishConfig.from_dict(publish).possible())
        upload = bool(places & {"youtube", "youtube_shorts"})
        vertical_copy = bool(places & VERTICAL_PLATFORMS) and not output_config.get("vertical")

    start_at = scheduling.get("start_at")
    now = datetime.now(UTC)
    start = max(now, datetime.fromisoformat(start_at)) if start_at else now
    limits = services.quota_limits()
    engine = services.settings.integer("engine.max_concurrent")
    lanes = job_lanes(scheduling.get("max_concurrent"), engine)
    pace = render_pace(services)
    return estimate(
        video_lengths(services, ideas, style, pace),
        str(output_config.get("resolution") or "1080p"),
        str(output_config.get("optimize") or "balanced"),
        lanes,
        start,
        pace,
        upload,
        units_per_day=limits.units,
        units_per_upload=1600 + limits.after_upload,
        left_out=left_out,
        footage=str(output_config.get("footage") or services.settings.get("footage.provider"))
        in ("pexels", "pixabay"),
        vertical_copy=vertical_copy,
    )
