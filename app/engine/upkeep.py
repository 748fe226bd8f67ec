"""What the engine does besides making and publishing videos: telling a job's callback URL
when it ends (webhooks), writing statuses back to the sheets, reading published videos'
figures once a day, and pruning old history — each in a thread, never holding up the loop,
and none able to stop the engine by failing."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from app.domain.states import State
from app.engine import awake
from app.google.writeback import WriteBack
from app.publish import webhooks
from app.store import publishing, stats
from app.store.jobs import audit
from app.store.models import Job, utcnow

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger(__name__)

PRUNE_EVERY = 6 * 3600.0
WRITE_BACK_EVERY = 1.0  # seconds between status write-backs (one request per sheet each)
WRITE_BACK_IDLE_EVERY = 15.0
WEBHOOK_GRACE = 120.0  # seconds a shutdown waits for webhook deliveries
FIGURES_EVERY = 3600.0  # seconds between looks whether published videos' figures are due
LAST_WRITE_BACK_SECONDS = 60.0  # the longest a stop waits for the sheets' last statuses


class Upkeep:
    def __init__(self, workspace: Services) -> None:
        self.workspace = workspace
        self.db = workspace.db
        self.writeback = WriteBack(workspace.db, workspace.sheets)
        self.webhook_threads: list[threading.Thread] = []
        self.news = True  # our own news since the last write-back
        self._pruned_at = 0.0
        self._flushing: asyncio.Future[int] | None = None
        self._flushed_at = 0.0
        self.figures_at = 0.0  # monotonic: the next look whether figures are due (daily)
        self._figures: asyncio.Future[None] | None = None
        self.awake = awake.KeepAwake()

    # Webhooks

    def tell_if_ended(self, session: Any, job_id: int) -> None:
        """A job that just completed or failed posts its summary to its callback URL."""
        job = session.get(Job, job_id)
        assert job is not None
        if job.callback_url and job.state in (State.COMPLETED.value, State.FAILED.value):
            body = webhooks.payload(
                stats.job_progress(session, job.id),
                job.finished_at.isoformat() if job.finished_at else None,
                publishing.posts_of(session, job.id),
            )
            self.send_webhook(job.id, job.callback_url, body)

    def send_webhook(self, job_id: int, url: str, body: bytes) -> None:
        """Deliver in its own thread: retries with backoff never hold up the engine."""
        secret = self.workspace.settings.webhook_secret()

        def send() -> None:
            details: dict[str, object]
            try:
                status = webhooks.deliver(url, body, secret)
                action, details = "webhook.sent", {"status": status}
            except webhooks.WebhookError as exc:
                log.warning("webhook for job %s: %s", job_id, exc)
                action, details = "webhook.failed", {"error": str(exc)}
            with self.db.write() as session:
                audit(session, "Cadence", action, "job", job_id, url=url, **details)

        thread = threading.Thread(target=send, name=f"webhook-{job_id}", daemon=True)
        self.webhook_threads.append(thread)
        thread.start()

    # Every pass

    async def each_pass(self) -> None:
        if time.monotonic() - self._pruned_at > PRUNE_EVERY:
            await asyncio.to_thread(self.prune)
        await asyncio.to_thread(self.keep_awake_if_due)
        self._maybe_write_back()
        self._maybe_read_figures()

    def keep_awake_if_due(self) -> None:
        """Hold the system's sleep inhibitor while a post only this computer can make is due
        within minutes (or late); let go when none is."""
        with self.db.read() as session:
            due = publishing.posts_due(session, utcnow() + awake.AHEAD)
        if due:
            self.awake.hold(f"{due} TikTok post{'s' if due != 1 else ''} due")
        elif self.awake.held:
            self.awake.release()

    def prune(self) -> None:
        """History older than ``history.keep_days`` goes, at start and every few hours."""
        self._pruned_at = time.monotonic()
        days = self.workspace.settings.integer("history.keep_days")
        with self.db.write() as session:
            removed = stats.prune_history(session, days)
        if any(removed.values()):
            log.info("pruned history older than %s days: %s", days, removed)

    def _maybe_write_back(self) -> None:
        """At most one status write-back a second, in a thread, never holding up the loop."""
        if self._flushing is not None and not self._flushing.done():
            return
        # Soon after news of our own (an item started, progressed, finished); otherwise now
        # and then, for changes made elsewhere (a `jobs cancel` in a terminal) or still pending.
        every = WRITE_BACK_EVERY if self.news else WRITE_BACK_IDLE_EVERY
        if time.monotonic() - self._flushed_at < every:
            return
        self._flushed_at = time.monotonic()
        self.news = False
        self._flushing = asyncio.ensure_future(asyncio.to_thread(self._write_back))

    def _write_back(self) -> int:
        try:
            return self.writeback.flush() if self.writeback.pending() else 0
        except Exception:  # a bug here must not stop the engine; the news stays pending
            log.exception("status write-back failed")
            return 0

    def _maybe_read_figures(self) -> None:
        """Once a day, the published videos' views, likes and comments (in a thread)."""
        if time.monotonic() < self.figures_at:
            return
        if self._figures is not None and not self._figures.done():
            return
        self.figures_at = time.monotonic() + FIGURES_EVERY
        self._figures = asyncio.ensure_future(asyncio.to_thread(self._read_figures))

    def _read_figures(self) -> None:
        from app import queries

        try:
            analytics = queries.analytics.analytics(self.workspace)
            if analytics.due():
                log.info("%s", analytics.fetch().summary())
        except Exception:  # a bug here must not stop the engine; tomorrow's read tries again
            log.exception("reading the videos' figures failed")

    def rate_limited(self, job_id: int | None, seconds: float) -> None:
        """A Google request of ``job_id`` waits for quota: its progress says so meanwhile."""
        if job_id is not None:
            with self.db.write() as session:
                stats.mark_rate_limited(session, job_id, utcnow() + timedelta(seconds=seconds))

    # Stopping

    async def finish(self) -> int:
        """Deliveries in flight finish (or give up), reads in flight complete, and the last
        statuses — the last video's "completed" among them — reach the sheets; returns how
        many rows could not be written (offline, quota)."""
        self.awake.release()  # the helper never outlives the engine
        for thread in self.webhook_threads:
            await asyncio.to_thread(thread.join, WEBHOOK_GRACE)
        for flight in (self._flushing, self._figures):
            if flight is not None:
                await asyncio.gather(flight, return_exceptions=True)
        return await asyncio.to_thread(self._last_write_back)

    def _last_write_back(self) -> int:
        try:
            return self.writeback.flush_all(LAST_WRITE_BACK_SECONDS)
        except Exception:  # a bug here must not keep the engine from stopping
            log.exception("the last status write-back failed")
            return self.writeback.pending_count()
