"""Operations on publishing: approve, reject, reschedule; reading analytics now."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from app import queries
from app.changes import Changes, Done
from app.domain.errors import UserError

if TYPE_CHECKING:
    from app.google.analytics import FetchReport
    from app.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Fetched(Done):
    """Published videos' figures read from YouTube now: what was read, what was skipped."""

    report: FetchReport = field(kw_only=True)


def fetch_analytics(services: Services) -> Fetched:
    """Read every published video's figures now (the engine does it once a day)."""
    report = queries.analytics.analytics(services).fetch()
    return Fetched(report.summary(), Changes.of(settings=["analytics"]), report=report)


def approve(services: Services, item_ids: list[int]) -> Done:
    from app.store import publishing

    with services.db.write() as session:
        jobs = publishing.approve(session, item_ids, services.actor)
    count = len(item_ids)
    return Done(
        f"Approved {count} item{'s' if count != 1 else ''}: they upload next.",
        Changes.of(jobs=jobs, items=item_ids),
    )


def reject(services: Services, item_ids: list[int], reason: str = "", again: bool = False) -> Done:
    """Rejected items are skipped, or rendered again (their files removed first)."""
    from app.store import publishing

    with services.db.write() as session:
        files, jobs = publishing.reject(session, item_ids, services.actor, reason, again)
    for path in files:
        path.unlink(missing_ok=True)
    count = len(item_ids)
    noun = f"{count} item{'s' if count != 1 else ''}"
    return Done(
        f"Rejected {noun}: " + ("they render again." if again else "they are skipped."),
        Changes.of(jobs=jobs, items=item_ids),
    )


def reschedule(services: Services, item_id: int, publish_at: datetime) -> Done:
    """A new publish time: on YouTube at once when the video is up, else for the upload."""
    from app.store import publishing
    from app.store.models import utcnow

    if publish_at <= utcnow():
        raise UserError("the new publish time must be in the future")
    from app.publish.destination import destination

    with services.db.read() as session:
        upload = publishing.reschedulable(session, item_id)
        video_id, channel_id = upload.video_id, upload.channel_id
        target = upload.destination
    privacy = None
    if video_id is not None:  # up already: moved on the platform first
        privacy = destination(services, target).reschedule(channel_id, video_id, publish_at)
    with services.db.write() as session:
        job_id = publishing.record_reschedule(session, item_id, publish_at, services.actor, privacy)
    local = publish_at.astimezone()
    where = "on YouTube" if video_id else "for its upload"
    return Done(
        f"Item {item_id} now publishes {local:%a %d %b %Y %H:%M %Z} ({where}).",
        Changes.of(jobs=[job_id], items=[item_id]),
    )
