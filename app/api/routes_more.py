"""/api/v1: items, schedules, calendar, sources, stats, health, settings, events."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse

from app import __version__, ops, queries
from app.api.context import Context, context
from app.api.models import (
    ChangesOut,
    Health,
    Reject,
    Reschedule,
    Result,
    ScheduleCreate,
    ScheduleCreated,
    ScheduleOut,
    SchedulePatch,
    SettingsPatch,
    SettingValue,
    Source,
    SourceReport,
    Stats,
)
from app.domain.dates import out_of_range
from app.domain.errors import DraftError, NotFound
from app.domain.idea import Priority
from app.domain.validation import Level
from app.queries.calendar import Calendar
from app.settings import OPTIONS, Kind, SettingError, option
from app.sources.intake import SourceSpec

router = APIRouter(prefix="/api/v1")
Ctx = Annotated[Context, Depends(context)]
Id = Annotated[int, Path(ge=1, le=2**62)]
KEEPALIVE = 15.0  # seconds between comments on a quiet event stream


# Items


@router.post("/items/{item_id:int}/approve", tags=["items"], summary="Let a rendered video upload")
def approve(ctx: Ctx, item_id: Id) -> Result:
    done = ops.publishing.approve(ctx.workspace, [item_id])
    ctx.wake()
    return Result.of(done)


@router.post("/items/{item_id:int}/reject", tags=["items"], summary="Skip (or render again)")
def reject(ctx: Ctx, item_id: Id, body: Reject) -> Result:
    done = ops.publishing.reject(ctx.workspace, [item_id], body.reason, body.render_again)
    ctx.wake()
    return Result.of(done)


@router.post("/items/{item_id:int}/reschedule", tags=["items"], summary="A new publish time")
def reschedule(ctx: Ctx, item_id: Id, body: Reschedule) -> Result:
    return Result.of(ops.publishing.reschedule(ctx.workspace, item_id, body.publish_at))


# Schedules


def _schedule(ctx: Context, schedule_id: int) -> ScheduleOut:
    for row in queries.schedules.schedule_rows(ctx.workspace):
        if row["id"] == schedule_id:
            return ScheduleOut.model_validate(row)
    raise NotFound(f"there is no schedule {schedule_id}")


@router.get("/schedules", tags=["schedules"], summary="Every schedule, its next and last run")
def list_schedules(ctx: Ctx) -> list[ScheduleOut]:
    return [
        ScheduleOut.model_validate(row) for row in queries.schedules.schedule_rows(ctx.workspace)
    ]


@router.post("/schedules", tags=["schedules"], summary="Add a schedule", status_code=201)
def add_schedule(ctx: Ctx, body: ScheduleCreate) -> ScheduleCreated:
    done = ops.schedules.add_schedule(
        ctx.workspace,
        SourceSpec(body.source, tab=body.tab, range=body.range),
        name=body.name,
        expression=body.expression,
        timezone=body.timezone,
        topic=body.topic,
        priority=Priority(body.priority),
        level=Level(body.level),
        output_config=body.output.config() if body.output else None,
        style=body.style,
        start_at=body.start_at,
        end_at=body.end_at,
    )
    ctx.wake()
    return ScheduleCreated(
        id=done.schedule_id,
        message=done.message,
        next_runs=done.runs,
        valid_rows=len(done.report.valid_rows),
        changes=ChangesOut.of(done.changes),
    )


@router.get("/schedules/{schedule_id:int}", tags=["schedules"], summary="One schedule")
def get_schedule(ctx: Ctx, schedule_id: Id) -> ScheduleOut:
    return _schedule(ctx, schedule_id)


@router.patch("/schedules/{schedule_id:int}", tags=["schedules"], summary="Change a schedule")
def patch_schedule(ctx: Ctx, schedule_id: Id, body: SchedulePatch) -> Result:
    changes = body.model_dump(exclude_none=True)
    if "topic" in changes:
        changes["topic_template"] = changes.pop("topic")
    done = ops.schedules.edit_schedule(ctx.workspace, schedule_id, **changes)
    ctx.wake()
    return Result.of(done)


@router.delete("/schedules/{schedule_id:int}", tags=["schedules"], summary="Remove a schedule")
def remove_schedule(ctx: Ctx, schedule_id: Id) -> Result:
    return Result.of(ops.schedules.schedule_action(ctx.workspace, schedule_id, "remove"))


@router.post(
    "/schedules/{schedule_id:int}/{action}", tags=["schedules"], summary="Pause, resume, run"
)
def act_on_schedule(ctx: Ctx, schedule_id: Id, action: Literal["pause", "resume", "run"]) -> Result:
    done = ops.schedules.schedule_action(ctx.workspace, schedule_id, action)
    ctx.wake()
    return Result.of(done)


@router.get("/schedules/{schedule_id:int}/preview", tags=["schedules"], summary="Its next runs")
def preview(ctx: Ctx, schedule_id: Id, count: Annotated[int, Query(ge=1, le=100)] = 5) -> list[str]:
    return [
        t.isoformat() for t in queries.schedules.schedule_preview(ctx.workspace, schedule_id, count)
    ]


# Calendar


Channel = Annotated[str, Query(max_length=100, description="a channel id (empty: all)")]
Days = Annotated[int, Query(ge=1, le=366)]


def _day(value: date | None, name: str) -> date | None:
    """A date from the query, within the years Cadence plans for (a 422 naming it)."""
    why = value and out_of_range(value)
    if why:
        raise DraftError(name, why, where="query")
    return value


@router.get("/calendar", tags=["calendar"], summary="A day, week or month of the calendar")
def calendar(
    ctx: Ctx,
    view: Literal["day", "week", "month"] = "week",
    anchor: date | None = None,
    channel: Channel = "",
) -> dict[str, Any]:
    planner = Calendar(ctx.workspace)
    period, found = planner.view(view, _day(anchor, "anchor") or date.today(), channel)
    tz = planner.config(channel).tz
    return {**period.to_dict(tz), "conflicts": [c.to_dict(tz) for c in found]}


@router.get("/calendar/conflicts", tags=["calendar"], summary="Rules broken on the calendar")
def conflicts(ctx: Ctx, first: date | None = None, days: Days = 30) -> list[dict[str, Any]]:
    planner = Calendar(ctx.workspace)
    tz = planner.config().tz
    return [c.to_dict(tz) for c in planner.conflicts(_day(first, "first"), days)]


@router.get("/calendar/suggestions", tags=["calendar"], summary="Free slots that keep the rules")
def suggestions(
    ctx: Ctx,
    count: Annotated[int, Query(ge=1, le=100)] = 5,
    first: date | None = None,
    days: Days = 30,
    channel: Channel = "",
) -> list[str]:
    planner = Calendar(ctx.workspace)
    tz = planner.config(channel).tz
    found = planner.suggest(count, _day(first, "first"), days, channel)
    return [t.astimezone(tz).isoformat() for t in found]


@router.get("/calendar/gaps", tags=["calendar"], summary="Days with nothing to publish")
def gaps(ctx: Ctx, first: date | None = None, days: Days = 30, channel: Channel = "") -> list[str]:
    return [
        d.isoformat() for d in Calendar(ctx.workspace).gaps(_day(first, "first"), days, channel)
    ]


# Sources, stats, health


@router.post("/sources/validate", tags=["sources"], summary="Check a sheet or file, row by row")
def validate(ctx: Ctx, body: Source) -> SourceReport:
    report = queries.sources.check_source(
        ctx.workspace, SourceSpec(body.source, tab=body.tab, range=body.range), Level(body.level)
    )
    rows = [r.to_dict() for r in report.rows]
    rows += [{"row": n, "skipped": "empty row"} for n in report.empty_rows]
    rows.sort(key=lambda r: int(r["row"]))
    return SourceReport(
        valid=len(report.valid_rows),
        invalid=len(report.invalid_rows),
        all_valid=report.all_valid,
        rows=rows,
    )


@router.get("/stats", tags=["stats"], summary="Totals, success rate, throughput")
def stats(ctx: Ctx) -> Stats:
    overview = queries.dashboard.overview(ctx.workspace)
    return Stats.model_validate(
        {
            **overview["totals"],
            "engine_running": ctx.engine_running(),
            "next_runs": [{"at": at, "schedule": name} for at, name in overview["next_runs"]],
        }
    )


@router.get("/health", tags=["health"], summary="Is Cadence well? (no token needed)")
async def health(ctx: Ctx) -> Health:
    """On the server's loop, its one read in a thread of the loop's own: busy request
    threads (every one of them taken by slow requests) never hold up the answer."""
    import platform

    try:
        await asyncio.to_thread(ctx.workspace.db.revision)
        database: Literal["ok", "unavailable"] = "ok"
    except Exception:  # any failure to read is what this reports, not a reason to fail
        database = "unavailable"
    try:
        free: int | None = shutil.disk_usage(ctx.workspace.paths.data_dir).free
    except OSError:
        free = None
    engine: Literal["running", "stopped"] = "running" if ctx.engine_running() else "stopped"
    return Health(
        status="ok" if database == "ok" else "degraded",
        engine=engine,
        database=database,
        disk_free_bytes=free,
        versions={"cadence": __version__, "python": platform.python_version(), "api": "1"},
    )


# Settings


def _shown(ctx: Context) -> dict[str, SettingValue]:
    settings = ctx.workspace.settings
    return {
        o.key: ("(set)" if settings.get(o.key) else "")
        if o.kind == Kind.SECRET
        else settings.get(o.key)
        for o in OPTIONS
    }


@router.get("/settings", tags=["settings"], summary="Every setting (secrets only as set or not)")
def get_settings(ctx: Ctx) -> dict[str, SettingValue]:
    return _shown(ctx)


@router.patch("/settings", tags=["settings"], summary="Change settings (not secrets)")
def patch_settings(ctx: Ctx, body: SettingsPatch) -> Result:
    for key in body.values:
        opt = option(key)
        if opt.kind == Kind.SECRET:
            raise SettingError(f"{key} is a secret — set it with the CLI or the window")
        if key.startswith("api."):
            raise SettingError(f"{key} is changed in the window or the CLI, not through the API")
    done = ops.settings.save_settings(ctx.workspace, dict(body.values))
    return Result.of(done)


# Events


@router.get(
    "/events",
    tags=["events"],
    summary="Server-Sent Events: job_changed, item_progress, item_started, item_finished",
    response_class=StreamingResponse,
)
async def events(ctx: Ctx, request: Request) -> StreamingResponse:
    queue = ctx.hub.subscribe()

    async def stream() -> AsyncIterator[str]:
        try:
            yield ": connected\n\n"
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: {event.kind}\ndata: {json.dumps(event.data)}\n\n"
        finally:
            ctx.hub.unsubscribe(queue)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )
