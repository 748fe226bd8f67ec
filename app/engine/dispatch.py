"""The engine's half of dispatch: how many renders may start now, claiming them, and when an
idle engine must look again.

The rest of the policy — which job's items go first, time windows, day rules, each job's
concurrency cap and minimum interval — is the job's (`app.domain.dispatch.job_turn`,
`serve_order`), applied where the items are claimed (`app.store.queue.claim_next`). Here:
the free slots (the engine's or the cluster's capacity, less renders running and renders
claimed but not yet started), the machine's load for *smart* jobs, and the next look.

Claims are made in threads — the engine's own pass, and a schedule's run in its job's
transaction — and started on the loop; the counts are read and changed together under one
lock, so no claimer over-fills the slots.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from app.engine.awake import AHEAD
from app.engine.load import LoadGauge
from app.store import publishing, queue
from app.store.database import Database
from app.store.models import utcnow

# While nothing runs, nothing was committed and nothing woke it, the engine skips its pass
# (one PRAGMA instead of its queries) until the next waiting item's time — and, while any
# item waits, at least this often, for what only the clock changes: a minimum interval
# between starts, a deadline, a job's end time.
HEARTBEAT = 10.0


class Dispatch:
    def __init__(
        self,
        db: Database,
        gauge: LoadGauge,
        capacity: Callable[[], int],
        running: Callable[[], int],
    ) -> None:
        self.db = db
        self.gauge = gauge
        self.capacity = capacity  # renders at once, here or on the cluster
        self.running = running  # renders running now
        self.lock = threading.Lock()
        self.in_flight = 0  # claimed, not yet started
        self.accepting = False  # while the loop runs: claims made now will be started
        self.held = False  # the load held back ready work: look again every poll
        self.look_at = 0.0  # monotonic: the next pass even when nothing else asks for one

    def free(self) -> int:
        """Render slots neither running nor claimed for a start (in any thread)."""
        with self.lock:
            return self.capacity() - self.running() - self.in_flight

    def claim_in(
        self, session: Session, free: int, load_slots: Callable[[], int] | None = None
    ) -> list[queue.Claim]:
        """Claim up to ``free`` items in ``session`` (a write transaction: claimers take turns)
        and count them as claimed until the loop starts them (`begin`)."""
        # The machine's load, read once — and only if a smart job has ready items.
        load_slots = load_slots or functools.cache(lambda: self.gauge.slots(self.running(), free))
        claims = queue.claim_next(session, free, load_slots=load_slots)
        with self.lock:
            self.in_flight += len(claims)
        return claims

    def claim_for_run(self, session: Session) -> list[queue.Claim]:
        """A schedule's run, in its job's transaction: what fits now, if the loop runs."""
        with self.lock:
            if not self.accepting:
                return []
        free = self.free()
        return self.claim_in(session, free) if free > 0 else []

    def give_back(self, claims: list[queue.Claim]) -> None:
        with self.lock:
            self.in_flight -= len(claims)

    def begin(self, claims: list[queue.Claim], start: Callable[[queue.Claim], None]) -> bool:
        """On the loop: claimed renders start — unless the loop has ended (False: the caller
        puts them back)."""
        with self.lock:
            self.in_flight -= len(claims)
            if self.accepting:
                for claim in claims:
                    start(claim)
            return self.accepting

    def claim(self) -> list[queue.Claim]:
        """In a thread: claim what fits the free slots — or, with nothing to claim, work out
        when to look again."""
        claims: list[queue.Claim] = []
        try:
            with self.db.write() as session:
                free = self.free()
                load_slots = functools.cache(lambda: self.gauge.slots(self.running(), free))
                claims += self.claim_in(session, free, load_slots) if free > 0 else []
                if not claims and free > 0:
                    self._plan_next_look(session, load_slots() < free)
        except BaseException:
            self.give_back(claims)  # not committed: never claimed
            raise
        return claims

    def _plan_next_look(self, session: Session, load_holds: bool) -> None:
        """Idle: the next look at the queue — the next waiting item's time, a heartbeat
        while anything waits (clock-driven rules), every poll while the load holds work."""
        now = utcnow()
        self.held = load_holds and queue.any_ready(session, now)
        # A post only this computer makes: a look AHEAD of it (to keep the computer awake)
        # and one at its time (to send it).
        later = publishing.next_post_due(session, now + AHEAD)
        times = [
            queue.next_start(session, now),
            publishing.next_post_due(session, now),
            later - AHEAD if later else None,
        ]
        upcoming = min((t for t in times if t is not None), default=None)
        wait = HEARTBEAT if queue.any_pending(session) else float("inf")
        if upcoming is not None:
            wait = min(wait, (upcoming - now).total_seconds())
        self.look_at = time.monotonic() + wait

    def due(self) -> bool:
        """Whether the clock (or held-back work) asks for a look now."""
        return self.held or time.monotonic() >= self.look_at
