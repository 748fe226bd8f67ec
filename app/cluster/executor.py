"""The desktop's side of cluster rendering: an item's render sent to a Dask worker, its
progress followed, a cancel or a pause passed on, and its files fetched back.

Files come back in chunks, are checked by size and SHA-256, and are published under their
final names only then (temp name, then rename) — as a local render publishes them. Dask
re-runs a task whose worker died on another worker by itself: the engine sees one attempt.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app import __version__
from app.cluster import remote
from app.domain.errors import UserError
from app.domain.idea import Idea
from app.domain.resources import offers, shown
from app.paths import RESOURCES
from app.pipeline.render import output_stem
from app.pipeline.runner import RenderOutcome, RenderStatus, RenderTask, remove_partials

POLL_SECONDS = 0.2
CONNECT_SECONDS = 10
VERSIONS_SECONDS = 30.0
FETCH_SECONDS = 120.0  # for one 4 MB chunk, however slow the network
MAX_SHIPPED_BYTES = 200 * 1024 * 1024
SHARE_SETTLE_SECONDS = 10.0  # a file a worker wrote to the share may show here a moment late


class ClusterError(UserError):
    """The cluster cannot be reached or used; the message says what to do. ``transient``:
    worth trying again later (a cluster down), unlike what only the user can change."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


def _members(path: Path) -> dict[str, Any]:
    if path.is_file():
        return {"folder": False, "members": {path.name: path.read_bytes()}}
    members = {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }
    return {"folder": True, "members": members}


def _inside(path: Path, folder: Path | None) -> str | None:
    """``path`` relative to ``folder`` (as posix text), None when it is not inside."""
    if folder is None:
        return None
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return None


