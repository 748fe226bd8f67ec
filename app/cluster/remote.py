"""What runs on a Dask worker: one item's render, and the files it made read back in chunks.

Imported by reference on the worker (the same Cadence version is installed there): nothing
here may need the desktop's database or settings. A render runs in a child process of the
worker, exactly as it does on the desktop (`app.pipeline.runner`), so a crash in native code
fails the item, not the worker.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from app import __version__
from app.paths import RESOURCES

PROGRESS_TOPIC = "cadence-progress"
CHUNK_BYTES = 4 * 1024 * 1024
WATCH_SECONDS = 0.2
PROGRESS_SECONDS = 0.25


def scratch() -> Path:
    """This worker's own folder for inputs, work and finished files not yet fetched."""
    chosen = os.environ.get("CADENCE_WORKER_DIR")
    root = Path(chosen) if chosen else Path(tempfile.gettempdir()) / "cadence-worker"
    root.mkdir(parents=True, exist_ok=True)
    return root


def version() -> str:
    return __version__


SHARED_ENV = "CADENCE_SHARED_DIR"  # set by `cadence worker --shared`


def shared_root() -> str | None:
    """This worker's path to the desktop's shared folder, if it was given one."""
    chosen = os.environ.get(SHARED_ENV)
    return chosen if chosen and Path(chosen).is_dir() else None


def _local(path: str | None, inputs: dict[str, Path], bundled: dict[str, str]) -> Path | None:
    """A desktop path, as this worker reaches it: a shipped input, a bundled resource, or
    (a shared folder) the same path."""
    if path is None:
        return None
    if path in inputs:
        return inputs[path]
    if path in bundled:
        return RESOURCES / bundled[path]
    return Path(path)


def _unpack(files: dict[str, dict[str, Any]], into: Path) -> dict[str, Path]:
    """Shipped inputs — desktop path → {"folder": bool, "members": {relative name: bytes}} —
    written once per content; returns where each desktop path is found here."""
    found: dict[str, Path] = {}
    for original, shipped in files.items():
        members: dict[str, bytes] = shipped["members"]
        digest = hashlib.sha256()
        for name in sorted(members):
            digest.update(name.encode() + b"\0" + members[name])
        home = into / digest.hexdigest()[:24]
        if not home.exists():  # written aside, then renamed: a half-written input is never used
            part = home.with_name(f"{home.name}.{uuid.uuid4().hex}.part")
            part.mkdir(parents=True)
            for name, data in members.items():
                target = part / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            try:
                part.rename(home)
            except OSError:
                if not home.exists():
                    raise
                shutil.rmtree(part, ignore_errors=True)  # another render unpacked it first
        found[original] = home if shipped["folder"] else home / next(iter(members))
    return found


def _settings_here(
    settings: Any, inputs: dict[str, Path], bundled: dict[str, str], cache: Path
) -> Any:
    """The desktop's settings with every path as this worker reaches it."""

    def here(path: Path | None) -> Path | None:
        return _local(None if path is None else str(path), inputs, bundled)

    return replace(
        settings,
        speech=replace(
            settings.speech,
            piper_model=here(settings.speech.piper_model),
            voices_dir=here(settings.speech.voices_dir),
        ),
        visuals=replace(
            settings.visuals,
            assets_dir=here(settings.visuals.assets_dir),
            music_dir=here(settings.visuals.music_dir),
            logo=here(settings.visuals.logo),
        ),
        footage=replace(settings.footage, cache_dir=cache / "footage"),
        template_dir=here(settings.template_dir),
        encoder_cache=cache / "encoders.json",
    )


def _refused(error: str, *, transient: bool) -> dict[str, Any]:
    """The answer for a task this worker will not render."""
    return {
        "status": "failed", "details": None, "stage": None, "stages_seen": [],
        "transient": transient, "result": None, "files": [], "error": error,
    }  # fmt: skip


def render(payload: dict[str, Any]) -> dict[str, Any]:
    """One item's render on this worker: ``payload`` from `executor.ClusterExecutor`.

    Returns the outcome, and for a finished render the files to fetch (name, size, sha256).
    A cancel (the task cancelled, or its client gone) stops the render at once; a stop asks
    it to end at the next stage boundary (its work folder keeps what was done)."""
    from distributed import get_worker
    from distributed.worker import thread_state

    from app.pipeline.runner import RenderTask, run_render

    if payload["version"] != __version__:
        return _refused(
            f"this worker runs Cadence {__version__} and the desktop {payload['version']} — "
            "install the same version on both",
            transient=False,
        )
    worker = get_worker()
    key = thread_state.key
    root = scratch()
    inputs = _unpack(payload["files"], root / "inputs")
    shared = shared_root()
    if payload.get("shared_inputs") and shared is None:
        return _refused(
            "this worker was started without --shared, and the job's inputs are in the shared "
            "folder",
            transient=True,
        )
    for original, relative in (payload.get("shared_inputs") or {}).items():
        inputs[original] = Path(shared or "") / relative
    item = payload["item"]
    in_place, out_dir = _out_dir(payload, shared, root, key)
    task = RenderTask(
        payload["idea"],
        payload["row"],
        _settings_here(payload["settings"], inputs, payload["bundled"], root / "cache"),
        out_dir,
        root / "work" / f"item-{item}",
    )
    cancel, stop, done = threading.Event(), threading.Event(), threading.Event()
    watcher = threading.Thread(
        target=_watch, args=(worker, key, payload.get("stop_event"), cancel, stop, done),
        name=f"cadence-watch-{item}", daemon=True,
    )  # fmt: skip
    watcher.start()
    try:
        outcome = run_render(
            task, _progress(worker, key), cancel=cancel, stop=stop, timeout=payload["timeout"]
        )
    finally:
        done.set()
    return _answer(outcome, worker.address, out_dir, in_place, cancel.is_set())


