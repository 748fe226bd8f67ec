"""Benchmark: working out a schedule's next runs.

    .venv/bin/python -m tests.bench.bench_schedules

Prints the time to work out the next 10 runs of one expression in Europe/Berlin from
20 March 2027 (a week before its spring-forward change), best of five: for five named
expressions, and the median, 90th percentile and maximum over 200 random crontab expressions
— each beside cronsim's time for the same work in the same run (an independent cron library,
the baseline). Goal: median ≤ 1 ms, maximum ≤ 5 ms. Every schedule's next run, the wizard's
live preview, the calendar and a start with 10,000 schedules pay this.

cronsim follows its own daylight-saving rules; its answers are the baseline's speed, not the
check of Cadence's (the test suite checks those against a brute-force oracle).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from itertools import islice
from zoneinfo import ZoneInfo

from cronsim import CronSim

from app.domain.schedule import parse_schedule
from app.triggers import preview

ZONE = ZoneInfo("Europe/Berlin")
START = datetime(2027, 3, 20, tzinfo=ZONE)
RUNS = 10
NAMED = ("*/5 * * * *", "0 0 1 1 *", "0 0 29 2 *", "0 0 31 * *", "0 10 * * *")
RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def _field(rng: random.Random, low: int, high: int) -> str:
    kind = rng.random()
    if kind < 0.3:
        return "*"
    if kind < 0.55:
        return str(rng.randint(low, high))
    if kind < 0.75:
        a, b = sorted((rng.randint(low, high), rng.randint(low, high)))
        return f"{a}-{b}"
    if kind < 0.9:
        return f"*/{rng.randint(2, max(2, (high - low) // 2))}"
    return ",".join(str(v) for v in sorted(rng.sample(range(low, high + 1), 3)))


def expressions(count: int, seed: int = 30) -> list[str]:
    """``count`` random crontab expressions that run at least once in 30 years."""
    rng = random.Random(seed)
    found: list[str] = []
    while len(found) < count:
        text = " ".join(_field(rng, low, high) for low, high in RANGES)
        try:
            if preview(parse_schedule(text), ZONE, START, 1):
                found.append(text)
        except Exception:  # an expression crontab refuses (a day that never comes)
            continue
    return found


def best_of(work: Callable[[], object], times: int = 5) -> float:
    """The fastest of ``times`` runs, in milliseconds."""
    best = float("inf")
    for _ in range(times):
        began = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - began)
    return best * 1000


def cadence(expression: str) -> Callable[[], object]:
    spec = parse_schedule(expression)
    return lambda: preview(spec, ZONE, START, RUNS)


def cronsim(expression: str) -> Callable[[], object]:
    return lambda: list(islice(CronSim(expression, START), RUNS))


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    return f"median {statistics.median(ordered):.2f} ms, p90 {p90:.2f} ms, max {ordered[-1]:.2f} ms"


def main() -> None:
    print(f"Next {RUNS} runs in {ZONE} from {START:%Y-%m-%d}, best of 5 (Cadence · cronsim):")
    for expression in NAMED:
        ours, theirs = best_of(cadence(expression)), best_of(cronsim(expression))
        print(f"  {expression:<14} {ours:6.2f} ms · {theirs:5.2f} ms")
    chosen = expressions(200)
    ours = [best_of(cadence(e)) for e in chosen]
    theirs = [best_of(cronsim(e)) for e in chosen]
    print(f"200 random expressions, Cadence: {summary(ours)}")
    print(f"200 random expressions, cronsim: {summary(theirs)}")
    ratio = statistics.median(o / t for o, t in zip(ours, theirs, strict=True))
    print(f"Cadence takes {ratio:.1f}× cronsim's time (median of the 200 ratios)")
    slowest = max(zip(ours, chosen, strict=True))
    print(f"slowest: {slowest[1]!r} {slowest[0]:.2f} ms")


if __name__ == "__main__":
    main()
