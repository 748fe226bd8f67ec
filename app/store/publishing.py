"""The publishing half of the queue: rendered items waiting for approval or upload.

An item that publishes stays *pending* after its render, in the approval or upload phase,
so its job is not finished until its video is on YouTube. Uploads are claimed like renders
(marked running, with an execution record), and their outcomes recorded in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.errors import NotFound, UserError
from app.domain.publishing import SCHEDULES_ITSELF, Phase, UploadStatus, platform_name
from app.domain.states import State, transition
from app.store.jobs import audit
from app.store.models import Channel, Execution, Item, Job, Upload, utcnow
from app.store.queue import ACTIVE_JOB_STATES, give_back_attempt, settle_job

UNFINISHED = tuple(
    s.value
    for s in (
        UploadStatus.QUEUED,
        UploadStatus.UPLOADING,
        UploadStatus.UPLOADED,
        UploadStatus.ON_HOLD,
    )
)


@dataclass(frozen=True, slots=True)
class UploadClaim:
    item_id: int
    job_id: int
    row: int
    attempt: int
    execution_id: int
    channel_id: str
    target: str = "youtube"  # the destination (`app.publish.destination`)


OUTPUT_FILES = ("video", "thumbnail", "captions", "metadata")  # an item's rendered files


def claim_uploads(session: Session, limit: int, now: datetime) -> list[UploadClaim]:
    """Up to ``limit`` uploads ready to go: their item pending in the upload phase, their
    time come (a platform that publishes on time itself, as YouTube does, takes the video
    ahead), their job active, their account signed in and not on hold — one per item."""
    if limit <= 0:
        return []
    signed_in = select(Channel.id).where(Channel.hold.is_(None))
    # Found through the (indexed) upload status, so an idle engine's look costs next to
    # nothing however many videos were published before.
    due = (
        Upload.destination.in_(SCHEDULES_ITSELF)
        | Upload.publish_at.is_(None)
        | (Upload.publish_at <= now)
    )
    rows = session.execute(
        select(Item, Upload)
        .join(Job, Job.id == Item.job_id)
        .join(Upload, Upload.item_id == Item.id)
        .where(
            Upload.status.in_(UNFINISHED),
            Upload.channel_id.in_(signed_in),
            due,
            Item.state == State.PENDING.value,
            Item.phase == Phase.UPLOAD.value,
            Job.state.in_(ACTIVE_JOB_STATES),
            (Item.not_before.is_(None)) | (Item.not_before <= now),
        )
        .order_by(
            Item.rank.desc(), Upload.publish_at.is_(None), Upload.publish_at, Item.id, Upload.rank
        )
        .limit(limit * 4)
    ).all()
    claims: list[UploadClaim] = []
    taken: set[int] = set()
    for item, upload in rows:
        if item.id in taken or len(claims) >= limit:
            continue
        taken.add(item.id)
        job = item.job
        if job.state == State.PENDING.value:
            job.state = transition(State.PENDING, State.RUNNING).value
            job.started_at = job.started_at or now
        item.state = transition(State.PENDING, State.RUNNING, "item").value
        item.stage, item.error = "upload", None
        upload.attempts += 1
        execution = Execution(item=item, attempt=upload.attempts, started_at=now)
        session.add(execution)
        session.flush()
        claims.append(
            UploadClaim(
                item.id,
                job.id,
                item.row_number,
                upload.attempts,
                execution.id,
                upload.channel_id,
                upload.destination,
            )
        )
    return claims


def next_post_due(session: Session, now: datetime) -> datetime | None:
    """When the next upload to a platform that cannot schedule (TikTok) falls due."""
    return session.scalar(
        select(func.min(Upload.publish_at)).where(
            Upload.status.in_(UNFINISHED),
            Upload.destination.not_in(SCHEDULES_ITSELF),
            Upload.publish_at > now,
        )
    )


def posts_due(session: Session, until: datetime) -> int:
    """Posts that only this computer can make (TikTok's) due by ``until`` — or late — and not
    yet made, of active jobs: while there are any, the computer is kept awake."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Upload)
            .join(Item, Item.id == Upload.item_id)
            .join(Job, Job.id == Item.job_id)
            .where(
                Upload.destination.not_in(SCHEDULES_ITSELF),
                Upload.status.in_((UploadStatus.WAITING.value, *UNFINISHED)),
                Upload.publish_at <= until,
                Item.state.in_((State.PENDING.value, State.RUNNING.value)),
                Job.state.in_(ACTIVE_JOB_STATES),
            )
        )
        or 0
    )


