"""Every operation says, in its `Done`, what it changed — the window refreshes only that, the
API answers with it. One test per subject: jobs, schedules, publishing, settings, calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app import ops, queries
from app.changes import BulkDone, Changes, Done
from app.domain.errors import UserError
from app.ops.jobs import CreatedJob, JobRequest
from app.paths import DEMO_SHEET
from app.services import Services
from app.sources.intake import SourceSpec
from app.store.models import AuditEntry, Channel, Item, Job, Schedule
from tests.youtube_helpers import publishing_job

DEMO = SourceSpec(str(DEMO_SHEET))


def _actions(workspace: Services) -> list[str]:
    with workspace.db.read() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_job_operations_report_the_jobs_they_change(workspace: Services, tmp_path: Path) -> None:
    created = ops.jobs.create_job(workspace, JobRequest(DEMO, title="Week 1"))
    assert isinstance(created, CreatedJob) and created.changes == Changes.of(jobs=[created.job_id])
    assert created.message == f"Created job {created.job_id} “Week 1” with 8 items."

    # A job and the schedule that repeats it: one request, one transaction, both reported.
    repeated = ops.jobs.create_job(
        workspace,
        JobRequest(DEMO, title="Weekly", repeat={"expression": "0 9 * * mon", "timezone": "UTC"}),
    )
    assert repeated.schedule_id is not None
    assert repeated.changes == Changes.of(jobs=[repeated.job_id], schedules=[repeated.schedule_id])
    with workspace.db.read() as session:
        job = session.get(Job, repeated.job_id)
        assert job is not None and job.schedule_id == repeated.schedule_id
        assert session.get(Schedule, repeated.schedule_id) is not None

    job_id = created.job_id
    assert ops.jobs.edit_job(workspace, job_id, priority="high").changes == Changes.of(
        jobs=[job_id]
    )
    assert ops.jobs.job_action(workspace, job_id, "pause").changes == Changes.of(jobs=[job_id])
    bulk = ops.jobs.jobs_action(workspace, [job_id, repeated.job_id, 999], "pause")
    assert isinstance(bulk, BulkDone)
    assert bulk.changes == Changes.of(jobs=[repeated.job_id])  # the refused ones changed nothing
    assert [outcome_id for outcome_id, _ in bulk.outcomes] == [job_id, repeated.job_id, 999]

    out = tmp_path / "jobs.csv"
    exported = ops.jobs.export(workspace, "csv", out)
    assert not exported.changes and exported.count == 2 and out.read_text().startswith("id,")

    ops.jobs.job_action(workspace, job_id, "cancel")
    deleted = ops.jobs.job_action(workspace, job_id, "delete")
    assert deleted.changes == Changes.of(jobs=[job_id])
    assert queries.jobs.job_rows(workspace, [job_id]) == []


def test_the_demo_job_is_made_paused_in_one_transaction_once(workspace: Services) -> None:
    demo = ops.jobs.ensure_demo(workspace)
    assert demo is not None and demo.changes == Changes.of(jobs=[demo.job_id])
    assert queries.jobs.job(workspace, demo.job_id)["state"] == "paused"
    assert ops.jobs.ensure_demo(workspace) is None
    ops.jobs.jobs_action(workspace, [demo.job_id], "cancel")
    ops.jobs.job_action(workspace, demo.job_id, "delete")
    assert ops.jobs.ensure_demo(workspace) is None  # deleted stays deleted


def test_schedule_operations_report_the_schedule_and_the_job_a_run_makes(
    workspace: Services,
) -> None:
    added = ops.schedules.add_schedule(workspace, DEMO, name="Mornings", expression="0 9 * * *")
    sid = added.schedule_id
    assert added.changes == Changes.of(schedules=[sid]) and len(added.runs) == 3
    assert len(added.report.valid_rows) == 8
    edited = ops.schedules.edit_schedule(workspace, sid, name="Early mornings")
    assert edited.changes == Changes.of(schedules=[sid])
    for action in ("pause", "resume"):
        done = ops.schedules.schedule_action(workspace, sid, action)
        assert done.changes == Changes.of(schedules=[sid])
    ran = ops.schedules.schedule_action(workspace, sid, "run")
    [job_id] = ran.changes.jobs
    assert ran.changes == Changes.of(jobs=[job_id], schedules=[sid])
    assert _actions(workspace)[-1] == "schedule.ran"  # audited with the job it made
    paused = ops.schedules.schedule_action(workspace, sid, "pause")
    # The jobs it made show whether their schedule runs: they are reported too.
    assert paused.changes == Changes.of(jobs=[job_id], schedules=[sid])
    removed = ops.schedules.schedule_action(workspace, sid, "remove")
    assert removed.changes == Changes.of(jobs=[job_id], schedules=[sid])
    with pytest.raises(UserError, match="not something a schedule can do"):
        ops.schedules.schedule_action(workspace, sid, "explode")


def _awaiting_approval(workspace: Services, tmp_path: Path) -> tuple[int, list[int]]:
    """A publishing job whose two items were rendered and wait for the user's approval."""
    with workspace.db.write() as session:
        session.merge(Channel(id="UC_x5XG1OV2P6uZZ5FSM9Ttw", title="Science", handle="@sci"))
    job_id = publishing_job(workspace, tmp_path, rows=2, approve=True)
    with workspace.db.write() as session:
        items = list(session.scalars(select(Item).where(Item.job_id == job_id)))
        for item in items:
            item.phase = "approval"
        return job_id, [item.id for item in items]


