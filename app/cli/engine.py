"""``run --headless`` (the engine as a service) and the job actions pause/resume/cancel/retry."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from contextlib import closing
from typing import Any

from app import ops, queries
from app.cli.common import add_id_actions, printable
from app.engine.events import EngineEvent, EventKind
from app.engine.lock import InstanceLock
from app.paths import AppPaths
from app.services import Services


def add_run_parser(commands: Any) -> None:
    run = commands.add_parser("run", help="run the engine (with --headless: without a window)")
    run.add_argument("--headless", action="store_true", help="no window: a service for servers")
    run.add_argument("--until-idle", action="store_true", help="exit when no work is left")
    run.add_argument(
        "--api", action="store_true", help="serve the local REST API too (as api.enabled does)"
    )
    run.set_defaults(handler=cmd_run)


def add_job_actions(job_commands: Any) -> None:
    add_id_actions(
        job_commands,
        (
            (
                "pause",
                "pause a job (running items stop at their next stage; an encode stops at once "
                "unless nearly done)",
            ),
            ("resume", "resume a paused job"),
            ("cancel", "cancel a job (running items are stopped at once)"),
            ("retry", "queue a job's failed items again"),
        ),
        cmd_job_action,
    )


def cmd_job_action(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        print(ops.jobs.job_action(workspace, args.id, args.action))
    return 0


def _print_event(event: EngineEvent) -> None:
    where = f"job {event.job_id} row {event.row}"
    if event.kind == EventKind.ITEM_STARTED:
        verb = "uploading" if event.data.get("stage") == "upload" else "started"
        print(f"{where}: {verb} (attempt {event.data['attempt']})", flush=True)
    elif event.kind == EventKind.ITEM_FINISHED:
        state = event.data["state"]
        detail = f" — {event.data['error']}" if event.data.get("error") else ""
        if event.data.get("outputs"):
            detail = f" → {event.data['outputs']['video']}"
        if event.data.get("phase") in ("approval", "upload") and state == "pending":
            state = "rendered, " + (
                "awaiting approval" if event.data["phase"] == "approval" else "uploading next"
            )
        if event.data.get("upload") and event.data.get("destination"):  # one platform's post
            from app.domain.publishing import platform_name

            where += f" {platform_name(str(event.data['destination']))}"
            if event.data.get("url") and event.data["upload"] in ("published", "scheduled",
                                                                   "private"):  # fmt: skip
                state, detail = event.data["upload"], f" → {event.data.get('url')}"
        elif event.data.get("upload") and state == "completed":
            state, detail = event.data["upload"], f" → {event.data.get('url')}"
        print(f"{where}: {state}{printable(detail)}", flush=True)
    elif event.kind == EventKind.CHANNEL_ON_HOLD:
        print(f"{where}: on hold — {printable(event.data['message'])}", flush=True)


def cmd_run(args: argparse.Namespace, paths: AppPaths) -> int:
    if not args.headless:
        from app.ui.launch import run_gui

        return run_gui(paths)
    with (
        InstanceLock(paths.data_dir / "engine.lock"),
        closing(Services(paths, front_end="service")) as workspace,
    ):
        print(f"Cadence engine running on {paths.data_dir} — Ctrl+C to stop.", flush=True)
        api = args.api or workspace.settings.flag("api.enabled")
        asyncio.run(_serve(workspace, args.until_idle, api))
        print("Cadence engine stopped.", flush=True)
        if args.until_idle:
            for line in [*waiting_for_time(workspace), *waiting_for_people(workspace)]:
                print(line, flush=True)
    return 0


def waiting_for_time(workspace: Services) -> list[str]:
    """What waits on a time the run did not wait for, and until when (local time)."""
    from app import queries

    found = queries.dashboard.waits(workspace)
    lines = [
        f"Job {job_id} “{title}”: {count} item{' waits' if count == 1 else 's wait'} until "
        f"{when.astimezone():%a %d %b %Y %H:%M %Z} — the next run (or the window) goes on then."
        for job_id, title, when, count in found[:5]
    ]
    if len(found) > 5:
        lines.append(f"…and {len(found) - 5} more jobs wait (`jobs list` shows them).")
    return lines


def waiting_for_people(workspace: Services) -> list[str]:
    """What the engine could not finish without someone: approvals and sign-ins."""
    state = queries.dashboard.publishing_state(workspace)
    lines = []
    approval = state["awaiting_approval"]
    if approval:
        lines.append(
            f"{approval} item{'s' if approval != 1 else ''} await{'s' if approval == 1 else ''} "
            "your approval — `items approve ID…` (IDs in `jobs show JOB`) or the window."
        )
    for title, why, count in state["held"]:
        lines.append(f"{count} upload{'s' if count != 1 else ''} to {title} on hold: {why}")
    if state["unsigned"]:
        lines.append(
            f"{state['unsigned']} uploads wait for a channel that is not signed in — "
            "`auth login --youtube`"
        )
    return lines


async def _serve(workspace: Services, until_idle: bool, api: bool = False) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    if sys.platform != "win32":
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
    from app.api.server import LocalApi  # FastAPI is imported only when it serves
    from app.engine.service import Engine  # APScheduler and the renderer: only to run

    local: LocalApi | None = None

    def told(event: EngineEvent) -> None:
        _print_event(event)
        if local is not None:
            local.engine_event(event)

    engine = Engine(workspace, on_event=told)
    if api:
        local = LocalApi(workspace.paths, wake=engine.wake_from_thread, engine_running=lambda: True)
        address = await asyncio.to_thread(local.start)
        print(f"API on {address}/api/v1 (documentation: {address}/docs)", flush=True)
    try:
        await engine.run(stopping, until_idle=until_idle)
    finally:
        if local is not None:
            await asyncio.to_thread(local.stop)
    if engine.write_back_left:
        why = engine.writeback.last_error or "Google's quota or the network"
        print(
            f"{engine.write_back_left} row status{'es' if engine.write_back_left != 1 else ''} "
            f"could not be written to the sheet yet ({printable(why)}) — the next run (or the "
            "window) writes them.",
            flush=True,
        )