def posts_of(session: Session, job_id: int) -> list[dict[str, object]]:
    """Each of a job's videos on each platform it was meant for: where it stands, its link."""
    rows = session.execute(
        select(Item.id, Item.row_number, Upload.destination, Upload.status, Upload.url)
        .join(Upload, Upload.item_id == Item.id)
        .where(Item.job_id == job_id)
        .order_by(Item.row_number, Upload.rank)
    ).all()
    return [
        {"item_id": i, "row": r, "platform": d, "status": s, "url": u} for i, r, d, s, u in rows
    ]


def held_uploads(session: Session) -> list[tuple[str, str, int]]:
    """(channel title, why, how many uploads) for each channel whose uploads wait on it."""
    rows = session.execute(
        select(Channel.title, Channel.hold, func.count(Item.id))
        .join(Upload, Upload.channel_id == Channel.id)
        .join(Item, Item.id == Upload.item_id)
        .where(
            Channel.hold.is_not(None),
            Item.state == State.PENDING.value,
            Item.phase == Phase.UPLOAD.value,
        )
        .group_by(Channel.id)
    ).all()
    return [(title, hold or "", count) for title, hold, count in rows]


def unsigned_uploads(session: Session) -> int:
    """Uploads waiting for a channel that is not signed in at all (removed)."""
    return (
        session.scalar(
            select(func.count(Item.id))
            .join(Upload)
            .where(
                Item.state == State.PENDING.value,
                Item.phase == Phase.UPLOAD.value,
                Upload.channel_id.not_in(select(Channel.id)),
            )
        )
        or 0
    )


def awaiting_approval(session: Session) -> int:
    return (
        session.scalar(
            select(func.count(Item.id))
            .join(Job)
            .where(
                Item.state == State.PENDING.value,
                Item.phase == Phase.APPROVAL.value,
                Job.state.not_in((State.CANCELED.value, State.CANCELING.value)),
            )
        )
        or 0
    )


def finish_upload(
    session: Session,
    claim: UploadClaim,
    kind: str,
    *,
    message: str = "",
    status: str = "",
    until: datetime | None = None,
) -> str:
    """Record how an upload attempt ended; returns the item's new state.

    kind: done | wait (pending until ``until``: quota) | hold (pending: the channel must be
    signed in) | retry (pending until ``until``) | failed | stopped | canceled.
    """
    item = session.get(Item, claim.item_id)
    execution = session.get(Execution, claim.execution_id)
    assert item is not None and execution is not None
    upload = item.upload_to(claim.target)
    assert upload is not None
    now = utcnow()
    if kind in ("done", "failed"):
        if kind == "done":
            upload.status = status or upload.status
        else:
            upload.status = UploadStatus.FAILED.value
            upload.note = message
        others = [u for u in item.uploads if u is not upload and u.status in UNFINISHED]
        failed = [u for u in item.uploads if u.status == UploadStatus.FAILED.value]
        if others:  # the item's next platform's turn
            item.state = transition(State(item.state), State.PENDING, "item").value
            item.stage, item.not_before = "upload", None
            item.error = _failures(failed) or None
        elif failed:
            item.state = transition(State(item.state), State.FAILED, "item").value
            item.error = _failures(failed)
            item.finished_at = now
        else:
            item.state = transition(State(item.state), State.COMPLETING, "item").value
            item.state = transition(State.COMPLETING, State.COMPLETED, "item").value
            item.progress, item.stage, item.not_before = 1.0, None, None
            notes = [u.note for u in item.uploads if u.note]
            item.error = "; ".join(dict.fromkeys([*notes, message] if message else notes)) or None
            item.finished_at = now
    elif kind in ("wait", "hold", "retry", "stopped"):
        item.state = transition(State(item.state), State.PENDING, "item").value
        if kind != "retry":  # a quota wait, a sign-in or a pause is not the upload's failure
            give_back_attempt(item, upload)
        item.not_before = until if kind in ("wait", "retry") else None
        item.error = message or None
        item.stage = "upload"
        if kind == "hold":
            upload.status = UploadStatus.ON_HOLD.value
        elif upload.video_id is None:
            upload.status = UploadStatus.QUEUED.value
    else:  # canceled
        item.state = transition(State(item.state), State.CANCELING, "item").value
        item.state = transition(State.CANCELING, State.CANCELED, "item").value
        item.finished_at = now
    execution.finished_at, execution.error = now, message or None
    execution.outcome = {"done": "completed", "wait": "waiting", "hold": "on hold"}.get(
        kind, kind if kind != "retry" else "failed"
    )
    settle_job(session, claim.job_id)
    return item.state


