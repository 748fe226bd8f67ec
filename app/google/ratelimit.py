"""Token buckets that keep Cadence inside Google's per-minute quotas.

Two limits apply to every request: one per signed-in account (``per_user``, default 60 a
minute) and one for the whole app (``per_project``, its Cloud project, default 300 a minute).
A request waits until both buckets hold a token. A quota error from Google (HTTP 429) empties
the buckets for the time Google asks (``hold``). While a request waits, ``on_limited`` is told
which job waits and until when, so the job's progress can say it is rate-limited.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens a minute, up to ``capacity`` saved up (default: one minute's worth)."""

    def __init__(
        self,
        rate_per_minute: float,
        capacity: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_minute <= 0:
            raise ValueError("a bucket needs a positive rate")
        self.rate = rate_per_minute / 60.0  # tokens a second
        self.capacity = capacity if capacity is not None else float(rate_per_minute)
        self.clock = clock
        self.tokens = self.capacity
        self.updated = clock()
        self.blocked_until = 0.0

    def _refill(self) -> float:
        now = self.clock()
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        return now

    def wait_time(self, tokens: float = 1.0) -> float:
        """Seconds until ``tokens`` are available (0: now)."""
        now = self._refill()
        blocked = max(0.0, self.blocked_until - now)
        short = max(0.0, tokens - self.tokens)
        return max(blocked, short / self.rate)

    def take(self, tokens: float = 1.0) -> None:
        self._refill()
        self.tokens -= tokens

    def hold(self, seconds: float) -> None:
        """Nothing until ``seconds`` from now, then a slow start from an empty bucket."""
        now = self._refill()
        self.blocked_until = max(self.blocked_until, now + seconds)
        self.tokens = 0.0
        self.updated = self.blocked_until


class RateLimiter:
    """Per-user and per-project buckets, shared by every Google client in the process."""

    def __init__(
        self,
        per_user: float = 60,
        per_project: float = 300,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_limited: Callable[[int | None, float], None] = lambda _job, _seconds: None,
    ) -> None:
        self.per_user = per_user
        self.clock = clock
        self.sleep = sleep
        self.on_limited = on_limited
        self.project = TokenBucket(per_project, clock=clock)
        self.users: dict[str, TokenBucket] = {}
        self.lock = threading.Lock()

    def _user(self, user: str) -> TokenBucket:
        bucket = self.users.get(user)
        if bucket is None:
            bucket = self.users[user] = TokenBucket(self.per_user, clock=self.clock)
        return bucket

    def delay(self, user: str) -> float:
        """Seconds a request for ``user`` would wait now (0: it may go)."""
        with self.lock:
            return max(self._user(user).wait_time(), self.project.wait_time())

    def acquire(self, user: str, *, job_id: int | None = None) -> float:
        """Wait for a token in both buckets and take it; returns the seconds waited."""
        waited = 0.0
        while True:
            with self.lock:
                bucket = self._user(user)
                pause = max(bucket.wait_time(), self.project.wait_time())
                if pause <= 0:
                    bucket.take()
                    self.project.take()
                    return waited
            self.on_limited(job_id, pause)
            self.sleep(pause)
            waited += pause

    def held_for(self) -> float:
        """Seconds until Google's quota lets requests through again (0: it does now)."""
        with self.lock:
            now = self.clock()
            buckets = [self.project, *self.users.values()]
            return max((b.blocked_until - now for b in buckets), default=0.0) if buckets else 0.0

    def hold(self, user: str, seconds: float) -> None:
        """Google said "quota exceeded, retry after ``seconds``": nobody asks before then."""
        with self.lock:
            self._user(user).hold(seconds)
            self.project.hold(seconds)
