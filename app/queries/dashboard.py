"""What the dashboard and the monitor show."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app import queries
from app.domain.states import State
from app.paths import DEMO_SHEET
from app.queries.calendar import Calendar
from app.store.stats import workspace_stats

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger(__name__)


def overview(services: Services, upcoming: int = 8, failures: int = 8) -> dict[str, Any]:
    """What the dashboard shows: totals, success rate, throughput, next runs, failures."""
    from app.store.models import Item, Job, utcnow

    now = utcnow()
    with services.db.read() as session:
        totals = workspace_stats(session)
        day = now - timedelta(days=1)
        totals["completed_last_day"] = (
            session.scalar(
                select(func.count(Item.id)).where(
                    Item.state == State.COMPLETED.value, Item.finished_at >= day
                )
            )
            or 0
        )
        recent = session.execute(
            select(Item.row_number, Item.title, Item.error, Item.finished_at, Job.id, Job.title)
            .join(Job)
            .where(Item.state == State.FAILED.value)
            .order_by(Item.finished_at.desc())
            .limit(failures)
        ).all()
        runs = queries.schedules.schedule_runs(session, now, 1)
    runs.sort()
    return {
        "totals": totals,
        "next_runs": runs[:upcoming],
        "failures": [
            {
                "job_id": job_id,
                "job": job_title,
                "row": row,
                "title": title,
                "error": error or "",
                "at": at,
            }
            for row, title, error, at, job_id, job_title in recent
        ],
    }


def dashboard(services: Services, days: int = 30, ahead: int = 7) -> dict[str, Any]:
    """The overview, and what the dashboard draws: videos made per local day over the
    last ``days`` days, what is planned over the next ``ahead`` days (videos publishing,
    jobs starting, schedule runs), today's YouTube quota, and what needs the user."""
    from app.domain.daily import by_local_day
    from app.domain.schedule import local_zone_name
    from app.store import publishing, stats
    from app.store.models import Channel, Item, Job

    summary = overview(services, upcoming=200)
    now = services.clock()
    zone = ZoneInfo(local_zone_name())  # the real zone: 30 days may cross a DST change
    today = now.astimezone(zone).date()
    since = datetime.combine(today - timedelta(days=days), datetime.min.time(), zone)
    with services.db.read() as session:
        made = by_local_day(stats.outcomes_since(session, since), today, days, zone)
        failed_jobs = session.execute(
            select(Job.id, Job.title, func.count(Item.id))
            .join(Item)
            .where(Item.state == State.FAILED.value)
            .where(Job.state.not_in((State.CANCELED.value, State.CANCELING.value)))
            .group_by(Job.id)
            .order_by(func.max(Item.finished_at).desc())
            .limit(6)
        ).all()
        approval = publishing.awaiting_approval(session)
        held = publishing.held_uploads(session)
        unsigned = publishing.unsigned_uploads(session)
    end = datetime.combine(today + timedelta(days=ahead), datetime.min.time(), zone)
    planned = [
        (o.when, "job starts" if o.kind.value == "job" else "video", o.job_id)
        for o in Calendar(services).state(now, end, with_runs=False).occurrences
    ]
    planned += [(when, "schedule run", None) for when, _name in summary["next_runs"]]
    projects = services.quota.all_today()
    limits = services.quota_limits()
    attention: list[dict[str, Any]] = [
        {"kind": "failed", "job_id": job_id, "title": title, "count": count}
        for job_id, title, count in failed_jobs
    ]
    if approval:
        attention.append({"kind": "approval", "count": approval})
    attention += [
        {"kind": "held", "channel": channel, "why": why, "count": count}
        for channel, why, count in held
    ]
    if unsigned:
        attention.append({"kind": "unsigned", "count": unsigned})
    with services.db.read() as session:
        own_source = session.scalar(
            select(Job.id).where(Job.source_location != str(DEMO_SHEET)).limit(1)
        )
        channel = session.scalar(select(Channel.id).limit(1))
        demo_used = session.scalar(  # the demo job was resumed: it was "tried"
            select(Job.id)
            .where(Job.source_location == str(DEMO_SHEET), Job.state != "paused")
            .limit(1)
        )
    welcome = {  # the first-run steps, each done or not
        "sheet": own_source is not None
        or demo_used is not None
        or services.google.account() is not None,
        "channel": channel is not None,
        "video": summary["totals"]["items_completed"] > 0,
    }
    return {
        **summary,
        "welcome": welcome,
        "next_runs": summary["next_runs"][:8],
        "made": made,
        "today": today,
        "planned": [(when, kind, job) for when, kind, job in planned if now <= when < end],
        "units_left": min((q.units_left for q in projects), default=limits.units),
        "units_limit": limits.units,
        "attention": attention,
    }


def missed_runs(services: Services, days: int = 7) -> int:
    """Scheduled runs missed (too late to run on start-up) in the last ``days`` days."""
    from app.store.models import AuditEntry, utcnow

    with services.db.read() as session:
        return (
            session.scalar(
                select(func.count(AuditEntry.id)).where(
                    AuditEntry.action == "schedule.missed",
                    AuditEntry.at >= utcnow() - timedelta(days=days),
                )
            )
            or 0
        )


def publishing_state(services: Services) -> dict[str, Any]:
    """What the monitor shows: today's quota per project, and held or waiting uploads."""
    from app.store import publishing

    with services.db.read() as session:
        held = publishing.held_uploads(session)
        approval = publishing.awaiting_approval(session)
        unsigned = publishing.unsigned_uploads(session)
    tiktok = []  # each TikTok account's and Page's posts in 24 hours (Instagram's: Meta counts)
    from app.domain.meta import FACEBOOK_DAILY
    from app.publish.meta import FacebookDestination
    from app.publish.tiktok import DAILY_CAP, TikTokDestination

    destination = TikTokDestination(services)
    for record in services.channels.records("tiktok"):
        left = destination.uploads_left_today(record.id)
        tiktok.append({"account": f"TikTok · {record.label}", "posts": DAILY_CAP - left,
                       "cap": DAILY_CAP})  # fmt: skip
    pages = FacebookDestination(services)
    for record in services.channels.records("facebook"):
        left = pages.uploads_left_today(record.id)
        tiktok.append({"account": f"Facebook · {record.label}", "posts": FACEBOOK_DAILY - left,
                       "cap": FACEBOOK_DAILY})  # fmt: skip
    return {
        "tiktok": tiktok,
        "quota": [q.to_dict() for q in services.quota.all_today()],
        "held": held,
        "awaiting_approval": approval,
        "unsigned": unsigned,
    }


def totals(services: Services) -> dict[str, Any]:
    """Jobs by state, videos made, failed and waiting, the success rate (`stats`)."""
    with services.db.read() as session:
        return workspace_stats(session)


def waits(services: Services) -> list[tuple[int, str, datetime, int]]:
    """Work that waits on a time: (job id, title, the first item's time, items), soonest
    first."""
    from app.store import queue
    from app.store.models import utcnow

    with services.db.read() as session:
        return queue.waits(session, utcnow())
