"""One claimed item rendered, in its worker thread: its settings read, the render run here or
on the cluster, its files delivered to object storage when its job asks, and its outcome
recorded (with a retry planned when it failed and may try again) and announced."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from sqlalchemy import select

from app.cluster.executor import ClusterError
from app.delivery.objects import deliver
from app.domain.errors import UserError
from app.domain.estimate import Pace, time_left
from app.domain.idea import Idea
from app.domain.output import Delivery, OutputConfig, codec_config
from app.domain.resources import parse_resources
from app.domain.states import State
from app.domain.storage import StorageError, StorageTarget, parse_target
from app.engine.events import EngineEvent, EventKind
from app.engine.retry import retry_delay
from app.paths import unwritable
from app.pipeline.render import existing_outputs, slug
from app.pipeline.runner import RenderOutcome, RenderStatus, RenderTask, run_render
from app.render_config import render_settings
from app.store import queue
from app.store.models import Item, utcnow
from app.store.publishing import OUTPUT_FILES

if TYPE_CHECKING:
    from app.engine.service import Engine, Worker
    from app.pipeline.render import RenderSettings
    from app.services import Services

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2.0  # seconds between progress writes per item
Progress = Callable[[str, float], None]


def job_folder(workspace: Services, claim: queue.Claim) -> Path:
    """Where a job's videos go: its own folder, or one per job in the output folder."""
    chosen = Delivery.of(claim.output_config).folder
    if chosen:
        return Path(chosen)
    base = workspace.settings.get("output.folder") or str(
        platformdirs.user_videos_path() / "Cadence"
    )
    return Path(base) / f"job-{claim.job_id}-{slug(claim.job_title, 40)}"


