"""/api/v1/jobs: list, create, read, change, delete, act on, bulk, export, progress, items."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from app import ops, queries
from app.api import paging
from app.api.context import Context, context
from app.api.models import (
    Bulk,
    BulkOutcome,
    BulkResult,
    ChangesOut,
    Created,
    ItemOut,
    JobCreate,
    JobDetail,
    JobPage,
    JobPatch,
    JobSummary,
    Progress,
    Result,
)
from app.api.problems import user_error_status
from app.changes import Changes, Done, JobAction
from app.domain.errors import UserError
from app.domain.idea import Priority
from app.domain.output import codec_config
from app.domain.publishing import category_id
from app.domain.states import State
from app.domain.validation import Level
from app.ops.jobs import JobRequest
from app.sources.intake import SourceSpec
from app.store.jobs import JobRow

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
Ctx = Annotated[Context, Depends(context)]
JobId = Annotated[int, Path(ge=1, le=2**62, description="the job's id")]
StateName = Literal[
    "pending", "running", "pausing", "paused", "completing", "completed", "canceling",
    "canceled", "failed",
]  # fmt: skip
EXPORT_TYPES = {"json": "application/json", "csv": "text/csv", "yaml": "application/yaml"}


def summary(row: JobRow) -> JobSummary:
    return JobSummary(
        id=row.id,
        title=row.title,
        state=row.state,
        priority=row.priority,
        items_total=row.items_total,
        items_completed=row.items_completed,
        items_failed=row.items_failed,
        percent_complete=round(row.percent, 1),
        created_at=row.created_at,
        updated_at=row.updated_at,
        next_run=row.next_run,
        schedule=row.schedule or None,
        eta=row.eta,
        publishing=row.publishing,
    )


@router.get("", summary="List jobs", response_model=JobPage)
def list_jobs(
    ctx: Ctx,
    page_size: Annotated[int, Query(ge=1, le=100)] = 25,
    page_token: Annotated[str | None, Query(max_length=500)] = None,
    sort: paging.SortKey = "created_at",
    order: Literal["asc", "desc"] = "desc",
    state: StateName | None = None,
    q: Annotated[str | None, Query(max_length=200, description="words in the title")] = None,
) -> JobPage:
    after = paging.decode(page_token, sort, order) if page_token else None
    if sort == "percent_complete":  # computed from item counts: sorted over the rows
        rows = queries.jobs.job_rows(ctx.workspace)
        if state:
            rows = [r for r in rows if r.state == state]
        if q:
            needle = q.casefold()
            rows = [r for r in rows if needle in r.title.casefold()]
        chosen, last = paging.percent_page(rows, order, page_size, after)
        total = len(rows)
    else:
        chosen, last, total = queries.jobs.job_page(
            ctx.workspace, sort, order == "desc", page_size, after, state, q
        )
    next_token = paging.encode(sort, order, *last) if last else None
    return JobPage(jobs=[summary(r) for r in chosen], total=total, next_page_token=next_token)


def create(ctx: Context, body: JobCreate) -> Created:
    """Create a job as the wizard and `jobs create` do (the compatibility alias uses it too)."""
    publish = dict(body.publish or {})
    if publish.get("category") is not None:
        publish["category"] = category_id(str(publish["category"]))
    output = body.output.config() if body.output else {}
    codec_config(output)
    created = ops.jobs.create_job(
        ctx.workspace,
        JobRequest.of(
            SourceSpec(body.source, tab=body.tab, range=body.range),
            title=body.title,
            priority=Priority(body.priority),
            level=Level(body.level),
            output_config=output,
            style=body.style,
            deadline_minutes=body.deadline_minutes,
            callback_url=body.callback_url,
            scheduling=body.scheduling,
            write_back=body.write_back,
            publish=publish or None,
        ),
    )
    ctx.wake()
    return Created(
        id=created.job_id,
        title=created.title,
        items=created.item_count,
        skipped_rows=[r.row for r in created.report.invalid_rows],
        changes=ChangesOut.of(created.changes),
    )


@router.post("", summary="Create a job from a sheet or file", status_code=201)
def create_job(ctx: Ctx, body: JobCreate) -> Created:
    return create(ctx, body)


@router.get(
    "/export",
    summary="Export jobs as JSON, CSV or YAML",
    response_class=Response,
    responses={200: {"content": {t: {} for t in EXPORT_TYPES.values()}}},
)
def export_jobs(
    ctx: Ctx,
    format: Literal["json", "csv", "yaml"] = "json",
    state: StateName | None = None,
    items: bool = False,
) -> Response:
    text = queries.jobs.export_text(
        ctx.workspace, format, state=State(state) if state else None, items=items
    )
    return Response(text, media_type=EXPORT_TYPES[format])


@router.post("/bulk", summary="One action on many jobs (each its own outcome)")
def bulk(ctx: Ctx, body: Bulk) -> BulkResult:
    done = ops.jobs.jobs_action(ctx.workspace, body.ids, body.action)
    results, changed = [], Changes()
    for job_id, outcome in done.outcomes:
        if isinstance(outcome, Done):
            results.append(BulkOutcome(id=job_id, ok=True, status=200, message=outcome.message))
            changed |= outcome.changes
        else:
            status = user_error_status(outcome) if isinstance(outcome, UserError) else 500
            results.append(BulkOutcome(id=job_id, ok=False, status=status, message=str(outcome)))
    ctx.wake()
    return BulkResult(results=results, changes=ChangesOut.of(changed))


@router.get("/{job_id:int}", summary="One job, with its items and progress")
def get_job(ctx: Ctx, job_id: JobId) -> JobDetail:
    return JobDetail.model_validate(queries.jobs.job(ctx.workspace, job_id))


@router.patch("/{job_id:int}", summary="Change a job's priority or start time")
def patch_job(ctx: Ctx, job_id: JobId, body: JobPatch) -> Result:
    changes = body.model_dump(exclude_none=True)
    done = ops.jobs.edit_job(ctx.workspace, job_id, **changes)
    ctx.wake()
    return Result.of(done)


@router.delete("/{job_id:int}", summary="Delete a finished job (its videos stay)")
def delete_job(ctx: Ctx, job_id: JobId) -> Result:
    return Result.of(ops.jobs.job_action(ctx.workspace, job_id, JobAction.DELETE))


def _act(ctx: Context, job_id: int, action: JobAction) -> Result:
    done = ops.jobs.job_action(ctx.workspace, job_id, action)
    ctx.wake()
    return Result.of(done)


@router.post(
    "/{job_id:int}/pause",
    summary="Pause a job (running items stop at their next stage; a long encode stops at once "
    "unless nearly done)",
)
def pause(ctx: Ctx, job_id: JobId) -> Result:
    return _act(ctx, job_id, JobAction.PAUSE)


@router.post("/{job_id:int}/resume", summary="Resume a paused job")
def resume(ctx: Ctx, job_id: JobId) -> Result:
    return _act(ctx, job_id, JobAction.RESUME)


@router.post("/{job_id:int}/cancel", summary="Cancel a job (running items stop at once)")
def cancel(ctx: Ctx, job_id: JobId) -> Result:
    return _act(ctx, job_id, JobAction.CANCEL)


@router.post("/{job_id:int}/retry", summary="Queue a job's failed items again")
def retry(ctx: Ctx, job_id: JobId) -> Result:
    return _act(ctx, job_id, JobAction.RETRY)


@router.post("/{job_id:int}/execute", summary="Start a waiting job now")
def execute(ctx: Ctx, job_id: JobId) -> Result:
    return _act(ctx, job_id, JobAction.EXECUTE)


@router.get("/{job_id:int}/progress", summary="Items done, failed, pending, skipped; ETA")
def progress(ctx: Ctx, job_id: JobId) -> Progress:
    return Progress(**queries.jobs.job_progress(ctx.workspace, job_id))


@router.get("/{job_id:int}/items", summary="A job's items (one per row)")
def items(ctx: Ctx, job_id: JobId) -> list[ItemOut]:
    return [ItemOut.model_validate(i) for i in queries.jobs.job(ctx.workspace, job_id)["items"]]
