"""Benchmark: read and validate a 10,000-row idea CSV.

    .venv/bin/python -m tests.bench.bench_validate [ROWS]

Prints the median of several runs for each level, and the same file read by a bare
``csv.reader`` as a baseline measured in the same run. Target: ≤ 0.5 s at moderate.
"""

from __future__ import annotations

import csv
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from app.domain.validation import Level, Rules
from app.sources.intake import SourceSpec, load_report

HEADER = [
    "Idea title",
    "Description",
    "Target audience",
    "Tone",
    "Duration (seconds)",
    "Platforms",
    "Script",
    "Voice",
    "Style",
    "Priority",
]
SCRIPT = (
    "Look up on a clear day and the sky is blue. Sunlight looks white, but it is a mix of "
    "every colour. When it enters the air, it bumps into tiny gas molecules. Blue light is "
    "scattered far more than red, so it reaches your eyes from every direction. "
) * 2


def make_csv(path: Path, rows: int) -> None:
    voices, styles, priorities = (
        ("female", "male", "neutral"),
        ("modern", "classic"),
        ("low", "normal", "high"),
    )
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow(
                [
                    f"Idea number {n}: why things are the way they are",
                    "A short explainer.",
                    "Curious people",
                    "Friendly",
                    30 + n % 300,
                    "youtube, tiktok",
                    SCRIPT,
                    voices[n % 3],
                    styles[n % 2],
                    priorities[n % 3],
                ]
            )


def median_seconds(work: Callable[[], object], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(rows: int = 10_000) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "ideas.csv"
        make_csv(path, rows)
        size_mb = path.stat().st_size / 1e6

        def baseline() -> object:
            with path.open(newline="", encoding="utf-8") as fh:
                return list(csv.reader(fh))

        base = median_seconds(baseline)
        print(f"{rows:,} rows, {size_mb:.1f} MB CSV")
        print(f"  baseline  csv.reader only        {base * 1000:7.1f} ms")
        for level in Level:
            report = load_report(SourceSpec(str(path)), Rules(level=level))
            assert len(report.rows) == rows and report.all_valid
            took = median_seconds(
                lambda lv=level: load_report(SourceSpec(str(path)), Rules(level=lv))
            )  # type: ignore[misc]
            verdict = "meets" if took <= 0.5 else "MISSES"
            print(
                f"  {level.value:<10} read + validate       {took * 1000:7.1f} ms   "
                f"{took / base:4.1f}× baseline, {verdict} the 0.5 s target"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
