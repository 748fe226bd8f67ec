"""What the monitor's charts show, without Qt: samples over a sliding window of time.

A `Series` keeps (time, value) pairs for the last ``span`` seconds of its clock; the clock
is injectable, so tests feed samples at chosen moments. `Counter` turns events (a video
finished) into a count per bucket over the same window.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

HOUR = 3600.0


class Series:
    """Samples of one quantity over the last ``span`` seconds (older ones are dropped)."""

    def __init__(self, span: float = HOUR, clock: Callable[[], float] = time.monotonic) -> None:
        self.span = span
        self.clock = clock
        self._samples: deque[tuple[float, float]] = deque()

    def add(self, value: float) -> None:
        now = self.clock()
        self._samples.append((now, value))
        self._trim(now)

    def _trim(self, now: float) -> None:
        while self._samples and self._samples[0][0] < now - self.span:
            self._samples.popleft()

    @property
    def latest(self) -> float | None:
        return self._samples[-1][1] if self._samples else None

    def points(self) -> tuple[list[float], list[float]]:
        """(seconds before now — negative, so the newest is at 0 — and values), oldest first."""
        now = self.clock()
        self._trim(now)
        return [at - now for at, _ in self._samples], [value for _, value in self._samples]

    def __len__(self) -> int:
        return len(self._samples)


class Counter:
    """How many events fell in each ``bucket``-second slice of the last ``span`` seconds."""

    def __init__(
        self, span: float = HOUR, bucket: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.span = span
        self.bucket = bucket
        self.clock = clock
        self._events: deque[float] = deque()

    def add(self) -> None:
        self._events.append(self.clock())

    def counts(self) -> tuple[list[float], list[int]]:
        """(each bucket's start, in seconds before now, oldest first; events in it)."""
        now = self.clock()
        while self._events and self._events[0] < now - self.span:
            self._events.popleft()
        buckets = int(self.span // self.bucket)
        counts = [0] * buckets
        for at in self._events:
            index = buckets - 1 - int((now - at) // self.bucket)
            if 0 <= index < buckets:
                counts[index] += 1
        starts = [-(buckets - n) * self.bucket for n in range(buckets)]
        return starts, counts

    def total(self) -> int:
        return sum(self.counts()[1])
