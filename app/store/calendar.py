"""The content calendar's reads and writes: planning rules per channel, and what is on the
calendar — videos with a publish time, one-off job starts, and the recurring schedules the
calendar expands itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.domain.calendar_config import CalendarConfig
from app.domain.calendar_plan import (
    FAILED,
    PLANNED,
    PUBLISHED,
    READY,
    RENDERING,
    UPLOADED,
    Kind,
    Occurrence,
)
from app.domain.calendar_runs import RunPlan, parse_moved
from app.domain.publishing import SCHEDULES_ITSELF, UploadStatus
from app.domain.schedule import ScheduleError, parse_schedule, zone
from app.domain.states import State
from app.store import schedules as schedule_store
from app.store.jobs import audit
from app.store.models import CalendarSettings, Item, Job, Upload, utcnow

DEFAULT = ""  # the channel key of the workspace default


def overrides(session: Session) -> dict[str, dict[str, Any]]:
    """Each channel's changed settings ("" is the workspace default)."""
    return {row.channel: dict(row.config) for row in session.scalars(select(CalendarSettings))}


def config_for(saved: dict[str, dict[str, Any]], channel: str, local_zone: str) -> CalendarConfig:
    """A channel's rules: the workspace default with the channel's own settings over it."""
    base = CalendarConfig.from_dict(saved.get(DEFAULT, {}), local_zone)
    if channel and channel in saved:
        return base.merged(saved[channel])
    return base


def save(
    session: Session, channel: str, changes: dict[str, Any], actor: str, local_zone: str
) -> CalendarConfig:
    """Change some of a channel's settings (checked first); returns the rules now in force."""
    row = session.get(CalendarSettings, channel)
    before = dict(row.config) if row else {}
    merged = {**before, **changes}
    saved = overrides(session)
    saved[channel] = merged
    config = config_for(saved, channel, local_zone)  # raises DraftError on a bad value
    # Stored as written back by the checked configuration, only the settings given.
    normalised = config.to_dict()
    kept = {key: normalised[key] for key in merged}
    if row is None:
        session.add(CalendarSettings(channel=channel, config=kept))
    else:
        row.config = kept
        row.updated_at = utcnow()
    audit(session, actor, "calendar.config", "channel", None, channel=channel, after=kept)
    return config


# Each post's platform on the calendar.
GLYPHS = {"youtube": "▶", "youtube_shorts": "▮", "tiktok": "♪", "instagram_reels": "◎",
          "facebook": "ⓕ"}  # fmt: skip


def _item_state(item: Item, upload: Upload) -> str:
    if upload.status == UploadStatus.PUBLISHED.value:
        return PUBLISHED
    if item.state in (State.FAILED.value, State.CANCELED.value) or upload.status in (
        UploadStatus.REJECTED.value,
    ):
        return FAILED
    if upload.video_id:
        return UPLOADED
    if item.state == State.RUNNING.value and item.phase == "render":
        return RENDERING
    if item.phase in ("approval", "upload") or item.state == State.COMPLETED.value:
        return READY
    return PLANNED


def occurrences(session: Session, start: datetime, end: datetime) -> list[Occurrence]:
    """Videos publishing, and one-off jobs starting, in [start, end)."""
    found: list[Occurrence] = []
    query = (
        select(Upload)
        .where(Upload.publish_at.is_not(None), Upload.publish_at >= start, Upload.publish_at < end)
        .options(joinedload(Upload.item).joinedload(Item.job))
    )
    for upload in session.scalars(query):
        item = upload.item
        assert upload.publish_at is not None
        state = _item_state(item, upload)
        many = len(item.uploads) > 1
        glyph = GLYPHS.get(upload.destination, "")
        title = (
            f"{glyph} {item.title}".strip()
            if many or upload.destination != "youtube"
            else item.title
        )
        if upload.destination not in SCHEDULES_ITSELF and state != PUBLISHED:
            title += " (this computer posts it)"
        found.append(
            Occurrence(
                f"item:{item.id}" if upload.rank == 0 else f"item:{item.id}@{upload.destination}",
                upload.publish_at,
                title,
                Kind.ITEM,
                state,
                upload.channel_id,
                job_id=item.job_id,
                item_id=item.id,
                needs_render=state in (PLANNED, RENDERING) and upload.rank == 0,  # once a video
                needs_upload=state in (PLANNED, RENDERING, READY)
                and upload.destination in ("youtube", "youtube_shorts"),  # YouTube's quota
            )
        )
    pending = select(Job).where(Job.state == State.PENDING.value)
    for job in session.scalars(pending):
        text = (job.scheduling or {}).get("start_at")
        if not text:
            continue
        when = datetime.fromisoformat(text)
        if start <= when < end:
            found.append(
                Occurrence(
                    f"job:{job.id}",
                    when,
                    f"{job.title} starts",
                    Kind.JOB,
                    PLANNED,
                    str((job.publish or {}).get("channel") or ""),
                    job_id=job.id,
                )
            )
    return found


def run_plans(session: Session) -> list[RunPlan]:
    """Every active schedule, ready to expand (one that no longer parses is left out)."""
    plans = []
    for schedule in schedule_store.active_schedules(session):
        try:
            spec = parse_schedule(schedule.expression)
            tz = zone(schedule.timezone)
        except ScheduleError:
            continue
        template = schedule.job_template or {}
        channel = str((template.get("publish") or {}).get("channel") or "")
        plans.append(
            RunPlan(
                schedule.id,
                schedule.name,
                spec,
                tz,
                schedule.start_at or schedule.created_at,
                schedule.start_at,
                schedule.end_at,
                channel,
                tuple(sorted(parse_moved(schedule.moved_runs).items())),
            )
        )
    return plans
