"""Benchmark: a 6-item job rendered by one local process, and by two `cadence worker`s of a
Dask cluster on loopback (this machine).

    .venv/bin/python -m tests.bench.bench_cluster [--items 6]

Prints the wall time of each and their ratio — on one 2-core machine two workers share the
same cores, so expect about 1×: this proves the overhead, not a speed-up — and the Dask
path's overhead per item: one worker rendering items one at a time against the local
process doing the same, alternately, one item at a time (target ≤ 1 s per item).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

# Only the standard library at the top: every local render's child process imports this
# module (it is the main one), and the app's own main module costs next to nothing to import.


def timed_job(workspace: Any, items: int, folder: Path, at_once: int) -> float:
    from app.engine.service import Engine
    from tests.engine_helpers import add_job, states

    scripts = [
        f"Video number {n}. A short script, rendered for the benchmark." for n in range(items)
    ]
    job = add_job(workspace, scripts, folder)
    began = time.perf_counter()
    engine = Engine(workspace, poll_seconds=0.2, max_concurrent=at_once, run_schedules=False)
    asyncio.run(engine.run(asyncio.Event(), until_idle=True))
    elapsed = time.perf_counter() - began
    state, item_states = states(workspace, job)
    assert state == "completed", (state, item_states)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=6)
    parser.add_argument("--pairs", type=int, default=6, help="single items, local vs cluster")
    args = parser.parse_args()
    from app.paths import AppPaths
    from app.services import Services
    from tests.cluster_helpers import local_cluster

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        workspace = Services(AppPaths.resolve(root / "data"))
        timed_job(workspace, 1, root / "warm-up", 1)  # fonts, voices, encoder probe: cached
        local = [timed_job(workspace, args.items, root / "local-1", 1)]
        local_pair = timed_job(workspace, args.items, root / "local-pair", 2)
        with local_cluster(root, workers=2) as cluster:
            where = {"local": "local", "cluster": cluster.address}
            workspace.settings.set("render.cluster", cluster.address)
            timed_job(workspace, 1, root / "warm-up-remote", 1)
            remote_pair = timed_job(workspace, args.items, root / "remote-pair", 2)
            # The overhead: one item at a time, alternately here and there (this machine's
            # speed drifts by seconds a minute; pairs taken close together cancel it out).
            differences = []
            for n in range(args.pairs):
                took = {}
                for side in ("local", "cluster") if n % 2 == 0 else ("cluster", "local"):
                    workspace.settings.set("render.cluster", where[side])
                    took[side] = timed_job(workspace, 1, root / f"pair-{n}-{side}", 1)
                differences.append(took["cluster"] - took["local"])
            workspace.settings.set("render.cluster", "local")
        local.append(timed_job(workspace, args.items, root / "local-2", 1))  # the machine drifts
        workspace.close()
    local_serial = sum(local) / len(local)
    n = args.items
    print(f"{n}-item job, {n} short videos (720p), this machine (2 cores):")
    print(f"  one local process:            {local_serial:6.1f} s "
          f"(runs before and after: {local[0]:.1f} s, {local[1]:.1f} s)")  # fmt: skip
    print(f"  two cluster workers:          {remote_pair:6.1f} s "
          f"({local_serial / remote_pair:.2f}× the one local process)")  # fmt: skip
    print(f"  two local renders at once:    {local_pair:6.1f} s "
          f"({local_serial / local_pair:.2f}×: the cores, not Dask)")  # fmt: skip
    overhead = statistics.median(differences)
    verdict = "meets" if overhead <= 1.0 else "MISSES"
    each = ", ".join(f"{d:+.1f}" for d in differences)
    print(f"  overhead of the cluster path: {overhead:+.2f} s per item ({verdict} the ≤ 1 s "
          f"target), median of {len(differences)} alternating pairs: {each} s")  # fmt: skip


if __name__ == "__main__":
    main()
