"""An idle engine costs next to nothing: it skips its queries until something is committed,
something wakes it, or the next waiting item's time comes — and then it does not wait."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from app.engine import dispatch, rendering, service
from app.paths import AppPaths
from app.pipeline.runner import RenderOutcome
from app.services import Services
from app.store import queue
from app.store.models import Item, utcnow
from tests.test_scheduling import add_job, idea


@pytest.fixture
def workspace(data_dir: Path) -> Iterator[Services]:
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        (data_dir / "out").mkdir()
        ws.settings.set("output.folder", str(data_dir / "out"))
        yield ws


class Running:
    """A real engine on its own loop in a thread, with stand-in renders that note their start."""

    def __init__(self, workspace: Services, monkeypatch: pytest.MonkeyPatch) -> None:
        self.passes = 0
        self.started: dict[int, float] = {}  # job id → when its render began
        real_claim = queue.claim_next

        def counted(*args: Any, **kwargs: Any) -> list[queue.Claim]:
            self.passes += 1
            return real_claim(*args, **kwargs)

        def render(task: Any, _progress: Any, **_kwargs: Any) -> RenderOutcome:
            self.started.setdefault(int(task.out_dir.name.split("-")[1]), time.time())
            return RenderOutcome("completed", None, None)

        monkeypatch.setattr(queue, "claim_next", counted)
        monkeypatch.setattr(rendering, "run_render", render)
        monkeypatch.setattr(dispatch, "HEARTBEAT", 3600.0)  # only commits and due times count
        self.engine = service.Engine(workspace, poll_seconds=0.05, run_schedules=False)
        self.loop = asyncio.new_event_loop()
        self.stopping = asyncio.Event()
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(self.engine.run(self.stopping),)
        )

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(10)
        self.loop.close()

    def wait_for(self, job_id: int, seconds: float = 5.0) -> float:
        deadline = time.monotonic() + seconds
        while job_id not in self.started:
            assert time.monotonic() < deadline, f"job {job_id} never started"
            time.sleep(0.01)
        return self.started[job_id]


def test_an_idle_engine_skips_its_queries_until_something_is_committed(
    workspace: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Running(workspace, monkeypatch) as running:
        time.sleep(0.3)
        first = running.passes
        time.sleep(1.0)  # twenty polls with nothing committed
        assert first >= 1
        assert running.passes == first
        made = time.time()
        job = add_job(workspace, [idea(1)])  # another connection commits: the next poll sees it
        assert running.wait_for(job) - made < 1.0


def test_an_idle_engine_wakes_when_a_waiting_item_is_due(
    workspace: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = add_job(workspace, [idea(1)])
    due = utcnow() + timedelta(seconds=1.2)
    with workspace.db.write() as session:
        session.execute(update(Item).where(Item.job_id == job).values(not_before=due))
    with Running(workspace, monkeypatch) as running:
        began = running.wait_for(job)
    assert began >= due.timestamp() - 0.01  # not before its time
    assert began - due.timestamp() < 0.5  # and not a heartbeat later
