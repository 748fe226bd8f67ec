"""The read side of jobs: the job table's rows and pages, one job, its progress, what others
changed, items awaiting approval."""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from app.changes import Changes
from app.domain.states import State
from app.store import jobs as job_store
from app.store import stats

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger(__name__)


def jobs(services: Services, state: State | None = None) -> list[job_store.JobSummary]:
    with services.db.read() as session:
        return job_store.list_jobs(session, state)


def job(services: Services, job_id: int) -> dict[str, Any]:
    with services.db.read() as session:
        job = job_store.get_job(session, job_id)
        if job is None:
            raise job_store.missing_job(job_id)
        record = job_store.job_record(job)
        record["progress"] = stats.job_progress(
            session, job_id, services.settings.integer("engine.max_concurrent")
        )
        return record


def job_progress(services: Services, job_id: int) -> dict[str, Any]:
    """Items total/completed/failed/pending/skipped, timing with an ETA, rate limiting."""
    with services.db.read() as session:
        job_store.require_job(session, job_id)
        return stats.job_progress(
            session, job_id, services.settings.integer("engine.max_concurrent")
        )


def job_rows(services: Services, ids: Collection[int] | None = None) -> list[job_store.JobRow]:
    """The job table's rows: every job, or only those in ``ids``."""
    with services.db.read() as session:
        return job_store.job_rows(session, ids)


def job_page(
    services: Services,
    sort: str,
    descending: bool,
    size: int,
    after: tuple[Any, int] | None = None,
    state: str | None = None,
    q: str | None = None,
) -> tuple[list[job_store.JobRow], tuple[Any, int] | None, int]:
    """One page of the job table sorted by a stored column (keyset, in SQL): its rows,
    the last one's (key, id) when more follow, and how many jobs match."""
    with services.db.read() as session:
        pairs, total = job_store.page_ids(session, sort, descending, after, size + 1, state, q)
        more = len(pairs) > size
        pairs = pairs[:size]
        rows = {r.id: r for r in job_store.job_rows(session, [i for i, _ in pairs])}
    ordered = [rows[job_id] for job_id, _ in pairs if job_id in rows]
    last = (pairs[-1][1], pairs[-1][0]) if more and pairs else None
    return ordered, last, total


def news_since(services: Services, audit_id: int | None) -> tuple[int, Changes | None]:
    """What others (the CLI, the API, a schedule run) changed since audit entry
    ``audit_id``, read from the audit log: the newest entry's id, and the jobs, schedules
    and settings touched (a schedule's jobs with it: they show whether it runs) — or None
    when something else changed and everything should be read again. The first call
    (``audit_id`` None) only learns where the log ends."""
    from app.store.models import AuditEntry

    with services.db.read() as session:
        newest = session.scalar(select(func.max(AuditEntry.id))) or 0
        if audit_id is None or newest <= audit_id:
            return newest, Changes()
        entries = session.execute(
            select(AuditEntry.target_kind, AuditEntry.target_id, AuditEntry.details)
            .where(AuditEntry.id > audit_id, AuditEntry.actor != services.actor)
            .limit(1000)
        ).all()
    if len(entries) >= 1000:
        return newest, None
    jobs: set[int] = set()
    schedules: set[int] = set()
    settings: set[str] = set()
    for kind, target, details in entries:
        if kind == "job" and target is not None:
            jobs.add(target)
        elif kind == "item" and isinstance((details or {}).get("job"), int):
            jobs.add(details["job"])
        elif kind == "schedule" and target is not None:
            schedules.add(target)
            if isinstance((details or {}).get("job"), int):  # a run made a job
                jobs.add(details["job"])
        elif kind == "settings":
            settings.update(str(k) for k in (details or {}).get("keys") or ())
        elif kind not in ("item", "history"):
            return newest, None
    if schedules:
        from app.store.models import Job

        with services.db.read() as session:
            jobs.update(session.scalars(select(Job.id).where(Job.schedule_id.in_(schedules))))
    return newest, Changes.of(jobs=jobs, schedules=schedules, settings=settings)


def approval_items(services: Services) -> list[dict[str, Any]]:
    """Every item awaiting approval, with what the preview shows."""
    import json as json_lib

    from app.store.models import Item, Job

    with services.db.read() as session:
        rows = session.execute(
            select(Item, Job.title, Job.publish)
            .join(Job)
            .where(Item.state == State.PENDING.value, Item.phase == "approval")
            .where(Job.state.not_in((State.CANCELED.value, State.CANCELING.value)))
            .order_by(Job.id, Item.row_number)
        ).all()
        records = []
        for item, job_title, publish in rows:
            record = job_store.item_record(item)
            record["job_id"], record["job"] = item.job_id, job_title
            record["publish"] = dict(publish or {})  # each platform's choices, for the preview
            records.append(record)
    for record in records:
        try:
            path = Path(record["outputs"].get("metadata", ""))
            record["metadata"] = json_lib.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record["metadata"] = {}
    return records


def export_records(
    services: Services, state: State | None = None, ids: list[int] | None = None
) -> list[dict[str, Any]]:
    """The jobs an export holds: all, those in ``state``, or those in ``ids``."""
    with services.db.read() as session:
        records = job_store.all_job_records(session, state)
    if ids is not None:
        wanted = set(ids)
        records = [r for r in records if r["id"] in wanted]
    return records


def export_text(
    services: Services, fmt: str, state: State | None = None, items: bool = False
) -> str:
    """The jobs as JSON, CSV or YAML text (`jobs export` to the terminal, the API)."""
    from app.export import render

    return render(export_records(services, state), fmt, items=items)
