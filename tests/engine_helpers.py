"""Jobs for engine tests and benchmarks, without pytest: a render's child process imports
its parent's main module, and a benchmark's should cost no more to import than the app's."""

from __future__ import annotations

from pathlib import Path

from app.domain.idea import Idea, Priority
from app.domain.job import JobDraft
from app.domain.validation import Level, RowReport
from app.services import Services
from app.store import jobs as job_store

FAST = {"resolution": "720p", "optimize": "speed"}


def add_job(
    workspace: Services,
    scripts: list[str],
    folder: Path,
    title: str = "Batch",
    priority: str = "normal",
) -> int:
    rows = [
        RowReport(n + 2, f"Idea {n + 2}", Idea(idea_title=f"Idea {n + 2}", script_content=script))
        for n, script in enumerate(scripts)
    ]
    draft = JobDraft(
        title=title,
        source_kind="csv",
        source_location="/tmp/x.csv",
        output_config={**FAST, "folder": str(folder)},
        validation_level=Level.PERMISSIVE,
        priority=Priority(priority),
    )
    with workspace.db.write() as session:
        return job_store.create_job(session, draft, rows, "test")


def states(workspace: Services, job_id: int) -> tuple[str, list[str]]:
    with workspace.db.read() as session:
        job = job_store.get_job(session, job_id)
        assert job is not None
        return job.state, [i.state for i in job.items]