def _out_dir(
    payload: dict[str, Any], shared: str | Path | None, root: Path, key: Any
) -> tuple[bool, Path]:
    """Where the files are made: straight into the job's folder on the share (each file
    renamed when whole), or a folder of this worker's the desktop fetches them from."""
    if payload.get("shared_out") is not None and shared is not None:
        out_dir = Path(shared) / payload["shared_out"]
        out_dir.mkdir(parents=True, exist_ok=True)
        return True, out_dir
    out_dir = (
        root / "out" / f"{payload['item']}-{hashlib.sha256(str(key).encode()).hexdigest()[:12]}"
    )
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    return False, out_dir


def _watch(
    worker: Any,
    key: Any,
    stop_name: str | None,
    cancel: threading.Event,
    stop: threading.Event,
    done: threading.Event,
) -> None:
    """The task cancelled (or its desktop gone): the render stops now; the desktop's stop
    event set: it ends at its next stage boundary."""
    from distributed import Event

    stop_event = Event(stop_name) if stop_name else None
    while not done.wait(WATCH_SECONDS):
        state = worker.state.tasks.get(key)
        if state is None or state.state in ("cancelled", "released", "forgotten"):
            cancel.set()
            return
        if stop_event is not None and not stop.is_set():
            try:
                if stop_event.is_set():
                    stop.set()
            except Exception:  # the scheduler briefly unreachable: asked again next time
                pass


def _progress(worker: Any, key: Any) -> Callable[[str, float], None]:
    """A new stage at once, otherwise a few times a second: each goes through the scheduler
    to the desktop."""
    last_stage, last_at = "", 0.0

    def progress(stage: str, fraction: float) -> None:
        nonlocal last_stage, last_at
        now = time.monotonic()
        if stage != last_stage or now - last_at >= PROGRESS_SECONDS:
            last_stage, last_at = stage, now
            worker.log_event(PROGRESS_TOPIC, {"key": key, "stage": stage, "fraction": fraction})

    return progress


def _answer(
    outcome: Any, address: str, out_dir: Path, in_place: bool, canceled: bool
) -> dict[str, Any]:
    """What the desktop hears: the outcome, and the finished files to fetch or check."""
    answer: dict[str, Any] = {
        "status": str(outcome.status),
        "error": outcome.error,
        "details": outcome.details,
        "stage": outcome.stage,
        "stages_seen": outcome.stages_seen,
        "transient": outcome.transient,
        "worker": address,
        "folder": str(out_dir),
        "in_place": in_place,
        "result": outcome.result,
        "files": [],
    }
    if canceled:  # cancelled as it finished: nobody will fetch these
        answer.update(status="canceled", error=None, transient=False, result=None)
    if answer["result"] is not None and in_place:  # the job's folder holds other items' too
        made = {Path(v) for v in answer["result"].values() if isinstance(v, str)}
        answer["files"] = [_describe(p) for p in sorted(made) if p.parent == out_dir]
    elif answer["result"] is not None:
        answer["files"] = [_describe(path) for path in sorted(out_dir.iterdir())]
    elif not in_place:
        shutil.rmtree(out_dir, ignore_errors=True)
    return answer


def _describe(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(CHUNK_BYTES), b""):
            digest.update(block)
    return {"name": path.name, "size": path.stat().st_size, "sha256": digest.hexdigest()}


def read_chunk(folder: str, name: str, offset: int, size: int) -> bytes:
    """Part of a finished file, for the desktop to fetch (only from this worker's out folder)."""
    base = (scratch() / "out").resolve()
    path = (Path(folder) / name).resolve()
    if base not in path.parents:
        raise ValueError(f"{path} is not a finished render of this worker")
    with path.open("rb") as source:
        source.seek(offset)
        return source.read(size)


def forget(folder: str) -> None:
    """The desktop has the files: this worker's copy goes."""
    base = (scratch() / "out").resolve()
    path = Path(folder).resolve()
    if base in path.parents:
        shutil.rmtree(path, ignore_errors=True)
