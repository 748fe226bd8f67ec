"""Queries and writes for jobs and their items, returning plain records for any front end."""

from __future__ import annotations

import getpass
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, insert, or_, select
from sqlalchemy.orm import Session, selectinload

from app.domain.dispatch import SchedulingConfig, item_cost, item_tags
from app.domain.errors import NotFound, UserError
from app.domain.job import JobDraft
from app.domain.publishing import PublishConfig, UploadStatus
from app.domain.states import State, transition
from app.domain.validation import RowReport
from app.store.job_row import JobRow, next_run, publishing_words
from app.store.models import AuditEntry, Item, Job, Schedule, Upload, utcnow

# Built once: a statement made per call costs more to build and key than to run.
_INSERT_AUDIT = insert(AuditEntry)
_INSERT_JOB = insert(Job).returning(Job.id)
_INSERT_ITEMS = insert(Item).returning(Item.id, sort_by_parameter_order=True)
_INSERT_UPLOAD = insert(Upload)


def current_actor(front_end: str) -> str:
    """Who is acting, for the audit log: the OS user and the front end they used."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user} via {front_end}"


def audit(
    session: Session,
    actor: str,
    action: str,
    target_kind: str,
    target_id: int | None = None,
    **details: Any,
) -> None:
    # A plain insert, at once: no unit of work to flush (the dispatch path audits twice).
    session.connection().execute(
        _INSERT_AUDIT,
        {
            "actor": actor,
            "action": action,
            "target_kind": target_kind,
            "target_id": target_id,
            "details": details,
        },
    )


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job's rows, built before its transaction (a schedule's run builds them ahead of its
    time, so that only the inserts are left for the moment it is due)."""

    job: dict[str, Any]  # the job row, but its finish time
    items: list[dict[str, Any]]  # item rows, but their job id
    uploads: list[tuple[int, dict[str, Any]]]  # (index in ``items``, upload row but its item)
    finished: bool  # every row was filtered out: the job is done as soon as it is made
    actor: str


def new_job(
    draft: JobDraft,
    rows: Sequence[RowReport],
    actor: str,
    schedule_id: int | None = None,
    header_row: int | None = None,
    empty_rows: Sequence[int] = (),
) -> NewJob:
    """The rows `insert_job` stores for ``draft``: one pending item per valid row, and the
    rows left out (invalid, with their reasons; ``empty_rows``, skipped) kept on the job.
    ``header_row``: where write-back finds (or puts) its column titles."""
    draft = draft.checked()
    config = SchedulingConfig.from_dict(draft.scheduling)
    publish = PublishConfig.from_dict(draft.publish)
    items = [_item(row, config, draft.output_config) for row in rows if row.valid]
    refused: list[dict[str, Any]] = []
    if publish.enabled:  # platforms a row names but cannot reach, lengths they refuse
        items, refused = _platform_checks(publish, items, draft.validation_level.value)
    state = State.PENDING
    finished = bool(items) and not any(i["state"] == State.PENDING.value for i in items)
    if finished:  # every row was filtered out: nothing to wait for
        for step in (State.RUNNING, State.COMPLETING, State.COMPLETED):
            state = transition(state, step)
    job = {
        "title": draft.title.strip(),
        "state": state.value,
        "priority": draft.priority.value,
        "source_kind": draft.source_kind,
        "source_location": draft.source_location,
        "source_tab": draft.source_tab,
        "source_range": draft.source_range,
        "validation_level": draft.validation_level.value,
        "output_config": draft.output_config,
        "style": draft.style,
        "deadline_minutes": draft.deadline_minutes,
        "callback_url": draft.callback_url,
        "scheduling": config.to_dict(),
        "write_back": draft.write_back,
        "schedule_id": schedule_id,
        "header_row": header_row,
        "publish": publish.to_dict(),
        "left_out": sorted(
            left_out(rows, empty_rows) + refused, key=lambda entry: int(entry["row"])
        ),
    }
    pending = [n for n, item in enumerate(items) if item["state"] == State.PENDING.value]
    uploads: list[tuple[int, dict[str, Any]]] = []
    for index, n in enumerate(pending) if publish.enabled else ():
        idea = items[n]["idea"]
        when = publish.publish_time(index, str(idea.get("publish_at") or ""))  # sheet order
        places = publish.for_row(
            idea.get("platform_preferences") or (), not idea.get("platforms_given", True)
        )
        for rank, place in enumerate(places):
            uploads.append((n, {
                "destination": place,
                "rank": rank,
                "channel_id": publish.account(place),
                "status": UploadStatus.WAITING.value,
                "privacy": publish.privacy.value,
                "publish_at": when,
                "offset": 0,
                "attempts": 0,
                "steps_done": [],
                "state": {},
            }))  # fmt: skip
    return NewJob(job, items, uploads, finished, actor)


