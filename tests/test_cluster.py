"""Rendering on a real Dask cluster on loopback: a `dask scheduler` and two `cadence worker`
processes, started here. The desktop keeps the database; the workers only render."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import queries
from app.engine.service import Engine, EngineEvent
from app.paths import AppPaths
from app.services import Services
from app.store.models import Execution, Item, Job
from tests.cluster_helpers import ROOT, Cluster, local_cluster
from tests.engine_helpers import add_job, states

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with local_cluster(tmp_path) as started:
        yield started


@pytest.fixture
def workspace(data_dir: Path) -> Iterator[Services]:
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        yield ws


def run_engine(workspace: Services, events: list[EngineEvent], **kwargs: object) -> Engine:
    engine = Engine(workspace, poll_seconds=0.2, on_event=events.append, **kwargs)  # type: ignore[arg-type]
    asyncio.run(engine.run(asyncio.Event(), until_idle=True))
    return engine


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


SCRIPTS = [f"Video number {n}. A short script for the cluster." for n in range(1, 5)]


def test_a_job_renders_across_both_workers_like_it_does_locally(
    cluster: Cluster, workspace: Services, tmp_path: Path
) -> None:
    workspace.settings.set("render.cluster", cluster.address)
    job = add_job(workspace, SCRIPTS, tmp_path / "remote")
    events: list[EngineEvent] = []
    engine = run_engine(workspace, events)  # engine.max_concurrent is 1: the cluster's 2 count
    assert engine.cluster is not None and engine.capacity() == 2
    assert states(workspace, job) == ("completed", ["completed"] * 4)
    remote = digests(tmp_path / "remote")
    assert len([n for n in remote if n.endswith(".mp4")]) == 4
    assert not [n for n in remote if n.startswith(".")]  # no partial file left behind
    # Both workers rendered.
    assert len(engine.cluster.placed) == 4 and len(set(engine.cluster.placed.values())) == 2
    # Every worker's copy of the files is gone once fetched (deleted by a task the scheduler
    # runs after the fetch: soon, not at once).
    deadline = time.monotonic() + 15
    while any(any((f / "out").iterdir()) for f in cluster.folders):
        assert time.monotonic() < deadline, [list((f / "out").iterdir()) for f in cluster.folders]
        time.sleep(0.1)
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
    cluster: Cluster, workspace: Services, tmp_path: Path
) -> None:
    from app.store import job_actions
    from app.store import jobs as job_store

    workspace.settings.set("render.cluster", cluster.address)
    job = add_job(workspace, [SCRIPTS[0] * 6], tmp_path / "out")

    def cancel_mid_render(event: EngineEvent) -> None:
        if event.kind == "item_progressed" and event.data["stage"] == "encode":
            with workspace.db.write() as session:
                if job_store.require_job(session, job).state == "running":
                    job_actions.cancel_job(session, job, "tester")

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
    cluster: Cluster, workspace: Services, tmp_path: Path
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
    cluster: Cluster, workspace: Services, tmp_path: Path
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
    cluster: Cluster, workspace: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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


def test_settings_tests_the_cluster_and_saves_it(
    cluster: Cluster, workspace: Services, qtbot: object
) -> None:
    from app.ui.main_window import PAGES
    from tests.test_publish_ui import open_window

    window = open_window(qtbot, workspace)  # type: ignore[arg-type]
    window.nav.setCurrentRow(PAGES.index("Settings"))
    page = window.settings_page
    wait = qtbot.waitUntil  # type: ignore[attr-defined]
    wait(lambda: "Sign in… to read Google Sheets" in page.account.text(), timeout=30_000)  # loaded
    page.cluster.setText("renderbox")
    page.test_cluster_button.click()
    status = page.cluster_status  # beside the field, not at the foot of the page
    wait(lambda: "neither local nor a scheduler address" in status.text(), timeout=30_000)
    assert page.test_cluster_button.isEnabled()

    page.cluster.setText(cluster.address)
    page.test_cluster_button.click()
    wait(lambda: status.text().startswith(cluster.address), timeout=60_000)
    assert "2 worker(s) — w1 (1 at a time), w2 (1 at a time)" in status.text() or (
        "2 worker(s) — w2 (1 at a time), w1 (1 at a time)" in status.text()
    )
    page.save_button.click()
    wait(lambda: page.message.text() == "Saved.", timeout=30_000)
    assert workspace.settings.get("render.cluster") == cluster.address

    # The monitor's line, from what it asks while shown (asked here directly: no shown
    # window with live timers and a Dask connection left to the end of the test run).
    assert window.monitor.cluster_source is not None
    window.monitor.show_cluster(window.monitor.cluster_source())
    label = window.monitor.cluster.text()
    assert label.startswith(f"{cluster.address}, 2 worker(s)")
    assert "w1 (1 at a time): idle" in label and "w2 (1 at a time): idle" in label
    window.close()
    window.shutdown()
    workspace.close_cluster()


def test_inputs_travel_with_the_task_and_too_many_are_refused_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from app.cluster import executor
    from app.paths import MUSIC_DIR
    from app.pipeline.render import RenderSettings
    from app.pipeline.runner import RenderTask

    logo = tmp_path / "logo.png"
    logo.write_bytes(b"x" * 2000)
    base = RenderSettings()
    settings = replace(base, visuals=replace(base.visuals, logo=logo))
    task = RenderTask({"idea_title": "One"}, 2, settings, tmp_path / "out", tmp_path / "work")
    files, bundled, _on_share = executor.shipped_inputs(task)
    assert files == {str(logo): {"folder": False, "members": {"logo.png": b"x" * 2000}}}
    assert bundled == {str(MUSIC_DIR): "music"}  # the worker has its own copy

    monkeypatch.setattr(executor, "MAX_SHIPPED_BYTES", 1000)
    with pytest.raises(executor.ClusterError) as refused:
        executor.shipped_inputs(task)
    assert str(logo) in str(refused.value) and "render.cluster = local" in str(refused.value)
    assert not refused.value.transient  # the user's to change: not retried


class _Served:
    """A fake Dask client that serves a worker's files in chunks (possibly damaged ones)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.reads = 0

    def submit(self, _function: object, _folder: str, name: str, offset: int, size: int,
               **_options: object) -> object:  # fmt: skip
        self.reads += 1
        data = self.files[name][offset : offset + size]

        class Done:
            def result(self, timeout: float | None = None) -> bytes:
                return data

            def cancel(self) -> None:
                pass

        return Done()


