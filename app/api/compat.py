"""The product description's ``/api/bulk-jobs`` paths, answering in its envelope
``{"success": true, "data": …}`` — the same operations as ``/api/v1/jobs``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from app import ops, queries
from app.api import routes_jobs
from app.api.context import Context, context
from app.api.models import JobCreate
from app.changes import JobAction

router = APIRouter(prefix="/api/bulk-jobs", tags=["compatibility"])
Ctx = Annotated[Context, Depends(context)]
JobId = Annotated[int, Path(ge=1, le=2**62)]


def ok(data: Any) -> dict[str, Any]:
    return {"success": True, "data": data}


@router.get("", summary="List jobs (newest first)")
def list_jobs(
    ctx: Ctx,
    page_size: Annotated[int, Query(ge=1, le=100)] = 25,
    page_token: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    found = routes_jobs.list_jobs(ctx, page_size, page_token, "created_at", "desc", None, None)
    return ok(found.model_dump(mode="json"))


@router.post("", summary="Create a job", status_code=201)
def create(ctx: Ctx, body: JobCreate) -> dict[str, Any]:
    return ok(routes_jobs.create(ctx, body).model_dump(mode="json"))


@router.get("/{job_id}", summary="One job")
def get_job(ctx: Ctx, job_id: JobId) -> dict[str, Any]:
    return ok(queries.jobs.job(ctx.workspace, job_id))


@router.get("/{job_id}/progress", summary="Progress: items, timing with ETA, rate limiting")
def progress(ctx: Ctx, job_id: JobId) -> dict[str, Any]:
    return ok(queries.jobs.job_progress(ctx.workspace, job_id))


@router.post("/{job_id}/{action}", summary="Pause, resume, cancel, retry or execute a job")
def act(
    ctx: Ctx, job_id: JobId, action: Literal["pause", "resume", "cancel", "retry", "execute"]
) -> dict[str, Any]:
    done = ops.jobs.job_action(ctx.workspace, job_id, JobAction(action))
    ctx.wake()
    return ok({"message": done.message, "changes": done.changes.to_dict()})


@router.delete("/{job_id}", summary="Delete a finished job")
def delete(ctx: Ctx, job_id: JobId) -> dict[str, Any]:
    done = ops.jobs.job_action(ctx.workspace, job_id, JobAction.DELETE)
    return ok({"message": done.message, "changes": done.changes.to_dict()})