# --- user actions ----------------------------------------------------------------------------


def _failures(failed: list[Upload]) -> str:
    """What the platforms that refused the video said, each named when there are several."""
    if len(failed) == 1:
        return failed[0].note or ""
    return "; ".join(f"{platform_name(u.destination)}: {u.note}" for u in failed)


def _approval_item(session: Session, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"there is no item {item_id} — `jobs show JOB` lists item IDs")
    if item.state != State.PENDING.value or item.phase != Phase.APPROVAL.value:
        what = "published" if any(u.video_id for u in item.uploads) else item.state
        raise UserError(
            f"item {item_id} (row {item.row_number}) is not awaiting approval (it is {what})"
        )
    return item


def approve(session: Session, item_ids: list[int], actor: str) -> list[int]:
    """Approved items go to the upload queue; returns their jobs."""
    jobs = []
    for item_id in item_ids:
        item = _approval_item(session, item_id)
        item.phase, item.stage = Phase.UPLOAD.value, Phase.UPLOAD.value
        for upload in item.uploads:
            if upload.status == UploadStatus.WAITING.value:
                upload.status = UploadStatus.QUEUED.value
        audit(session, actor, "item.approve", "item", item_id, job=item.job_id)
        jobs.append(item.job_id)
    return jobs


def reject(
    session: Session, item_ids: list[int], actor: str, reason: str, again: bool
) -> tuple[list[Path], list[int]]:
    """Rejected items are skipped — or, with ``again``, rendered anew. Returns their files
    (for the caller to remove once this commits) and their jobs."""
    files: list[Path] = []
    jobs: list[int] = []
    reason = reason.strip() or "no reason given"
    for item_id in item_ids:
        item = _approval_item(session, item_id)
        if again:
            outputs = item.outputs or {}
            files += [Path(outputs[k]) for k in OUTPUT_FILES if outputs.get(k)]
            files += [Path(v) for v in (outputs.get("renditions") or {}).values()]
            item.phase, item.stage, item.outputs, item.progress = Phase.RENDER.value, None, {}, 0.0
            item.output_url = None
            for upload in item.uploads:
                upload.status, upload.rejected_reason = UploadStatus.WAITING.value, reason
            item.error = f"rejected ({reason}) — rendering again"
        else:
            item.state = transition(State.PENDING, State.CANCELED, "item").value
            for upload in item.uploads:
                upload.status, upload.rejected_reason = UploadStatus.REJECTED.value, reason
            item.error = f"rejected: {reason}"
            item.finished_at = utcnow()
        audit(
            session, actor, "item.reject", "item", item_id,
            job=item.job_id, reason=reason, again=again,
        )  # fmt: skip
        settle_job(session, item.job_id)
        jobs.append(item.job_id)
    return files, jobs


def reschedulable(session: Session, item_id: int) -> Upload:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"there is no item {item_id} — `jobs show JOB` lists item IDs")
    if not item.uploads:
        raise UserError(f"item {item_id} (row {item.row_number}) does not publish")
    done = (UploadStatus.PUBLISHED.value, UploadStatus.FAILED.value, UploadStatus.REJECTED.value)
    upload = next((u for u in item.uploads if u.status not in done), None)  # still to go
    if upload is None:
        raise UserError(f"item {item_id} (row {item.row_number}) is already public")
    return upload


def record_reschedule(
    session: Session, item_id: int, publish_at: datetime, actor: str, privacy: str | None
) -> int:
    """Store an item's new publish time (audited); returns its job."""
    upload = reschedulable(session, item_id)
    before = upload.publish_at
    item = session.get(Item, item_id)
    assert item is not None
    for each in item.uploads:  # every platform still to publish moves with it
        if each is upload or each.status not in (
            UploadStatus.PUBLISHED.value,
            UploadStatus.FAILED.value,
            UploadStatus.REJECTED.value,
        ):
            each.publish_at = publish_at
    if upload.video_id is not None:
        upload.status = UploadStatus.SCHEDULED.value
        upload.actual_privacy = privacy or upload.actual_privacy
    item.updated_at = utcnow()  # news for the sheet
    audit(
        session,
        actor,
        "item.reschedule",
        "item",
        item_id,
        job=item.job_id,
        before=before.isoformat() if before else None,
        after=publish_at.isoformat(),
    )
    return item.job_id