class Rendering:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.workspace = engine.workspace
        self.db = engine.db
        self._pace: tuple[int, Pace] | None = None  # (at which engine.finished, the pace)
        self._pace_lock = threading.Lock()

    def render(self, worker: Worker) -> None:
        """In a worker thread: one render attempt, then its outcome recorded."""
        claim = worker.claim
        assert isinstance(claim, queue.Claim)
        try:
            folder = job_folder(self.workspace, claim)
            settings = render_settings(
                self.workspace.settings,
                self.workspace.paths,
                codec_config(claim.output_config),
                style=claim.style or "",
                footage=Delivery.of(claim.output_config).footage,
            )
            if self._wants_vertical(claim.item_id):
                settings = replace(settings, vertical_too=True)
        except Exception as exc:  # stored settings that cannot render: the item says why
            if not isinstance(exc, UserError):
                log.exception("item %s: its job's settings cannot be used", claim.item_id)
            why = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
            error = f"this job's output settings cannot be rendered ({why}) — change them, retry"
            self.record(claim, RenderOutcome(RenderStatus.FAILED, error=error))
            return
        progress = self._progress(claim, self._stage_plan(claim, settings.output))
        began = time.monotonic()
        outcome = self._run(worker, claim, settings, folder, progress)
        if outcome.result is not None:  # the render's wall time here, its process's start too
            outcome.result["wall"] = round(time.monotonic() - began, 2)
        self.record(claim, outcome, folder, progress)

    def _wants_vertical(self, item_id: int) -> bool:
        """Whether the item goes to a platform that wants 9:16 (TikTok …)."""
        from app.domain.publishing import VERTICAL_PLATFORMS
        from app.store.models import Upload

        with self.db.read() as session:
            places = session.scalars(select(Upload.destination).where(Upload.item_id == item_id))
            return any(place in VERTICAL_PLATFORMS for place in places)

    def _run(
        self,
        worker: Worker,
        claim: queue.Claim,
        settings: RenderSettings,
        folder: Path,
        progress: Progress,
    ) -> RenderOutcome:
        """The render, in a child process here or on the render cluster."""
        unusable = unwritable(folder)
        if unusable is not None:  # the user's to fix: retrying would only repeat it
            return RenderOutcome(
                RenderStatus.FAILED,
                error=f"videos cannot be written to {folder} ({unusable}) — choose another output "
                "folder (Settings, or the job's folder) or fix its permissions, then retry",
            )
        work = self.workspace.paths.cache_dir / "work" / f"item-{claim.item_id}"
        task = RenderTask(claim.idea, claim.row, settings, folder, work)
        timeout = 60.0 * self.workspace.settings.integer("engine.item_timeout_minutes")
        cluster = self.engine.cluster_now()
        if cluster is None:
            return run_render(
                task, progress, cancel=worker.cancel, stop=worker.stop, timeout=timeout
            )
        try:
            return cluster.render(
                task, progress, item_id=claim.item_id, cancel=worker.cancel, stop=worker.stop,
                timeout=timeout, needs=self._needs(claim), shared=self._shared_folder(),
            )  # fmt: skip
        except ClusterError as exc:  # unreachable now: retried with the job's backoff
            return RenderOutcome(RenderStatus.FAILED, error=str(exc), transient=exc.transient)
        except Exception as exc:  # a bug, or Dask failing oddly: the item must not hang
            log.exception("rendering item %s on the cluster failed", claim.item_id)
            return RenderOutcome(
                RenderStatus.FAILED,
                error=f"internal error while rendering on the cluster ({exc}) — see the log",
                transient=True,
            )

    def _progress(self, claim: queue.Claim, plan: dict[str, float]) -> Progress:
        """Progress as the render reports it: stored (at most every few seconds per item,
        with the time left) and announced."""
        last_stage, last_at, stage_began = "", 0.0, time.monotonic()

        def progress(stage: str, fraction: float) -> None:
            nonlocal last_stage, last_at, stage_began
            now = time.monotonic()
            if stage != last_stage:
                stage_began = now
            if stage == last_stage and now - last_at < PROGRESS_EVERY:
                return
            last_stage, last_at = stage, now
            left = time_left(plan, stage, fraction, now - stage_began) if plan else None
            done_by = utcnow() + timedelta(seconds=left) if left is not None else None
            with self.db.write() as session:
                queue.record_progress(session, claim.item_id, stage, fraction, done_by)
            data = {"stage": stage, "progress": fraction, "left": left}
            self.engine.on_event(
                EngineEvent(EventKind.ITEM_PROGRESSED, claim.job_id, claim.item_id, claim.row, data)
            )

        return progress

    def _stage_plan(self, claim: queue.Claim, output: OutputConfig) -> dict[str, float]:
        """What each stage of this item's render should take, from this computer's measured
        renders (learned again whenever a render has finished); {} when it cannot be told."""
        from app import queries

        try:
            with self._pace_lock:
                finished = self.engine.finished
                if self._pace is None or self._pace[0] != finished:
                    pace = queries.estimates.render_pace(self.workspace, sizes=False)
                    self._pace = (finished, pace)
                pace = self._pace[1]
            idea = Idea.from_dict(claim.idea)
            length = queries.estimates.video_lengths(
                self.workspace, [idea], claim.style or None, pace
            )[0]
            return pace.plan(length, output.resolution.value, output.optimize.value)
        except Exception:  # an estimate must never stop a render
            log.exception("item %s: no time estimate", claim.item_id)
            return {}

    def _shared_folder(self) -> Path | None:
        """This computer's path to the folder the cluster's workers reach too, if any."""
        text = self.workspace.settings.text("render.shared_folder")
        return Path(text) if text else None

    def _needs(self, claim: queue.Claim) -> dict[str, float]:
        """What a cluster worker must offer to render this job's videos (``GPU=1``): the
        job's own ``needs``, else the ``render.cluster_needs`` setting."""
        chosen = claim.output_config.get("needs")
        text = chosen if chosen is not None else self.workspace.settings.get("render.cluster_needs")
        return parse_resources(str(text or ""), "needs")

    # Delivery

    def _storage(self, claim: queue.Claim) -> StorageTarget | None:
        """Where this job's finished files go beyond the disk: its own ``storage`` (``""`` or
        ``none``: nowhere), else the workspace's ``storage.target``."""
        chosen = claim.output_config.get("storage")
        text = str(chosen if chosen is not None else self.workspace.settings.get("storage.target"))
        return parse_target(text) if text.strip() and text.strip().lower() != "none" else None

    def _deliver(
        self, claim: queue.Claim, outputs: dict[str, Any], progress: Progress
    ) -> tuple[str | None, StorageError | None]:
        """A finished item's files sent to object storage when its job asks: the video's
        address, or what went wrong (the item is then retried; its render is not repeated)."""
        try:
            target = self._storage(claim)
            if target is None:
                return None, None
            progress("deliver", 0.0)
            files = [Path(outputs[k]) for k in OUTPUT_FILES if outputs.get(k)]
            files += [Path(v) for v in (outputs.get("renditions") or {}).values()]
            urls = deliver(
                [f for f in files if f.exists()],
                target,
                f"job-{claim.job_id}-{slug(claim.job_title, 40)}",
                self.workspace.storage_access(),
                mark=str(claim.item_id),
                progress=lambda fraction: progress("deliver", fraction),
            )
        except StorageError as exc:
            return None, exc
        except Exception as exc:  # a bug, or a storage library failing oddly: said, retried
            log.exception("delivering item %s to storage failed", claim.item_id)
            return None, StorageError(f"internal error ({exc}) — see the log")
        return urls[0] if urls else None, None

    def _adopt(
        self, claim: queue.Claim, folder: Path | None
    ) -> tuple[str, str | None, dict[str, Any] | None]:
        """A finished video under this item's name: its own (the engine died between the
        files' final rename and recording them) when its metadata names this idea — adopted
        without a word; anything else is not overwritten, and the item says why."""
        from app.pipeline.metadata import clean_title

        if folder is None:
            return "completed", None, None
        idea = Idea.from_dict(claim.idea)
        outputs = existing_outputs(folder, claim.row, idea, codec_config(claim.output_config))
        try:
            meta = json.loads(Path(outputs["metadata"]).read_text(encoding="utf-8"))
            ours = meta.get("title") == clean_title(idea.idea_title)
        except (OSError, ValueError, AttributeError):
            ours = False
        if ours:
            return "completed", None, outputs
        return (
            "failed",
            f"{Path(outputs['video']).name} in {folder} is another video — move it away (or "
            "choose another output folder), then retry",
            None,
        )

    # The outcome

    def record(
        self,
        claim: queue.Claim,
        outcome: RenderOutcome,
        folder: Path | None = None,
        progress: Progress = lambda _s, _f: None,
    ) -> None:
        """The attempt's outcome stored — files, delivery, a retry planned — and announced."""
        status: str = outcome.status
        error, transient = outcome.error, outcome.transient
        outputs = _outputs(outcome) if status == RenderStatus.COMPLETED else None
        if status == RenderStatus.SKIPPED:  # its video exists: done just before the last stop?
            status, error, outputs = self._adopt(claim, folder)
        url = None
        if status == RenderStatus.COMPLETED and outputs is not None:
            url, problem = self._deliver(claim, outputs, progress)
            if problem is not None:  # the files stay; the retry finds them and sends them again
                status, outputs, transient = RenderStatus.FAILED, None, problem.transient
                error = f"rendered, but not delivered to storage: {problem}"
        retry_at = None
        if status == RenderStatus.FAILED:
            retry_at, error = self._retry(claim, error, transient)
        if outcome.details:
            log.error("item %s failed:\n%s", claim.item_id, outcome.details)
        with self.db.write() as session:
            state = queue.finish_item(
                session, claim, status, error=error, outputs=outputs, output_url=url,
                retry_at=retry_at,
            )  # fmt: skip
            phase = session.scalar(select(Item.phase).where(Item.id == claim.item_id))
            self.engine.upkeep.tell_if_ended(session, claim.job_id)
        self._announce(claim, state, error, outputs, phase)

    def _retry(
        self, claim: queue.Claim, error: str | None, transient: bool
    ) -> tuple[Any, str | None]:
        """When a failed attempt tries again (None: it does not), and the error saying so."""
        policy = self.engine.retry_policy(claim)
        delay = retry_delay(policy, claim.attempt, transient=transient)
        if delay is None:
            return None, error
        again = f"attempt {claim.attempt + 1} of {policy.max_attempts}"
        return utcnow() + timedelta(seconds=delay), f"{error} — retrying in {delay:.0f} s ({again})"

    def _announce(
        self,
        claim: queue.Claim,
        state: str,
        error: str | None,
        outputs: dict[str, Any] | None,
        phase: str | None,
    ) -> None:
        engine = self.engine
        data = {"state": state, "error": error, "outputs": outputs, "phase": phase}
        engine.on_event(
            EngineEvent(EventKind.ITEM_FINISHED, claim.job_id, claim.item_id, claim.row, data)
        )
        if phase == "approval" and state == State.PENDING.value:
            engine.on_event(
                EngineEvent(
                    EventKind.ITEM_AWAITING_APPROVAL, claim.job_id, claim.item_id, claim.row
                )
            )
        if phase == "upload":
            engine.wake()


def _outputs(outcome: RenderOutcome) -> dict[str, Any] | None:
    """A finished render's files, length, credits and notes — and, for a whole render (not
    one resumed half-way), what estimates learn from."""
    result = outcome.result
    if not result:
        return None
    outputs: dict[str, Any] = {k: result[k] for k in OUTPUT_FILES}
    outputs["duration"] = result["duration"]
    # What the item panel shows beside the files: stock clips used, and why not.
    outputs["credits"] = result.get("credits") or []
    outputs["notes"] = result.get("warnings") or []
    if result.get("renditions"):  # the 9:16 copy for TikTok, Reels, Shorts
        outputs["renditions"] = dict(result["renditions"])
    if result.get("measure") and not result.get("resumed_from"):
        outputs["measure"] = {
            **result["measure"],
            "seconds": result.get("wall") or result.get("seconds"),
        }
    return outputs