def shipped_inputs(
    task: RenderTask, shared: Path | None = None
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """The render's input files that live on this computer (logo, assets, music, templates,
    voices), as bytes to travel with the task; bundled resources by their place in the
    install instead (the worker has its own copy); those in the ``shared`` folder by their
    place in it (the worker reaches it through its --shared path)."""
    settings = task.settings
    paths = [
        settings.speech.piper_model,
        settings.speech.voices_dir,
        settings.visuals.assets_dir,
        settings.visuals.music_dir,
        settings.visuals.logo,
        settings.template_dir,
    ]
    files: dict[str, Any] = {}
    bundled: dict[str, str] = {}
    on_share: dict[str, str] = {}
    total = 0
    for path in paths:
        if path is None or not path.exists():
            continue
        if path.resolve().is_relative_to(RESOURCES.resolve()):
            bundled[str(path)] = str(path.resolve().relative_to(RESOURCES.resolve()))
            continue
        relative = _inside(path, shared)
        if relative is not None:
            on_share[str(path)] = relative
            continue
        files[str(path)] = _members(path)
        total += sum(len(b) for b in files[str(path)]["members"].values())
        if total > MAX_SHIPPED_BYTES:
            raise ClusterError(
                f"the render's input files ({path} and others) are over "
                f"{MAX_SHIPPED_BYTES // 2**20} MB — too much to send with every video; render "
                "this job on this computer (render.cluster = local), or put them in the "
                "shared folder (render.shared_folder)",
                transient=False,
            )
    return files, bundled, on_share


def _differs(folder: Path, described: dict[str, Any]) -> str | None:
    """Why the file a worker described is not in ``folder`` as described, or None."""
    path = folder / described["name"]
    try:
        if path.stat().st_size != described["size"]:
            return f"{path} has another size"
        digest = hashlib.sha256()
        with path.open("rb") as source:
            for block in iter(lambda: source.read(remote.CHUNK_BYTES), b""):
                digest.update(block)
    except FileNotFoundError:
        return f"{path} is missing"
    return None if digest.hexdigest() == described["sha256"] else f"{path} has other contents"


class ClusterExecutor:
    """Renders on the Dask scheduler at ``address`` (e.g. ``tcp://renderbox:8786``)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._client: Any = None
        self._lock = threading.Lock()
        self._progress: dict[str, Callable[[str, float], None]] = {}
        self.placed: dict[int, str] = {}  # item id → the worker that rendered it last
        self._usable: list[str] = []
        self._offered: dict[str, dict[str, float]] = {}  # worker → its --resources
        self._sharing: set[str] = set()  # workers started with --shared
        self.capacity = 0  # renders the usable workers take at once (0: not asked yet)
        self._usable_at = 0.0

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                try:
                    from distributed import Client
                except ImportError as exc:
                    raise ClusterError(
                        "rendering on a cluster needs Dask — install Cadence with the cluster "
                        "extra (pip install 'cadence-studio[cluster]'), or set render.cluster "
                        "to local",
                        transient=False,
                    ) from exc
                try:
                    client = Client(self.address, timeout=CONNECT_SECONDS, set_as_default=False)
                except (OSError, TimeoutError, ValueError) as exc:
                    raise ClusterError(
                        f"cannot reach the render cluster at {self.address} ({exc}) — start its "
                        "scheduler and workers, or set render.cluster to local"
                    ) from exc
                client.subscribe_topic(remote.PROGRESS_TOPIC, self._on_progress)
                self._client = client
            return self._client

    def workers(self) -> dict[str, dict[str, Any]]:
        """Each worker: its threads, what it is running, its Cadence version."""
        client = self.client()
        info = client.scheduler_info(n_workers=-1)["workers"]
        versions = client.run(remote.version)
        roots = client.run(remote.shared_root, on_error="return")
        processing = client.processing()
        return {
            address: {
                "name": str(details.get("name", address)),
                "threads": details.get("nthreads", 0),
                "resources": details.get("resources", {}),
                "running": len(processing.get(address, ())),
                "items": sorted(
                    int(str(key).split("-")[2])
                    for key in processing.get(address, ())
                    if str(key).startswith("cadence-render-")
                ),
                "version": versions.get(address),
                "version_ok": versions.get(address) == __version__,
                "shared": isinstance(roots.get(address), str),
            }
            for address, details in info.items()
        }

    def usable_workers(self) -> list[str]:
        """The workers running this Cadence version (asked again every half minute)."""
        now = time.monotonic()
        if self._usable and now - self._usable_at < VERSIONS_SECONDS:
            return self._usable
        found = self.workers()  # one set of questions, as the monitor asks them
        usable = sorted(a for a, w in found.items() if w["version_ok"])
        if not usable:
            others = ", ".join(sorted({str(w["version"]) for w in found.values()}))
            raise ClusterError(
                f"no worker of the render cluster at {self.address} runs Cadence "
                f"{__version__} (they run {others}) — install this version on them"
                if found
                else f"the render cluster at {self.address} has no workers — start one with "
                f"`cadence worker {self.address}` on a computer"
            )
        self.capacity = sum(int(found[a]["threads"] or 1) for a in usable)
        self._offered = {a: dict(found[a]["resources"] or {}) for a in usable}
        self._sharing = {a for a in usable if found[a]["shared"]}
        self._usable, self._usable_at = usable, now
        return usable

    def fitting_workers(self, needs: dict[str, float]) -> list[str]:
        """The usable workers that offer what a job ``needs`` (all of them when it needs
        nothing); none → a `ClusterError` saying how to start one."""
        usable = self.usable_workers()
        if not needs:
            return usable
        fit = [a for a in usable if offers(self._offered.get(a, {}), needs)]
        if not fit:
            asked = shown(needs)
            raise ClusterError(
                f"no worker of the render cluster at {self.address} offers {asked} — start one "
                f"with `cadence worker {self.address} --resources {asked}`, or change what the "
                "job needs"
            )
        return fit

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                with contextlib.suppress(Exception):
                    self._client.close()
                self._client = None

    def _on_progress(self, event: Any) -> None:
        _, message = event
        listener = self._progress.get(message.get("key"))
        if listener is not None:
            listener(message["stage"], message["fraction"])

    def render(
        self,
        task: RenderTask,
        on_progress: Callable[[str, float], None],
        *,
        item_id: int,
        cancel: threading.Event,
        stop: threading.Event,
        timeout: float | None,
        needs: dict[str, float] | None = None,
        shared: Path | None = None,
    ) -> RenderOutcome:
        """Like `run_render`, on the cluster (call from a worker thread: it waits). ``needs``:
        what the worker must offer (``GPU=1``); it is held while the video renders there.
        ``shared``: this computer's path to a folder the workers reach too (their
        ``--shared``): inputs in it are not sent, and a job folder in it is written directly
        by a worker that has it."""
        stem = output_stem(task.row, Idea.from_dict(task.idea))
        video = task.out_dir / f"{stem}{task.settings.output.checked().extension}"
        if video.exists() and not task.settings.overwrite:
            return RenderOutcome(
                RenderStatus.SKIPPED,
                error=f"{video.name} already exists — pass --overwrite to render it again",
            )
        client = self.client()
        usable, files, bundled, on_share, shared_out = self._placement(task, needs, shared)
        run = uuid.uuid4().hex[:12]
        payload = {
            "version": __version__, "item": item_id, "idea": task.idea, "row": task.row,
            "settings": task.settings, "files": files, "bundled": bundled, "timeout": timeout,
            "stop_event": f"cadence-stop-{run}", "shared_inputs": on_share,
            "shared_out": shared_out,
        }  # fmt: skip
        key = f"cadence-render-{item_id}-{run}"
        self._progress[key] = on_progress
        future = client.submit(
            remote.render, payload, key=key, pure=False, workers=usable,
            allow_other_workers=False, resources=needs or None,
        )  # fmt: skip
        try:
            answer = self._wait(client, future, f"cadence-stop-{run}", cancel, stop)
        finally:
            self._progress.pop(key, None)
        if isinstance(answer, RenderOutcome):
            return answer
        if "worker" in answer:
            self.placed[item_id] = answer["worker"]
        outcome = RenderOutcome(
            RenderStatus(answer["status"]),
            error=answer["error"],
            details=answer["details"],
            stage=answer["stage"],
            stages_seen=answer.get("stages_seen") or [],
            transient=answer["transient"],
        )
        if answer["result"] is None:
            return outcome
        if answer.get("in_place"):
            return self._check_in_place(answer, task, outcome, shared)
        return self._bring_back(client, answer, task, stem, outcome, cancel)

    def _placement(
        self, task: RenderTask, needs: dict[str, float] | None, shared: Path | None
    ) -> tuple[list[str], dict[str, Any], dict[str, str], dict[str, str], str | None]:
        """Which workers may render this video (those offering ``needs``; those that reach
        the shared folder when the inputs or the job folder are in it), and its inputs."""
        usable = self.fitting_workers(needs or {})
        files, bundled, on_share = shipped_inputs(task, shared)
        shared_out = _inside(task.out_dir, shared)
        sharing = [a for a in usable if a in self._sharing]
        if on_share and not sharing:
            raise ClusterError(
                f"the job's input files are in the shared folder ({shared}), but no worker of "
                f"the render cluster at {self.address} was started with --shared — start them "
                f"with `cadence worker {self.address} --shared THEIR-PATH-TO-IT`"
            )
        if sharing and (on_share or shared_out is not None):
            usable = sharing  # they reach the inputs, and write the videos where they belong
        return usable, files, bundled, on_share, shared_out

    def _wait(
        self,
        client: Any,
        future: Any,
        stop_event: str,
        cancel: threading.Event,
        stop: threading.Event,
    ) -> dict[str, Any] | RenderOutcome:
        """The worker's answer — a cancel ends the render, a stop asks it to end at its next
        stage boundary — or the outcome when there is none."""
        from distributed import Event
        from distributed.client import FutureCancelledError

        stopping: Any = None
        try:
            while True:
                if cancel.is_set():
                    future.cancel()
                    return RenderOutcome(RenderStatus.CANCELED)
                if stop.is_set() and stopping is None:
                    stopping = Event(stop_event, client=client)
                    stopping.set()
                try:
                    answer: dict[str, Any] = future.result(timeout=POLL_SECONDS)
                    return answer
                except TimeoutError:
                    continue
        except FutureCancelledError:
            return RenderOutcome(RenderStatus.CANCELED)
        except Exception as exc:  # workers lost over and over, the scheduler gone: retried
            return RenderOutcome(
                RenderStatus.FAILED,
                error=f"the render cluster at {self.address} could not finish this video "
                f"({type(exc).__name__}: {exc}) — it will be retried",
                transient=True,
            )
        finally:
            if stopping is not None:
                with contextlib.suppress(Exception):
                    stopping.clear()

    def _bring_back(
        self,
        client: Any,
        answer: dict[str, Any],
        task: RenderTask,
        stem: str,
        outcome: RenderOutcome,
        cancel: threading.Event,
    ) -> RenderOutcome:
        """The finished files fetched from the worker into the job folder; the worker then
        forgets them."""
        from distributed import fire_and_forget

        gone = False
        try:
            fetched = self._fetch(client, answer, task.out_dir, cancel)
        except Exception as exc:  # the worker gone, a damaged chunk, a full disk: retried
            gone = isinstance(exc, TimeoutError)
            remove_partials(task.out_dir, stem)
            return RenderOutcome(
                RenderStatus.FAILED,
                error=f"the finished video could not be fetched from {answer['worker']} "
                f"({type(exc).__name__}: {exc}) — it will be retried",
                transient=True,
            )
        finally:
            if not gone:  # kept by the scheduler until it has run (a dropped future would not)
                fire_and_forget(
                    client.submit(
                        remote.forget, answer["folder"], workers=[answer["worker"]], pure=False
                    )
                )
        outcome.result = {
            k: (str(fetched[Path(v).name]) if isinstance(v, str) and Path(v).name in fetched
                else v)
            for k, v in answer["result"].items()
        }  # fmt: skip
        return outcome

    def _check_in_place(
        self, answer: dict[str, Any], task: RenderTask, outcome: RenderOutcome, shared: Path | None
    ) -> RenderOutcome:
        """A worker wrote the files into the shared folder: each must be here, as it said
        (size and SHA-256) — a worker whose --shared is another folder is found out."""
        deadline = time.monotonic() + SHARE_SETTLE_SECONDS
        while True:  # a network share may show a new file a moment late
            problem = next(filter(None, (_differs(task.out_dir, f) for f in answer["files"])), None)
            if problem is None or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        if problem is not None:
            return RenderOutcome(
                RenderStatus.FAILED,
                error=f"{answer['worker']} wrote the video into its shared folder "
                f"({answer['folder']}), but here {problem} — start it with --shared set to its "
                f"path to the folder this computer reaches as {shared} (render.shared_folder)",
                transient=False,
            )
        outcome.result = {
            k: (str(task.out_dir / Path(v).name)
                if isinstance(v, str) and Path(v).parent == Path(answer["folder"]) else v)
            for k, v in answer["result"].items()
        }  # fmt: skip
        return outcome

    def _fetch(
        self, client: Any, answer: dict[str, Any], out_dir: Path, cancel: threading.Event
    ) -> dict[str, Path]:
        """Every file of a finished render, in chunks, checked, then renamed into place."""
        out_dir.mkdir(parents=True, exist_ok=True)
        staged: list[tuple[Path, Path]] = []
        for described in answer["files"]:
            name = described["name"]
            part = out_dir / f".{name}.fetch.part"
            digest = hashlib.sha256()
            with part.open("wb") as sink:
                offset = 0
                while offset < described["size"]:
                    if cancel.is_set():
                        raise OSError("canceled while fetching")
                    reading = client.submit(
                        remote.read_chunk, answer["folder"], name, offset, remote.CHUNK_BYTES,
                        workers=[answer["worker"]], allow_other_workers=False, pure=False,
                    )  # fmt: skip
                    try:  # a worker that is gone would leave it waiting for ever
                        chunk = reading.result(timeout=FETCH_SECONDS)
                    except TimeoutError:
                        reading.cancel()
                        raise
                    if not chunk:
                        break
                    sink.write(chunk)
                    digest.update(chunk)
                    offset += len(chunk)
                sink.flush()
                os.fsync(sink.fileno())
            if offset != described["size"] or digest.hexdigest() != described["sha256"]:
                raise ValueError(f"{name} arrived damaged ({offset} of {described['size']} bytes)")
            staged.append((part, out_dir / name))
        for part, final in staged:  # all checked: published together
            part.replace(final)
        return {final.name: final for _, final in staged}


class ClusterLink:
    """One `ClusterExecutor` for the address ``render.cluster`` names now. A new address (or
    ``local``) retires the old one through ``retire`` — the engine lets its renders in flight
    finish there; the monitor just closes it."""

    def __init__(self, retire: Callable[[ClusterExecutor], None]) -> None:
        self.current: ClusterExecutor | None = None
        self._retire = retire
        self._lock = threading.Lock()

    def at(self, address: str) -> ClusterExecutor | None:
        """The executor for ``address``; None for this computer (``local`` or empty)."""
        address = address.strip()
        with self._lock:
            if self.current is not None and self.current.address != address:
                self._retire(self.current)
                self.current = None
            if address in ("", "local"):
                return None
            if self.current is None:
                self.current = ClusterExecutor(address)
            return self.current

    def close(self) -> None:
        """Nothing kept: the executor, if any, retired."""
        self.at("local")
