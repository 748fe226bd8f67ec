"""Uploads beside renders, in their own slots: waiting uploads claimed, each run in a worker
thread through the publishing destination, and its outcome — published, retried with the
job's backoff, waiting for quota, held until the channel signs in again — recorded and
announced."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.engine.events import EngineEvent, EventKind
from app.engine.retry import retry_delay
from app.google.publisher import Publisher, PublishOutcome
from app.publish.destination import Destination, destination
from app.store import publishing, queue
from app.store.models import Upload, utcnow

if TYPE_CHECKING:
    from app.engine.service import Engine, Worker

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2.0  # seconds between progress writes per item


class Uploading:
    def __init__(self, engine: Engine, publisher: Publisher | None = None) -> None:
        self.engine = engine
        self.db = engine.db
        self.max_uploads = engine.workspace.settings.integer("youtube.max_uploads")
        self._destinations: dict[str, Destination] = {}
        if publisher is not None:  # a publisher of the caller's (tests, benchmarks)
            from app.publish.youtube import YouTubeDestination

            self._destinations["youtube"] = YouTubeDestination(engine.workspace, publisher)

    def destination(self, name: str) -> Destination:
        """Where a claim's video goes, made once per engine."""
        if name not in self._destinations:
            self._destinations[name] = destination(self.engine.workspace, name)
        return self._destinations[name]

    def _claim(self, free: int) -> list[publishing.UploadClaim]:
        with self.db.write() as session:
            return publishing.claim_uploads(session, free, utcnow())

    async def fill(self) -> int:
        """Start the uploads that fit their slots; how many started."""
        engine = self.engine
        free = self.max_uploads - len(engine.uploads)
        if free <= 0:
            return 0
        claims = await asyncio.to_thread(self._claim, free)
        for claim in claims:
            engine.start(claim, engine.uploads, self.publish, {"stage": "upload"})
        return len(claims)

    def publish(self, worker: Worker) -> None:
        """In a worker thread: one upload attempt, then its outcome recorded."""
        claim = worker.claim
        assert isinstance(claim, publishing.UploadClaim)
        last_at = 0.0

        def progress(fraction: float) -> None:
            nonlocal last_at
            now = time.monotonic()
            if now - last_at < PROGRESS_EVERY:
                return
            last_at = now
            with self.db.write() as session:
                queue.record_progress(session, claim.item_id, "upload", fraction)
            data = {"stage": "upload", "progress": fraction}
            self.engine.on_event(
                EngineEvent(EventKind.ITEM_PROGRESSED, claim.job_id, claim.item_id, claim.row, data)
            )

        try:
            target = self.destination(claim.target)
            outcome = target.publish(claim.item_id, progress, worker.stop, worker.cancel)
        except Exception as exc:  # a bug: the item fails with a pointer to the log
            log.exception("publishing item %s failed", claim.item_id)
            outcome = PublishOutcome("failed", f"internal error while uploading ({exc})")
        self.record(claim, outcome)

    def record(self, claim: publishing.UploadClaim, outcome: PublishOutcome) -> None:
        kind, message, until = outcome.kind, outcome.message, outcome.until
        if kind == "retry":
            policy = self.engine.retry_policy(claim)
            delay = retry_delay(policy, claim.attempt, transient=True)
            if delay is None:
                kind = "failed"
                message = f"upload: {message} — tried {claim.attempt} times; retry the job later"
            else:
                until = utcnow() + timedelta(seconds=delay)
                message = f"upload: {message} — trying again in {delay:.0f} s"
        with self.db.write() as session:
            state = publishing.finish_upload(
                session, claim, kind, message=message, status=outcome.status, until=until
            )
            url = session.scalar(
                select(Upload.url).where(
                    Upload.item_id == claim.item_id, Upload.destination == claim.target
                )
            )
            self.engine.upkeep.tell_if_ended(session, claim.job_id)
        data = {
            "state": state,
            "error": message or None,
            "upload": outcome.status,
            "url": url,
            "destination": claim.target,
        }
        self._announce(claim, EventKind.ITEM_FINISHED, data)
        if outcome.kind == "wait":
            waiting = {"message": message, "until": until.isoformat() if until else None}
            self._announce(claim, EventKind.UPLOADS_WAITING, waiting)
        if outcome.kind == "hold":
            self._announce(claim, EventKind.CHANNEL_ON_HOLD, {"message": outcome.message})

    def _announce(
        self, claim: publishing.UploadClaim, kind: EventKind, data: dict[str, Any]
    ) -> None:
        self.engine.on_event(EngineEvent(kind, claim.job_id, claim.item_id, claim.row, data))
