"""Retries (tenacity wait strategies, transient failures only), timeouts and deadlines."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.domain.idea import Idea
from app.domain.retry import RetryError, RetryPolicy, RetryStrategy
from app.engine import rendering, service
from app.engine.retry import retry_delay
from app.engine.service import Engine
from app.paths import AppPaths
from app.pipeline.render import RenderSettings
from app.pipeline.runner import RenderOutcome, RenderTask, run_render
from app.services import Services
from app.store.models import Item, Job
from tests.test_engine import add_job

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.mark.parametrize(
    ("strategy", "delays"),
    [
        (RetryStrategy.FIXED, [30, 30, 30, 30]),
        (RetryStrategy.EXPONENTIAL, [30, 60, 120, 200]),  # capped at max
        (RetryStrategy.LINEAR, [30, 60, 90, 120]),
    ],
)
def test_retry_delays(strategy: RetryStrategy, delays: list[int]) -> None:
    policy = RetryPolicy(strategy, base_seconds=30, max_seconds=200, max_attempts=9)
    assert [retry_delay(policy, n, transient=True) for n in range(1, 5)] == delays


def test_what_is_not_retried() -> None:
    policy = RetryPolicy(RetryStrategy.EXPONENTIAL, max_attempts=3)
    assert retry_delay(policy, 1, transient=False) is None  # the user must fix it
    assert retry_delay(policy, 3, transient=True) is None  # attempts used up
    assert retry_delay(RetryPolicy(RetryStrategy.NONE), 1, transient=True) is None


def test_bad_retry_settings_are_refused() -> None:
    with pytest.raises(RetryError, match="max delay must not be below"):
        RetryPolicy(base_seconds=60, max_seconds=10).checked()
    with pytest.raises(RetryError, match="strategy is none, fixed, exponential or linear"):
        RetryPolicy.from_dict({"strategy": "random"})


@pytest.fixture
def workspace(data_dir: Path) -> Iterator[Services]:
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        ws.settings.set("engine.retry_base_seconds", "1")
        ws.settings.set("engine.retry_strategy", "fixed")
        yield ws


def test_a_crashed_render_is_retried_and_completes(
    workspace: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = rendering.run_render

    def crash_once(task: RenderTask, *args: object, **kwargs: object) -> RenderOutcome:
        calls.append(task.row)
        if len(calls) == 1:
            return RenderOutcome(
                "failed", error="the renderer was stopped by SIGSEGV during encode", transient=True
            )
        return real(task, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rendering, "run_render", crash_once)
    job = add_job(workspace, ["Words to say."], tmp_path / "out")
    events: list[service.EngineEvent] = []
    asyncio.run(
        Engine(workspace, poll_seconds=0.2, on_event=events.append, run_schedules=False).run(
            asyncio.Event(), until_idle=True
        )
    )
    assert calls == [2, 2]
    finished = [e.data for e in events if e.kind == "item_finished"]
    assert finished[0]["state"] == "pending"
    assert finished[0]["error"].endswith("— retrying in 1 s (attempt 2 of 3)")
    with workspace.db.read() as session:
        item = session.scalars(select(Item).where(Item.job_id == job)).one()
        assert (item.state, item.attempts, item.error) == ("completed", 2, None)
        assert [e.outcome for e in item.executions] == ["failed", "completed"]


def test_a_user_fixable_failure_is_not_retried(workspace: Services, tmp_path: Path) -> None:
    job = add_job(workspace, [""], tmp_path / "out")
    asyncio.run(
        Engine(workspace, poll_seconds=0.2, run_schedules=False).run(
            asyncio.Event(), until_idle=True
        )
    )
    with workspace.db.read() as session:
        item = session.scalars(select(Item).where(Item.job_id == job)).one()
        assert (item.state, item.attempts) == ("failed", 1)


def test_items_past_the_deadline_are_skipped_with_the_reason(
    workspace: Services, tmp_path: Path
) -> None:
    job = add_job(workspace, ["One.", "Two."], tmp_path / "out")
    with workspace.db.write() as session:
        stored = session.get(Job, job)
        assert stored is not None
        stored.deadline_minutes = 5
        stored.created_at = stored.created_at - timedelta(minutes=6)
    asyncio.run(
        Engine(workspace, poll_seconds=0.2, run_schedules=False).run(
            asyncio.Event(), until_idle=True
        )
    )
    with workspace.db.read() as session:
        items = session.scalars(select(Item).where(Item.job_id == job)).all()
        assert {i.state for i in items} == {"canceled"}
        assert items[0].error == (
            "skipped: the job's 5-minute processing deadline passed before this item started"
        )
    assert not (tmp_path / "out").exists()


def test_a_render_over_its_time_limit_is_stopped_as_transient(tmp_path: Path) -> None:
    idea = Idea(idea_title="Slow", script_content="A sentence to speak. " * 10)
    task = RenderTask(idea.to_dict(), 2, RenderSettings(), tmp_path / "o", tmp_path / "w")
    outcome = run_render(task, timeout=1.0)
    assert outcome.status == "failed" and outcome.transient
    assert outcome.error == "the render took longer than 1 s and was stopped"
    assert not [p for p in (tmp_path / "o").glob("*") if not p.name.startswith(".")]


def test_deadline_option_on_the_command_line(run_cli: Run, tmp_path: Path) -> None:
    source = tmp_path / "i.csv"
    source.write_text("Title,Script\nOne,Words.\n")
    bad = run_cli("jobs", "create", "--source", str(source), "--deadline", "2000")
    assert bad.returncode == 2 and "deadline: must be from 1 to 1440 minutes" in bad.stderr
    assert run_cli("jobs", "create", "--source", str(source), "--deadline", "30").returncode == 0
