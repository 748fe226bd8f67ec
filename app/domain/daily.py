"""Videos made per day, on the user's calendar: what the dashboard's charts show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    completed: int = 0
    failed: int = 0

    @property
    def success_rate(self) -> float | None:
        """Percent of the day's finished videos that completed; None on a day with none."""
        finished = self.completed + self.failed
        return round(100.0 * self.completed / finished, 1) if finished else None


def by_local_day(
    outcomes: Iterable[tuple[datetime, str, int]], last: date, days: int, zone: tzinfo
) -> list[Day]:
    """``days`` days ending with ``last`` (oldest first), from (aware time, state, count)
    counts; each counted on its local day in ``zone``, so a video finished at 00:30 in
    Berlin is on that day, whatever UTC said."""
    first = last - timedelta(days=days - 1)
    counts: dict[date, list[int]] = {first + timedelta(days=n): [0, 0] for n in range(days)}
    for when, state, count in outcomes:
        slot = counts.get(when.astimezone(zone).date())
        if slot is not None:
            slot[0 if state == "completed" else 1] += count
    return [Day(day, done, failed) for day, (done, failed) in counts.items()]
