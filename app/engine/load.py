"""Measured load, for smart-mode jobs: how many more renders this machine can take now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psutil

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Reading:
    cpu_percent: float  # whole machine, 0-100, since the previous reading
    available_mib: float


def read_machine() -> Reading:
    return Reading(psutil.cpu_percent(interval=None), psutil.virtual_memory().available / MIB)


class LoadGauge:
    """One more render starts only while the CPU has headroom and free memory covers one more
    render's peak; with nothing running, one always may (work never stalls on a busy machine).

    A render peaks near 600 MB (the render benchmark measured 555 MB with its ffmpeg)."""

    def __init__(
        self,
        *,
        cpu_busy: float = 85.0,
        render_mib: float = 700.0,
        read: Callable[[], Reading] = read_machine,
    ) -> None:
        self.cpu_busy = cpu_busy
        self.render_mib = render_mib
        self.read = read
        self.last: Reading | None = None

    def slots(self, running: int, free: int) -> int:
        """How many of ``free`` slots smart jobs may use now, with ``running`` renders going."""
        if free <= 0:
            return 0
        self.last = reading = self.read()
        by_memory = int(reading.available_mib // self.render_mib)
        if running == 0:
            return max(1, min(free, by_memory, 1 if reading.cpu_percent >= self.cpu_busy else free))
        if reading.cpu_percent >= self.cpu_busy:
            return 0
        # Headroom per render so far decides how many more fit; at least one while under the bar.
        per_render = max(reading.cpu_percent / running, 1.0)
        by_cpu = max(1, int((self.cpu_busy - reading.cpu_percent) // per_render))
        return max(0, min(free, by_memory, by_cpu))