def test_fetched_files_are_checked_and_published_together_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from app.cluster import executor, remote
    from app.pipeline.runner import remove_partials

    monkeypatch.setattr(remote, "CHUNK_BYTES", 1000)  # several chunks per file
    video, captions = bytes(range(256)) * 20, b"1\n00:00:00,000 --> 00:00:01,000\nHi\n"
    files = {"002-one.mp4": video, "002-one.srt": captions}

    def described(name: str, data: bytes) -> dict[str, object]:
        return {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}

    answer = {"folder": "/w/out/1", "worker": "tcp://w1:1",
              "files": [described(n, d) for n, d in files.items()]}  # fmt: skip
    out = tmp_path / "out"
    served = _Served(files)
    fetched = executor.ClusterExecutor("tcp://x:1")._fetch(served, answer, out, threading.Event())
    assert {p.name: p.read_bytes() for p in out.iterdir()} == files
    assert set(fetched) == set(files) and served.reads == 6 + 1

    damaged = tmp_path / "damaged"
    served = _Served({**files, "002-one.srt": captions[:-3] + b"XX\n"})  # same size, other bytes
    with pytest.raises(ValueError, match=r"002-one\.srt arrived damaged"):
        executor.ClusterExecutor("tcp://x:1")._fetch(served, answer, damaged, threading.Event())
    assert not [p for p in damaged.iterdir() if not p.name.startswith(".")]  # neither published
    remove_partials(damaged, "002-one")  # what a failed render does with the rest
    assert list(damaged.iterdir()) == []


def test_a_job_that_needs_a_gpu_renders_only_on_the_worker_that_offers_one(
    workspace: Services, tmp_path: Path
) -> None:
    with local_cluster(tmp_path, resources={2: "GPU=1"}) as cluster:
        workspace.settings.set("render.cluster", cluster.address)
        workspace.settings.set("engine.max_attempts", "1")
        gpu_job = add_job(workspace, SCRIPTS[:2], tmp_path / "gpu")
        lost_job = add_job(workspace, SCRIPTS[:1], tmp_path / "tpu")
        with workspace.db.write() as session:
            for job_id, needs in ((gpu_job, "GPU=1"), (lost_job, "TPU=2")):
                job = session.get(Job, job_id)
                assert job is not None
                job.output_config = {**job.output_config, "needs": needs}
        engine = run_engine(workspace, [])
        assert engine.cluster is not None
        names = {a: w["name"] for a, w in engine.cluster.workers().items()}
        assert "w2 (1 at a time, GPU=1)" in queries.settings.test_cluster(
            workspace, cluster.address
        )
        assert states(workspace, gpu_job) == ("completed", ["completed"] * 2)
        with workspace.db.read() as session:
            items = session.scalars(select(Item).where(Item.job_id == gpu_job)).all()
            lost = session.scalars(select(Item).where(Item.job_id == lost_job)).one()
            assert {names[engine.cluster.placed[i.id]] for i in items} == {"w2"}
            assert lost.state == "failed"
            assert lost.error == (
                f"no worker of the render cluster at {cluster.address} offers TPU=2 — start "
                f"one with `cadence worker {cluster.address} --resources TPU=2`, or change "
                "what the job needs"
            )
        engine.cluster.close()


