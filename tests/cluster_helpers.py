"""A real Dask cluster on loopback for tests and benchmarks: a `dask scheduler` process and
`cadence worker` processes (each with its own scratch folder and log)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Cluster:
    address: str
    workers: list[subprocess.Popen[str]]
    folders: list[Path]


@contextmanager
def local_cluster(
    folder: Path,
    workers: int = 2,
    resources: dict[int, str] | None = None,
    shared: dict[int, Path] | None = None,
) -> Iterator[Cluster]:
    """A scheduler and ``workers`` `cadence worker` processes named w1, w2…; ``resources``:
    what worker number n offers (``{1: "GPU=1"}``); ``shared``: its ``--shared`` folder."""
    from distributed import Client

    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    started: list[subprocess.Popen[str]] = []
    try:
        deadline = time.monotonic() + 60
        address = None
        while address is None and time.monotonic() < deadline:
            try:  # the file appears before its contents: read until it parses
                address = json.loads(scheduler_file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.1)
        assert address is not None, "the Dask scheduler did not start within 60 s"
        folders = [folder / f"worker-{n}" for n in range(1, workers + 1)]
        for n, scratch in enumerate(folders, 1):
            env = {**os.environ, "CADENCE_WORKER_DIR": str(scratch)}
            with (folder / f"worker-{n}.log").open("w") as log:  # a pipe nobody reads fills up
                offers = ["--resources", resources[n]] if resources and n in resources else []
                if shared and n in shared:
                    offers += ["--shared", str(shared[n])]
                started.append(subprocess.Popen(
                    [sys.executable, str(ROOT / "main.py"), "worker", address, "--name", f"w{n}",
                     *offers],
                    env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
                ))  # fmt: skip
        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=90)
        yield Cluster(address, started, folders)
    finally:
        for process in [*started, scheduler]:
            process.send_signal(signal.SIGTERM)
        for process in [*started, scheduler]:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