def _platform_checks(
    publish: PublishConfig, items: list[dict[str, Any]], level: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each row's platform problems: warnings on its item — or, at the strict level, the row
    left out with them (a platform it names that no account of this job serves; a length a
    platform refuses)."""
    kept, refused = [], []
    for item in items:
        idea = item["idea"]
        places = publish.for_row(
            idea.get("platform_preferences") or (), not idea.get("platforms_given", True)
        )
        errors, warnings = platform_problems(publish, idea, places)
        if errors and level == "strict" and item["state"] == State.PENDING.value:
            row = item["row_number"]
            problems = [f"row {row}, column “Platforms”: {e}" for e in errors]
            refused.append({"row": row, "title": item["title"], "problems": problems})
            continue
        item["warnings"] = [
            *item["warnings"],
            *({"column": "platform_preferences", "message": m} for m in [*errors, *warnings]),
        ]
        kept.append(item)
    return kept, refused


def platform_problems(
    publish: PublishConfig, idea: dict[str, Any], places: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """(errors, warnings) for a row's platforms: each one its Platforms cell names that its
    video will not go to, and each length a platform it goes to refuses."""
    from app.domain.publishing import DESTINATIONS, platform_name

    errors: list[str] = []
    warnings: list[str] = []
    if publish.from_sheet and idea.get("platforms_given", True):
        for platform in idea.get("platform_preferences") or ():
            if platform in places:
                continue
            why = (
                "no account was chosen for it in this job"
                if platform in DESTINATIONS
                else "Cadence cannot publish there yet"
            )
            errors.append(f"{platform_name(platform)}: {why} — not published there")
    seconds = int(idea.get("duration_seconds") or 0)
    if "youtube_shorts" in places and seconds > 180:
        errors.append(
            f"YouTube Shorts: the row asks for {seconds} s; a Short is at most 180 s — shorten it"
        )
    from app.domain.meta import length_refusal

    for reels in ("instagram_reels", "facebook"):
        refusal = length_refusal(reels, seconds) if reels in places else None
        if refusal:
            errors.append(
                f"{platform_name(reels)}: the row asks for {seconds} s; "
                + refusal.split("; ", 1)[1]
            )
    if "tiktok" in places and seconds > 600:
        errors.append(f"TikTok: the row asks for {seconds} s; TikTok takes at most 10 minutes")
    elif "tiktok" in places and seconds > 180:
        warnings.append(
            f"TikTok: the row asks for {seconds} s; many accounts may post only 3 minutes "
            "(TikTok says which when it posts)"
        )
    return errors, warnings


def left_out(rows: Sequence[RowReport], empty_rows: Sequence[int] = ()) -> list[dict[str, Any]]:
    """The rows a job leaves out, in sheet order: each invalid row with its problems, and
    each empty row."""
    found = [
        {
            "row": r.row,
            "title": r.title,
            "problems": [f"{p.place()}: {p.message}" for p in r.errors],
        }
        for r in rows
        if not r.valid
    ]
    found += [{"row": n, "title": "", "problems": ["empty row, skipped"]} for n in empty_rows]
    return sorted(found, key=lambda entry: int(entry["row"]))


def insert_job(session: Session, new: NewJob) -> int:
    """Store a job built by `new_job`; returns its id.

    Plain inserts, not the ORM's unit of work: a schedule's run makes its job on the dispatch
    path, where the flush cost more than the rest of the transaction (the rows are the same;
    a test compares them)."""
    connection = session.connection()  # Core, under the session's transaction
    job_id = connection.execute(
        _INSERT_JOB, {**new.job, "finished_at": utcnow() if new.finished else None}
    ).scalar_one()
    if new.items:
        ids = (
            connection.execute(_INSERT_ITEMS, [{**item, "job_id": job_id} for item in new.items])
            .scalars()
            .all()
        )
        if new.uploads:
            connection.execute(
                _INSERT_UPLOAD, [{**row, "item_id": ids[n]} for n, row in new.uploads]
            )
    audit(
        session,
        new.actor,
        "job.create",
        "job",
        job_id,
        title=new.job["title"],
        source=new.job["source_location"],
        items=len(new.items),
    )
    return int(job_id)


def create_job(
    session: Session,
    draft: JobDraft,
    rows: Sequence[RowReport],
    actor: str,
    schedule_id: int | None = None,
    header_row: int | None = None,
) -> int:
    """Store the job with one pending item per valid row; returns the job id (see
    `new_job` and `insert_job`)."""
    return insert_job(session, new_job(draft, rows, actor, schedule_id, header_row))


def _item(
    row: RowReport, config: SchedulingConfig, output_config: dict[str, Any]
) -> dict[str, Any]:
    """A pending item for a valid row — or a skipped one, if the job's filters exclude it."""
    assert row.idea is not None
    idea = row.idea.to_dict()
    reason = config.exclusion(item_tags(idea), row.idea.priority)
    return {
        "row_number": row.row,
        "title": row.title[:200],
        "idea": idea,
        "warnings": [w.to_dict() for w in row.warnings],
        "rank": row.idea.priority.rank,
        "cost": item_cost(idea, output_config),
        "state": State.CANCELED.value if reason else State.PENDING.value,
        "error": reason,
    }


@dataclass(frozen=True, slots=True)
class JobSummary:
    id: int
    title: str
    state: str
    priority: str
    source: str
    items_total: int
    items_completed: int
    items_failed: int
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        return data


def list_jobs(session: Session, state: State | None = None) -> list[JobSummary]:
    """Every job with its item counts, newest first, in one query."""
    completed = func.sum(case((Item.state == State.COMPLETED.value, 1), else_=0))
    failed = func.sum(case((Item.state == State.FAILED.value, 1), else_=0))
    query = (
        select(Job, func.count(Item.id), completed, failed)
        .outerjoin(Item)
        .group_by(Job.id)
        .order_by(Job.id.desc())
    )
    if state is not None:
        query = query.where(Job.state == state.value)
    return [
        JobSummary(
            job.id,
            job.title,
            job.state,
            job.priority,
            job.source_location,
            total,
            done or 0,
            bad or 0,
            job.created_at,
            job.updated_at,
        )
        for job, total, done, bad in session.execute(query)
    ]


def edit_job(
    session: Session,
    job_id: int,
    actor: str,
    *,
    priority: str | None = None,
    start_at: datetime | None = None,
) -> Job:
    """Change a waiting job's priority or planned start (checked like a new job's)."""
    from app.domain.dispatch import SchedulingConfig
    from app.domain.idea import Priority

    job = require_job(session, job_id)
    if job.state in FINAL_STATES:
        raise UserError(f"job {job_id} is {job.state} — a finished job cannot be changed")
    changes: dict[str, Any] = {}
    if priority is not None:
        try:
            job.priority = Priority(priority).value
        except ValueError:
            raise UserError(f"priority must be low, normal or high, not {priority!r}") from None
        changes["priority"] = job.priority
    if start_at is not None:
        if start_at <= utcnow():
            raise UserError("the next run must be in the future")
        if job.state not in (State.PENDING.value, State.PAUSED.value):
            raise UserError(f"job {job_id} is {job.state} — it has already started")
        scheduling = {**job.scheduling, "start_at": start_at.isoformat()}
        SchedulingConfig.from_dict(scheduling)  # e.g. an end time before the new start
        job.scheduling = scheduling
        for item in job.items:  # items held for the old start wait for the new one
            if item.state == State.PENDING.value:
                item.not_before = start_at
        changes["start_at"] = start_at.isoformat()
    audit(session, actor, "job.edit", "job", job_id, **changes)
    return job


FINAL_STATES = (State.COMPLETED.value, State.FAILED.value, State.CANCELED.value)


def delete_job(session: Session, job_id: int, actor: str) -> str:
    """Remove a finished job and its history (its video files stay); returns its title."""
    job = require_job(session, job_id)
    if job.state not in FINAL_STATES:
        raise UserError(
            f"job {job_id} is {job.state} — cancel it first; only completed, failed or "
            "canceled jobs can be deleted"
        )
    title = job.title
    session.delete(job)
    audit(session, actor, "job.delete", "job", job_id, title=title)
    return title


def missing_job(job_id: int) -> NotFound:
    return NotFound(f"there is no job {job_id} — `jobs list` shows the job IDs")


def require_job(session: Session, job_id: int) -> Job:
    """The job, or `NotFound` telling the user how to find job IDs."""
    job = session.get(Job, job_id)
    if job is None:
        raise missing_job(job_id)
    return job


def get_job(session: Session, job_id: int) -> Job | None:
    return session.scalars(
        select(Job)
        .where(Job.id == job_id)
        .options(selectinload(Job.items).selectinload(Item.uploads))
    ).one_or_none()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def item_record(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "row": item.row_number,
        "title": item.title,
        "state": item.state,
        "stage": item.stage,
        "progress": item.progress,
        "attempts": item.attempts,  # renders
        "upload_attempts": sum(u.attempts for u in item.uploads),
        "error": item.error,
        "outputs": item.outputs,
        "output_url": item.output_url,
        "video_id": item.video_id,
        "phase": item.phase,
        "upload": upload_record(item.upload) if item.upload is not None else None,
        "uploads": [upload_record(u) for u in item.uploads],
        "warnings": item.warnings,
        "idea": item.idea,
        "updated_at": _iso(item.updated_at),
        "history": [
            {
                "attempt": e.attempt,
                "started_at": _iso(e.started_at),
                "finished_at": _iso(e.finished_at),
                "outcome": e.outcome,
                "error": e.error,
            }
            for e in item.executions
        ],
    }


def upload_record(upload: Upload) -> dict[str, Any]:
    return {
        "destination": upload.destination,
        "channel": upload.channel_id,
        "status": upload.status,
        "privacy": upload.privacy,
        "publish_at": _iso(upload.publish_at),
        "video_id": upload.video_id,
        "url": upload.url,
        "uploaded_bytes": upload.offset,
        "size": upload.file_size,
        "note": upload.note,
        "rejected_reason": upload.rejected_reason,
    }


def job_record(job: Job, *, with_items: bool = True) -> dict[str, Any]:
    """A job as plain JSON-ready data: what `jobs show --json` and exports print."""
    record: dict[str, Any] = {
        "id": job.id,
        "title": job.title,
        "state": job.state,
        "priority": job.priority,
        "source": {
            "kind": job.source_kind,
            "location": job.source_location,
            "tab": job.source_tab,
            "range": job.source_range,
        },
        "validation_level": job.validation_level,
        "style": job.style,
        "deadline_minutes": job.deadline_minutes,
        "callback_url": job.callback_url,
        "output": job.output_config,
        "scheduling": job.scheduling,
        "publish": job.publish,
        "items_total": len(job.items),
        "items_completed": sum(i.state == State.COMPLETED.value for i in job.items),
        "items_failed": sum(i.state == State.FAILED.value for i in job.items),
        "created_at": _iso(job.created_at),
        "updated_at": _iso(job.updated_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "left_out": list(job.left_out or []),
    }
    if with_items:
        record["items"] = [item_record(i) for i in job.items]
    return record


def all_job_records(session: Session, state: State | None = None) -> list[dict[str, Any]]:
    query = select(Job).options(selectinload(Job.items)).order_by(Job.id)
    if state is not None:
        query = query.where(Job.state == state.value)
    return [job_record(job) for job in session.scalars(query)]


def any_job(session: Session) -> bool:
    return session.scalar(select(Job.id).limit(1)) is not None


def job_rows(session: Session, ids: Collection[int] | None = None) -> list[JobRow]:
    """Every job (or those in ``ids``) as the job table shows it, in one query (plus
    schedule names)."""
    completed = func.sum(case((Item.state == State.COMPLETED.value, 1), else_=0))
    failed = func.sum(case((Item.state == State.FAILED.value, 1), else_=0))
    names = {i: n for i, n in session.execute(select(Schedule.id, Schedule.name))}
    paused = set(session.scalars(select(Schedule.id).where(Schedule.paused.is_(True))))
    query = select(Job, func.count(Item.id), completed, failed).outerjoin(Item).group_by(Job.id)
    if ids is not None:
        query = query.where(Job.id.in_(list(ids)))
    now = utcnow()
    etas = _etas(session)
    publishing = _publishing(session, ids)
    rows = []
    for job, total, done, bad in session.execute(query):
        rows.append(
            JobRow(
                job.id,
                job.title,
                job.state,
                job.priority,
                total,
                done or 0,
                bad or 0,
                next_run(
                    (job.scheduling or {}).get("start_at"),
                    now,
                    (job.scheduling or {}).get("timezone"),
                ),
                names.get(job.schedule_id, "") if job.schedule_id else "",
                job.created_at,
                job.updated_at,
                etas.get(job.id),
                job.schedule_id if job.schedule_id in names else None,
                job.schedule_id in paused,
                publishing.get(job.id, ""),
            )
        )
    return rows


PRIORITY_RANK = case((Job.priority == "low", 0), (Job.priority == "high", 2), else_=1)
PAGE_KEYS: dict[str, Any] = {
    "created_at": Job.created_at,
    "updated_at": Job.updated_at,
    "title": func.lower(Job.title),
    "priority": PRIORITY_RANK,
}


def page_ids(
    session: Session,
    sort: str,
    descending: bool,
    after: tuple[Any, int] | None,
    limit: int,
    state: str | None = None,
    q: str | None = None,
) -> tuple[list[tuple[int, Any]], int]:
    """One page of job ids in (sort key, id) order after ``after`` — keyset pagination in
    SQL, so a page costs the same with 100 jobs or 100,000 — with each one's key, and how
    many jobs match the filters. Sorts by ``PAGE_KEYS``; a datetime key is an aware one."""
    key = PAGE_KEYS[sort]
    query = select(Job.id, key)
    if state:
        query = query.where(Job.state == state)
    if q:
        query = query.where(Job.title.icontains(q, autoescape=True))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if after is not None:
        mark, mark_id = after
        if descending:
            query = query.where(or_(key < mark, and_(key == mark, Job.id < mark_id)))
        else:
            query = query.where(or_(key > mark, and_(key == mark, Job.id > mark_id)))
    order = (key.desc(), Job.id.desc()) if descending else (key.asc(), Job.id.asc())
    found = session.execute(query.order_by(*order).limit(limit)).all()
    return [(job_id, value) for job_id, value in found], total


def _publishing(session: Session, ids: Collection[int] | None = None) -> dict[int, str]:
    """Per publishing job: how many videos are published, scheduled, awaiting approval…"""
    query = select(Item.job_id, Upload.status, Item.phase, Item.state, func.count()).join(
        Upload, Upload.item_id == Item.id
    )
    if ids is not None:
        query = query.where(Item.job_id.in_(list(ids)))
    counts = session.execute(query.group_by(Item.job_id, Upload.status, Item.phase, Item.state))
    return publishing_words(
        (job, status, phase, state, n) for job, status, phase, state, n in counts
    )


def _etas(session: Session) -> dict[int, datetime]:
    """When each running job should finish, from its own pace so far (running jobs only:
    they are few, so this stays cheap with many jobs)."""
    from app.domain.estimate import job_lanes
    from app.store.settings import get_setting
    from app.store.stats import job_eta, render_pace

    etas = {}
    pace, engine = None, None
    for job in session.scalars(select(Job).where(Job.state == State.RUNNING.value)):
        if pace is None:  # read once, for every running job
            pace = render_pace(session, sizes=False)
            engine = get_setting(session, "engine.max_concurrent", 1)
        lanes = job_lanes((job.scheduling or {}).get("max_concurrent"), engine)
        eta = job_eta(session, job, lanes, pace)
        if eta:
            etas[job.id] = eta
    return etas