def test_what_a_job_needs_is_checked_when_it_is_made(run_cli: object) -> None:
    from tests.test_bad_inputs import DEMO

    made = run_cli("jobs", "create", "--source", str(DEMO), "--needs", "GPU")  # type: ignore[operator]
    assert made.returncode == 2
    assert "needs: 'GPU' is not NAME=AMOUNT with a positive amount (for example GPU=1)" in (
        made.stderr
    )
    setting = run_cli("settings", "set", "render.cluster_needs", "GPU=-1")  # type: ignore[operator]
    assert setting.returncode == 2 and "render.cluster_needs: 'GPU=-1'" in setting.stderr


def test_a_worker_with_the_shared_folder_writes_there_and_reads_inputs_from_it(
    workspace: Services, tmp_path: Path
) -> None:
    """The desktop calls the share tmp/share, worker 1 reaches it by another path (a link);
    worker 2 has no share. The logo is on the share; the job's folder too."""
    share = tmp_path / "share"
    (share / "brand").mkdir(parents=True)
    logo = share / "brand" / "logo.png"
    logo.write_bytes((ROOT / "resources" / "icons" / "cadence.png").read_bytes())
    link = tmp_path / "mnt-nas"
    link.symlink_to(share)
    with local_cluster(tmp_path / "cluster", shared={1: link}) as cluster:
        workspace.settings.set("render.cluster", cluster.address)
        workspace.settings.set("render.shared_folder", str(share))
        workspace.settings.set("render.logo", str(logo))
        job = add_job(workspace, SCRIPTS[:2], share / "videos" / "weekly")
        engine = run_engine(workspace, [])
        assert engine.cluster is not None
        names = {a: w["name"] for a, w in engine.cluster.workers().items()}
        assert states(workspace, job) == ("completed", ["completed"] * 2)
        said = queries.settings.test_cluster(workspace, cluster.address)
        assert "w1 (1 at a time, shared folder)" in said and "w2 (1 at a time)" in said
        with workspace.db.read() as session:
            items = session.scalars(select(Item).where(Item.job_id == job)).all()
            # Every render the cluster answered was worker 1's. (On a loaded machine Dask can
            # lose track of a render that did write its video in place; the retry then finds
            # the video and adopts it, so that item has no worker — seen once in CI.)
            placed = [engine.cluster.placed.get(i.id) for i in items]
            assert {names[w] for w in placed if w is not None} == {"w1"}
            videos = [Path(i.outputs["video"]) for i in items]
        engine.cluster.close()
        scratch = cluster.folders[0]
        assert not list((scratch / "out").glob("*/*"))  # nothing staged to be fetched
        assert not (scratch / "inputs").exists() or not any((scratch / "inputs").iterdir())
    assert all(v.parent == share / "videos" / "weekly" and v.stat().st_size > 0 for v in videos)
    assert not list((share / "videos" / "weekly").glob(".*part*"))


def test_a_worker_whose_shared_folder_is_another_says_so_and_the_files_stay_put(
    workspace: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cluster import executor

    monkeypatch.setattr(executor, "SHARE_SETTLE_SECONDS", 1.0)  # no network share's caching
    share, elsewhere = tmp_path / "share", tmp_path / "not-the-share"
    share.mkdir()
    elsewhere.mkdir()
    with local_cluster(tmp_path / "cluster", workers=1, shared={1: elsewhere}) as cluster:
        workspace.settings.set("render.cluster", cluster.address)
        workspace.settings.set("render.shared_folder", str(share))
        workspace.settings.set("engine.max_attempts", "1")
        job = add_job(workspace, SCRIPTS[:1], share / "out")
        engine = run_engine(workspace, [])
        assert engine.cluster is not None
        engine.cluster.close()
    with workspace.db.read() as session:
        item = session.scalars(select(Item).where(Item.job_id == job)).one()
    assert item.state == "failed"
    worker = engine.cluster.placed[item.id]
    assert item.error is not None and item.error.startswith(
        f"{worker} wrote the video into its shared folder ({elsewhere / 'out'}"
    )
    assert f"to the folder this computer reaches as {share} (render.shared_folder)" in item.error
    assert not (share / "out").exists() or not any((share / "out").iterdir())
