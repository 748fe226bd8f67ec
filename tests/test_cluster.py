"""Rendering on a real Dask cluster on loopback: a `dask scheduler` and two `cadence worker`
processes, started here. The desktop keeps the database; the workers only render."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.engine.service import Engine, EngineEvent
from app.paths import AppPaths
from app.store.models import Execution, Item
from app.workspace import Workspace
from tests.conftest import ROOT
from tests.test_engine import add_job, states

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow


@dataclass
class Cluster:
    address: str
    workers: list[subprocess.Popen[str]]
    folders: list[Path]


def _wait_for_workers(address: str, count: int, seconds: float = 90) -> None:
    from distributed import Client

    with Client(address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(count, timeout=seconds)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    workers: list[subprocess.Popen[str]] = []
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        folders = [tmp_path / f"worker-{n}" for n in (1, 2)]
        for n, folder in enumerate(folders, 1):
            env = {**os.environ, "CADENCE_WORKER_DIR": str(folder)}
            with (tmp_path / f"worker-{n}.log").open("w") as log:  # a pipe nobody reads fills up
                workers.append(subprocess.Popen(
                    [sys.executable, str(ROOT / "main.py"), "worker", address, "--name", f"w{n}"],
                    env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
                ))  # fmt: skip
        _wait_for_workers(address, 2)
        yield Cluster(address, workers, folders)
    finally:
        for process in [*workers, scheduler]:
            process.send_signal(signal.SIGTERM)
        for process in [*workers, scheduler]:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def workspace(data_dir: Path) -> Iterator[Workspace]:
    with closing(Workspace(AppPaths.resolve(data_dir))) as ws:
        yield ws


def run_engine(workspace: Workspace, events: list[EngineEvent], **kwargs: object) -> Engine:
    engine = Engine(workspace, poll_seconds=0.2, on_event=events.append, **kwargs)  # type: ignore[arg-type]
    asyncio.run(engine.run(asyncio.Event(), until_idle=True))
    return engine


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


SCRIPTS = [f"Video number {n}. A short script for the cluster." for n in range(1, 5)]


def test_a_job_renders_across_both_workers_like_it_does_locally(
    cluster: Cluster, workspace: Workspace, tmp_path: Path
) -> None:
    workspace.settings.set("render.cluster", cluster.address)
    job = add_job(workspace, SCRIPTS, tmp_path / "remote")
    events: list[EngineEvent] = []
    engine = run_engine(workspace, events, max_concurrent=2)
    assert engine.cluster is not None
    assert states(workspace, job) == ("completed", ["completed"] * 4)
    remote = digests(tmp_path / "remote")
    assert len([n for n in remote if n.endswith(".mp4")]) == 4
    assert not [n for n in remote if n.startswith(".")]  # no partial file left behind
    # Both workers rendered.
    assert len(engine.cluster.placed) == 4 and len(set(engine.cluster.placed.values())) == 2
    # Every worker's copy of the files is gone once fetched.
    assert all(not any((f / "out").iterdir()) for f in cluster.folders)
    stages = {e.data["stage"] for e in events if e.kind == "item_progressed"}
    assert {"speech", "encode"} <= stages  # progress per stage reached the desktop

    # The same rows rendered on this computer: the same bytes.
    workspace.settings.set("render.cluster", "local")
    local_job = add_job(workspace, SCRIPTS[:2], tmp_path / "local")
    run_engine(workspace, [], max_concurrent=1)
    assert states(workspace, local_job)[0] == "completed"
    for name, digest in digests(tmp_path / "local").items():
        if name.endswith((".mp4", ".srt", ".png")):
            assert remote[name] == digest, name


def test_a_cancel_reaches_a_remote_render(
    cluster: Cluster, workspace: Workspace, tmp_path: Path
) -> None:
    from app.store import jobs as job_store
    from app.store import queue

    workspace.settings.set("render.cluster", cluster.address)
    job = add_job(workspace, [SCRIPTS[0] * 6], tmp_path / "out")
    events: list[EngineEvent] = []

    def cancel_mid_render(event: EngineEvent) -> None:
        events.append(event)
        if event.kind == "item_progressed" and event.data["stage"] == "encode":
            with workspace.db.write() as session:
                if job_store.require_job(session, job).state == "running":
                    queue.cancel_job(session, job, "tester")

    engine = Engine(workspace, poll_seconds=0.2, on_event=cancel_mid_render, max_concurrent=1)
    began = time.monotonic()
    asyncio.run(engine.run(asyncio.Event(), until_idle=True))
    assert states(workspace, job) == ("canceled", ["canceled"])
    assert time.monotonic() - began < 60
    out = tmp_path / "out"
    assert not out.exists() or not list(out.iterdir())  # nothing fetched, nothing half-written

    # On the worker, the render stops and its partial files go with it.
    def leftovers() -> list[Path]:
        found = [p for f in cluster.folders if (f / "out").exists() for p in (f / "out").rglob("*")]
        return [p for p in found if p.is_file()]

    deadline = time.monotonic() + 30
    while leftovers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not leftovers()


def test_a_worker_killed_mid_render_leaves_its_item_to_the_other_once(
    cluster: Cluster, workspace: Workspace, tmp_path: Path
) -> None:
    workspace.settings.set("render.cluster", cluster.address)
    job = add_job(workspace, [SCRIPTS[0] * 4], tmp_path / "out")
    killed: list[int] = []

    def kill_first_worker_rendering(event: EngineEvent) -> None:
        if killed or event.kind != "item_progressed" or event.data["stage"] != "encode":
            return
        for folder, process in zip(cluster.folders, cluster.workers, strict=True):
            if (folder / "work").exists() and any((folder / "work").iterdir()):
                process.kill()  # SIGKILL: no goodbye to the scheduler
                killed.append(process.pid)
                return

    engine = Engine(
        workspace, poll_seconds=0.2, on_event=kill_first_worker_rendering, max_concurrent=1
    )
    asyncio.run(engine.run(asyncio.Event(), until_idle=True))
    assert killed
    assert states(workspace, job) == ("completed", ["completed"])
    with workspace.db.read() as session:
        attempts = session.scalar(select(func.count()).select_from(Execution))
        item = session.scalars(select(Item)).one()
    assert attempts == 1 and item.attempts == 1  # one attempt, done by the worker left
    assert len([p for p in (tmp_path / "out").iterdir() if p.suffix == ".mp4"]) == 1


def test_a_worker_of_another_version_refuses_with_a_clear_message() -> None:
    from app.cluster import remote

    answer = remote.render({"version": "0.0.1"})
    assert answer["status"] == "failed"
    assert answer["error"].startswith("this worker runs Cadence ")
    assert "install the same version on both" in answer["error"]


def test_render_cluster_setting_is_checked(run_cli: object) -> None:
    bad = run_cli("settings", "set", "render.cluster", "renderbox")  # type: ignore[operator]
    assert bad.returncode == 2
    assert "neither local nor a scheduler address such as tcp://renderbox:8786" in bad.stderr
    good = run_cli("settings", "set", "render.cluster", "tcp://127.0.0.1:8786")  # type: ignore[operator]
    assert good.returncode == 0, good.stderr


def test_the_desktop_stopping_mid_job_then_restarting_completes_each_item_once(
    cluster: Cluster, workspace: Workspace, tmp_path: Path
) -> None:
    workspace.settings.set("render.cluster", cluster.address)
    job = add_job(workspace, [SCRIPTS[0] * 4, SCRIPTS[1] * 4], tmp_path / "out")

    async def until_mid_render() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()

        def listen(event: EngineEvent) -> None:
            if event.kind == "item_progressed" and event.data["stage"] == "encode":
                loop.call_soon_threadsafe(stopping.set)  # the app closing mid-render

        engine = Engine(workspace, poll_seconds=0.2, on_event=listen, max_concurrent=2)
        await engine.run(stopping)

    asyncio.run(until_mid_render())
    assert "running" not in states(workspace, job)[1]  # back in the queue, or done
    run_engine(workspace, [], max_concurrent=2)  # the next start
    assert states(workspace, job) == ("completed", ["completed", "completed"])
    with workspace.db.read() as session:
        done = session.execute(
            select(Execution.item_id, func.count())
            .where(Execution.outcome == "completed")
            .group_by(Execution.item_id)
        ).all()
    assert sorted(n for _, n in done) == [1, 1]
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.suffix == ".mp4") == [
        "002-idea-2.mp4",
        "003-idea-3.mp4",
    ]
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_workers_of_another_version_are_not_sent_work(
    cluster: Cluster, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cluster import executor

    monkeypatch.setattr(executor, "__version__", "9.9.9")
    workspace.settings.set("render.cluster", cluster.address)
    job = add_job(workspace, [SCRIPTS[0]], tmp_path / "out")
    engine = Engine(workspace, poll_seconds=0.2, max_concurrent=1)

    async def one_pass() -> None:
        stopping = asyncio.Event()
        task = asyncio.create_task(engine.run(stopping))
        for _ in range(300):
            await asyncio.sleep(0.1)
            with workspace.db.read() as session:
                if session.scalar(select(Execution.error).where(Execution.error.is_not(None))):
                    break
        stopping.set()
        await task

    asyncio.run(one_pass())
    with workspace.db.read() as session:
        error = session.scalar(select(Execution.error).where(Execution.error.is_not(None)))
    assert error is not None
    assert f"no worker of the render cluster at {cluster.address} runs Cadence 9.9.9" in error
    assert "install this version on them" in error
    assert states(workspace, job)[1] == ["pending"]  # retried later, not lost
