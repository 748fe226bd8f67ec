"""Progress, ETA, workspace statistics, history pruning."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.engine.lock import InstanceLock
from app.paths import AppPaths
from app.services import Services
from app.store import queue, stats
from app.store.models import AuditEntry, Execution, Item, utcnow
from tests.test_engine import add_job

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def workspace(data_dir: Path) -> Iterator[Services]:
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        yield ws


def finish(workspace: Services, outcome: str, seconds: float) -> None:
    """Claim the next item and end it as if its render took ``seconds``."""
    with workspace.db.write() as session:
        claim = queue.claim_next(session, 1)[0]
        execution = session.get(Execution, claim.execution_id)
        assert execution is not None
        execution.started_at = utcnow() - timedelta(seconds=seconds)
        queue.finish_item(session, claim, outcome, error="boom" if outcome == "failed" else None)


def test_progress_counts_and_eta(workspace: Services, tmp_path: Path) -> None:
    job = add_job(workspace, ["a", "b", "c", "d"], tmp_path)
    finish(workspace, "completed", 40)
    finish(workspace, "completed", 20)
    finish(workspace, "failed", 5)
    with workspace.db.read() as session:
        progress = stats.job_progress(session, job, concurrency=1)
    assert progress["percent_complete"] == 75.0
    assert (progress["items_completed"], progress["items_failed"], progress["items_pending"]) == (
        2,
        1,
        1,
    )
    assert progress["seconds_per_item"] == pytest.approx(30.0, abs=0.5)
    assert progress["eta"] is not None  # one item left at ~30 s each


def test_workspace_stats_and_the_command(
    workspace: Services, tmp_path: Path, run_cli: Run, data_dir: Path
) -> None:
    add_job(workspace, ["a", "b"], tmp_path)
    finish(workspace, "completed", 10)
    finish(workspace, "failed", 10)
    with workspace.db.read() as session:
        figures = stats.workspace_stats(session)
    assert figures["jobs_total"] == 1 and figures["jobs_by_state"]["failed"] == 1
    assert (figures["items_completed"], figures["items_failed"], figures["success_rate"]) == (
        1,
        1,
        50.0,
    )
    shown = json.loads(run_cli("stats", "--json").stdout)
    assert shown["engine_running"] is False and shown["success_rate"] == 50.0
    with InstanceLock(data_dir / "engine.lock"):
        assert json.loads(run_cli("stats", "--json").stdout)["engine_running"] is True
    assert "success rate 50.0%" in run_cli("stats").stdout


def test_old_history_is_pruned(workspace: Services, tmp_path: Path, run_cli: Run) -> None:
    add_job(workspace, ["a", "b"], tmp_path)
    finish(workspace, "completed", 10)
    finish(workspace, "completed", 10)
    with workspace.db.write() as session:
        first = session.scalars(select(Execution).order_by(Execution.id)).first()
        assert first is not None
        first.finished_at = utcnow() - timedelta(days=100)
        old = session.scalars(select(AuditEntry)).first()
        assert old is not None
        old.at = utcnow() - timedelta(days=100)
    result = run_cli("history", "prune")
    assert (
        result.stdout.strip() == "Removed 1 attempt records and 1 audit entries older than 90 days."
    )
    with workspace.db.read() as session:
        assert session.scalar(select(func.count(Execution.id))) == 1
        assert session.scalar(select(func.count(Item.id))) == 2  # items themselves stay