def test_publishing_operations_report_their_items_and_jobs(
    workspace: Services, tmp_path: Path
) -> None:
    job_id, (first, second) = _awaiting_approval(workspace, tmp_path)
    approved = ops.publishing.approve(workspace, [first])
    assert approved.changes == Changes.of(jobs=[job_id], items=[first])
    rejected = ops.publishing.reject(workspace, [second], "off topic")
    assert rejected.changes == Changes.of(jobs=[job_id], items=[second])
    later = datetime.now(UTC) + timedelta(days=3)
    moved = ops.publishing.reschedule(workspace, first, later)
    assert moved.changes == Changes.of(jobs=[job_id], items=[first])
    assert "for its upload" in moved.message
    with pytest.raises(UserError, match="must be in the future"):
        ops.publishing.reschedule(workspace, first, datetime.now(UTC) - timedelta(hours=1))


def test_settings_operations_report_the_keys_they_change(workspace: Services) -> None:
    saved = ops.settings.save_settings(workspace, {"speech.rate": 180, "notify.quiet": True})
    assert saved.changes == Changes.of(settings=["speech.rate", "notify.quiet"])
    rules = ops.calendar.set_config(workspace, "", {"max_per_day": 2, "timezone": "UTC"})
    assert rules.changes == Changes.of(settings=["calendar.default"])
    assert rules.config.max_per_day == 2
    style = ops.jobs.save_style(workspace, "night-science", "modern", {})
    assert style.changes == Changes.of(settings=["render.style"]) and style.path.is_file()
    assert "night-science" in queries.settings.style_names(workspace)


def test_calendar_moves_report_the_job_and_its_items(workspace: Services) -> None:
    start = datetime.now(UTC) + timedelta(days=2)
    created = ops.jobs.create_job(
        workspace, JobRequest(DEMO, title="Later", scheduling={"start_at": start.isoformat()})
    )
    when = (start + timedelta(days=1)).replace(second=0, microsecond=0)
    moved: Done = ops.calendar.move(workspace, f"job:{created.job_id}", when)
    with workspace.db.read() as session:
        items = set(session.scalars(select(Item.id).where(Item.job_id == created.job_id)))
    assert moved.changes == Changes.of(jobs=[created.job_id], items=items)
    assert queries.jobs.job(workspace, created.job_id)["scheduling"]["start_at"] == when.isoformat()


def test_a_job_request_keeps_delivery_apart_from_the_codecs(workspace: Services) -> None:
    request = JobRequest.of(
        DEMO, output_config={"resolution": "720p", "folder": "", "storage": "none", "needs": ""}
    )
    assert request.output == {"resolution": "720p"}
    assert request.delivery.storage == "none" and request.delivery.folder is None
    assert request.output_config == {"resolution": "720p", "storage": "none"}
    stored = ops.jobs.create_job(workspace, request)
    assert queries.jobs.job(workspace, stored.job_id)["output"] == request.output_config


def test_account_operations_report_the_account_and_the_channels(
    workspace: Services, google: Any
) -> None:
    from tests.youtube_helpers import sign_in_channel

    channel = sign_in_channel(workspace, google)
    removed = ops.accounts.remove_channel(workspace, channel)
    assert removed.changes == Changes.of(settings=["google.channels"])
    assert removed.message.startswith("Removed the channel") and not workspace.channels.records()
    with pytest.raises(UserError):  # gone: a second removal says so
        ops.accounts.remove_channel(workspace, channel)
    nobody = ops.accounts.sign_out(workspace)  # no account signed in: nothing changed
    assert (nobody.message, nobody.changes) == ("Not signed in to Google.", Changes())
