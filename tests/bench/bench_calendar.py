"""Benchmark: the content calendar at scale.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.bench.bench_calendar

Prints, each the median of several runs, with a baseline measured in the same run:
- month-view expansion of 10,000 recurring schedules (per-day run counts for March 2027 in
  Europe/Berlin, a month with a clock change) — target ≤ 50 ms; baseline: listing every run of
  every schedule exactly (`runs_between`) and counting them per day;
- `suggest_slots` over 90 days with 10,000 occurrences on 50 channels — target ≤ 100 ms;
  baseline: the same greedy choice checking each candidate against every occurrence;
- painting a month grid holding 3,000 entries — target ≤ 16 ms a frame; baseline: the same
  grid with no entries.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.domain.calendar_config import CalendarConfig
from app.domain.calendar_plan import (
    STATES,
    Kind,
    Occurrence,
    _candidates,
    period_view,
    suggest_slots,
)
from app.domain.calendar_runs import RunPlan, day_counts, runs_between
from app.domain.schedule import parse_schedule

BERLIN = ZoneInfo("Europe/Berlin")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def schedules(count: int, rng: random.Random) -> list[RunPlan]:
    """A realistic mix: daily and weekly at all sorts of times, monthly, crontabs, intervals."""
    plans = []
    anchor = datetime(2027, 1, 1, tzinfo=UTC)
    for n in range(count):
        hour, minute = rng.randrange(24), rng.choice((0, 15, 30, 45))
        kind = n % 6
        if kind == 0:
            expression = f"daily@{hour:02d}:{minute:02d}"
        elif kind == 1:
            days = ",".join(sorted(rng.sample(DAYS, rng.randint(1, 3)), key=DAYS.index))
            expression = f"weekly@{days}@{hour:02d}:{minute:02d}"
        elif kind == 2:
            expression = f"monthly@{rng.randint(1, 28)},{rng.randint(1, 31)}@{hour:02d}:00"
        elif kind == 3:
            expression = f"{minute} {hour} * * mon-fri"
        elif kind == 4:
            expression = f"every@{rng.choice((6, 8, 12, 24, 36))}h"
        else:
            expression = f"{minute} */{rng.choice((2, 3, 4))} * * *"
        plans.append(RunPlan(n, f"S{n}", parse_schedule(expression), BERLIN, anchor))
    return plans


def bench_expansion(count: int, runs: int) -> tuple[float, float]:
    plans = schedules(count, random.Random(1))
    first, length = date(2027, 3, 1), 31
    after = datetime(2027, 2, 28, tzinfo=UTC)
    start = datetime(2027, 3, 1, tzinfo=BERLIN)
    end = datetime(2027, 4, 1, tzinfo=BERLIN)

    def listed() -> list[int]:
        counts: Counter[date] = Counter()
        for plan in plans:
            counts.update(t.astimezone(BERLIN).date() for t in runs_between(plan, start, end))
        return [counts.get(first + timedelta(days=n), 0) for n in range(length)]

    fast = day_counts(plans, first, length, BERLIN, after)
    assert fast == listed(), "the counts must equal the listed runs"
    return median_ms(listed, max(1, runs // 3)), median_ms(
        lambda: day_counts(plans, first, length, BERLIN, after), runs
    )


def naive_suggest(
    occurrences: list[Occurrence], config: CalendarConfig, count: int, start: datetime, days: int
) -> list[datetime]:
    taken = [o.when.timestamp() for o in occurrences if o.channel == "UC1"]
    gap = max(config.min_gap_hours * 3600, 60)
    chosen: list[datetime] = []
    offers = [
        _candidates(config, start.astimezone(config.tz).date() + timedelta(days=n), ())
        for n in range(days)
    ]
    while len(chosen) < count:
        progress = False
        for options in offers:
            for index, (_rank, moment) in enumerate(options):
                stamp = moment.timestamp()
                day = moment.astimezone(config.tz).date()
                same_day = sum(
                    1 for t in taken if datetime.fromtimestamp(t, config.tz).date() == day
                )
                if (
                    moment > start
                    and not config.is_blackout(day)
                    and (not config.max_per_day or same_day < config.max_per_day)
                    and all(abs(t - stamp) >= gap for t in taken)
                ):
                    taken.append(stamp)
                    chosen.append(moment)
                    del options[index]
                    progress = True
                    break
            if len(chosen) >= count:
                break
        if not progress:
            break
    return chosen


def bench_suggest(count: int, runs: int) -> tuple[float, float]:
    rng = random.Random(2)
    start = datetime(2027, 3, 1, 6, tzinfo=BERLIN)
    config = CalendarConfig.from_dict(
        {"timezone": "Europe/Berlin", "min_gap_hours": 2, "max_per_day": 4,
         "slots": "mon-fri 09:00 13:00 17:00 21:00; sat 10:00 16:00", "blackout_days": "sun"}
    )  # fmt: skip
    occurrences = [
        Occurrence(f"item:{n}", start + timedelta(minutes=rng.randrange(90 * 24 * 60)),
                   f"Video {n}", Kind.ITEM, channel=f"UC{n % 50}")
        for n in range(count)
    ]  # fmt: skip
    fast = suggest_slots(occurrences, config, 30, start, 90, "UC1")
    assert len(fast) == 30
    baseline = median_ms(lambda: naive_suggest(occurrences, config, 30, start, 90), 1)
    return baseline, median_ms(
        lambda: suggest_slots(occurrences, config, 30, start, 90, "UC1"), runs
    )


def bench_paint(entries: int, runs: int) -> tuple[float, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from app.ui.calendar_views import MonthGrid

    app = QApplication.instance() or QApplication([])
    rng = random.Random(3)
    config = CalendarConfig.from_dict({"timezone": "Europe/Berlin", "blackout_days": "sun"})
    first = datetime(2027, 3, 1, tzinfo=BERLIN)
    occurrences = [
        Occurrence(f"item:{n}", first + timedelta(minutes=rng.randrange(31 * 24 * 60)),
                   f"Video {n}", Kind.ITEM, rng.choice(STATES[:-1]), "UC1")
        for n in range(entries)
    ]  # fmt: skip
    full = period_view("month", first.date(), occurrences, config).days
    empty = period_view("month", first.date(), [], config).days
    grid = MonthGrid()
    grid.resize(980, 640)
    image = QImage(grid.size(), QImage.Format.Format_ARGB32_Premultiplied)

    def paint(days: list) -> Callable[[], None]:
        def frame() -> None:
            grid.show_month(first.date(), days, first.date())
            grid.render(image)

        return frame

    for days in (empty, full):  # warm up fonts and caches
        paint(days)()
    app.processEvents()
    return median_ms(paint(empty), runs), median_ms(paint(full), runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--occurrences", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=3_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    listed, counted = bench_expansion(args.schedules, args.runs)
    print(f"month expansion, {args.schedules:,} schedules: {counted:.1f} ms "
          f"(target ≤ 50 ms); listing every run: {listed:.0f} ms — {listed / counted:.0f}× faster")  # fmt: skip # noqa: E501
    naive, fast = bench_suggest(args.occurrences, args.runs)
    print(f"suggest 30 slots over 90 days, {args.occurrences:,} occurrences: {fast:.1f} ms "
          f"(target ≤ 100 ms); checking every occurrence: {naive:.0f} ms — {naive / fast:.0f}× faster")  # fmt: skip # noqa: E501
    bare, painted = bench_paint(args.entries, args.runs)
    print(f"painting a month of {args.entries:,} entries: {painted:.2f} ms a frame "
          f"(target ≤ 16 ms); the empty grid: {bare:.2f} ms — {painted / bare:.2f}×")  # fmt: skip


if __name__ == "__main__":
    main()
