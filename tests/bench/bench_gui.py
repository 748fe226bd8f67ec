"""Benchmark: the desktop app with 10,000 jobs and 100,000 items, on a real X display.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python -m tests.bench.bench_gui \\
        [--jobs 10000] [--items 100000] [--seconds 60] [--starts 3]

Starts the real app (``main.py``, engine and all) as users do, three times from a fresh
process, and prints: time from launch to the job table painted with its rows (target
≤ 1.0 s); the app's memory once idle (target ≤ 250 MB); and idle CPU of the whole app — its
process and any children — over ``--seconds`` with the window shown (target ≤ 0.5 % of a
core) and hidden in the tray (≤ 0.3 %). A tray host (``trayer``, if installed) is started
so that ``--tray`` really hides the window. Every job and item is finished, as in a
workspace that has been used for a year; nothing is due.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from app.paths import AppPaths
from app.services import Services
from tests.bench.bench_engine import fill

ROOT = Path(__file__).resolve().parents[2]
SHOWN = "job table shown"  # the first screenful of rows painted
COMPLETE = "job table complete"  # every job read and in the table


def launch(data: Path, *extra: str) -> tuple[subprocess.Popen[bytes], float, float]:
    """The app started as a user would; seconds until its job table was painted with its
    first rows, and until every job was in it."""
    log = data / "logs" / "cadence.log"
    before = log.stat().st_size if log.exists() else 0
    began = time.perf_counter()
    # As on a user's machine: Python keeps its compiled modules (this shell may say not to).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    app = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    shown = None
    while True:
        if log.exists() and log.stat().st_size > before:
            with log.open("rb") as handle:
                handle.seek(before)
                text = handle.read()
            if shown is None and SHOWN.encode() in text:
                shown = time.perf_counter() - began
            if shown is not None and COMPLETE.encode() in text:
                return app, shown, time.perf_counter() - began
        if app.poll() is not None:
            raise SystemExit(f"the app ended early: {app.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        time.sleep(0.005)


def family_cpu(process: psutil.Process) -> float:
    total = sum(process.cpu_times()[:2])
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):  # ended meanwhile
            total += sum(child.cpu_times()[:2])
    return total


def idle_cpu(app: subprocess.Popen[bytes], seconds: float) -> float:
    process = psutil.Process(app.pid)
    time.sleep(10)  # start-up work (the engine's first pass, the charts' import) settles
    before, wall = family_cpu(process), time.perf_counter()
    time.sleep(seconds)
    return 100 * (family_cpu(process) - before) / (time.perf_counter() - wall)


def stop(app: subprocess.Popen[bytes]) -> None:
    app.send_signal(signal.SIGTERM)
    try:
        app.wait(30)
    except subprocess.TimeoutExpired:
        app.kill()
        app.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        raise SystemExit("needs an X display: run it under xvfb-run (see the docstring)")
    tray = None
    if shutil.which("trayer"):
        tray = subprocess.Popen(["trayer", "--edge", "top"], stderr=subprocess.DEVNULL)
        time.sleep(1)
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "data"
        workspace = Services(AppPaths.resolve(data))
        sheet = Path(scratch) / "ideas.csv"
        sheet.write_text("Title,Script\nOne,Words.\n")
        began = time.perf_counter()
        fill(workspace, 0, args.items, sheet, per_job=max(1, args.items // args.jobs))
        workspace.close()
        made = time.perf_counter() - began
        print(f"{args.jobs:,} jobs, {args.items:,} items (made in {made:.1f} s)")
        config = data / "config" / "window.ini"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("[window]\npage=1\n")  # open on the job table, as a user comes back to

        app, _, _ = launch(data)  # the first start ever: compiles modules, seeds the demo job
        time.sleep(3)
        stop(app)
        starts, completes = [], []
        for _ in range(args.starts):
            app, seconds, complete = launch(data)
            starts.append(seconds)
            completes.append(complete)
            time.sleep(3)
            memory = psutil.Process(app.pid).memory_info().rss / 1024**2
            stop(app)
        print(
            f"  cold start to a painted job table: {', '.join(f'{s:.2f}' for s in starts)} s "
            f"(median {statistics.median(starts):.2f} s; target ≤ 1.0 s)"
        )
        print(
            f"  …and every job in it: {', '.join(f'{s:.2f}' for s in completes)} s "
            f"(median {statistics.median(completes):.2f} s)"
        )
        app, _, _ = launch(data)
        shown = idle_cpu(app, args.seconds)
        memory = psutil.Process(app.pid).memory_info().rss / 1024**2
        stop(app)
        print(f"  memory once idle: {memory:.0f} MB resident (target ≤ 250 MB)")
        print(
            f"  idle CPU, window shown: {shown:.2f} % of a core over {args.seconds:.0f} s "
            "(target ≤ 0.5 %)"
        )
        app, _, _ = launch(data, "--tray")
        hidden = idle_cpu(app, args.seconds)
        stop(app)
        where = "hidden in the tray" if tray is not None else "NO TRAY HOST: window shown"
        print(
            f"  idle CPU, {where}: {hidden:.2f} % of a core over {args.seconds:.0f} s "
            "(target ≤ 0.3 %)"
        )
    if tray is not None:
        tray.terminate()


if __name__ == "__main__":
    main()
