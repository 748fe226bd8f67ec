"""Benchmark: the REST API on a real uvicorn server, and what refreshing only changed rows saves.

    .venv/bin/python -m tests.bench.bench_api [--items 100000] [--requests 36]

Prints, with 1,000 jobs of 100 items (by default):
- the window's reload: every job row vs only the one row an action changed (ratio);
- API latency p50/p95 over HTTP (keep-alive) for a page of 100 jobs, one job's progress and
  a pause+resume — each beside the same operation called directly in the same run, so the
  figure that matters is the API's overhead (a page is a keyset query in SQL; reading every
  row, as a page did at first, is the "every row" figure above);
- idle CPU of the process for 10 s with the API off, then on (nothing calling it).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

from app import ops, queries
from app.api.server import LocalApi
from app.ops.jobs import JobRequest
from app.paths import DEMO_SHEET, AppPaths
from app.services import Services
from app.sources.intake import SourceSpec
from tests.bench.bench_engine import fill


def timed(action: Callable[[], Any], times: int) -> list[float]:
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        action()
        spent.append((time.perf_counter() - start) * 1000)
    return spent


def show(name: str, spent: list[float], baseline: list[float] | None = None) -> None:
    p50, p95 = statistics.median(spent), statistics.quantiles(spent, n=20)[18]
    line = f"  {name:<34} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms"
    if baseline:
        direct = statistics.median(baseline)
        line += f"   (direct {direct:6.2f} ms: API overhead {p50 - direct:+.2f} ms)"
    print(line)


def idle_cpu(seconds: float) -> float:
    process = psutil.Process()
    process.cpu_percent(None)
    time.sleep(seconds)
    return process.cpu_percent(None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=36)  # 3 × 36 stay under 120 a minute
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        paths = AppPaths.resolve(Path(scratch))
        workspace = Services(paths)
        fill(workspace, 0, args.items, DEMO_SHEET)
        job_id = ops.jobs.create_job(
            workspace, JobRequest.of(SourceSpec(str(DEMO_SHEET)), title="Live")
        ).job_id
        jobs = job_id
        print(f"{jobs:,} jobs, {args.items:,} items")

        every = timed(lambda: queries.jobs.job_rows(workspace), 10)
        one = timed(lambda: queries.jobs.job_rows(workspace, {job_id}), 50)
        ratio = statistics.median(every) / statistics.median(one)
        print("Window reload after an action:")
        show("every row", every)
        show("only the changed row", one)
        print(f"  → {ratio:.0f}× less work per action")

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        workspace.settings.set("api.enabled", "true")
        workspace.settings.set("api.port", str(port))
        off = idle_cpu(10)
        local = LocalApi(paths)
        address = local.apply(workspace.settings)
        on = idle_cpu(10)
        token = workspace.settings.api_token()
        client = httpx.Client(
            base_url=f"{address}/api/v1", headers={"Authorization": f"Bearer {token}"}
        )
        n = args.requests

        def pause_resume_api() -> None:
            client.post(f"/jobs/{job_id}/pause").raise_for_status()
            client.post(f"/jobs/{job_id}/resume").raise_for_status()

        def pause_resume_direct() -> None:
            ops.jobs.job_action(workspace, job_id, "pause")
            ops.jobs.job_action(workspace, job_id, "resume")

        print(f"API over HTTP ({n} requests each):")
        show(
            "GET /jobs?page_size=100",
            timed(lambda: client.get("/jobs?page_size=100").raise_for_status(), n),
            timed(lambda: queries.jobs.job_page(workspace, "created_at", True, 100), n),
        )
        show(
            "GET /jobs/{id}/progress",
            timed(lambda: client.get(f"/jobs/{job_id}/progress").raise_for_status(), n),
            timed(lambda: queries.jobs.job_progress(workspace, job_id), n),
        )
        show(
            "POST pause + resume",
            timed(pause_resume_api, n // 2),
            timed(pause_resume_direct, n // 2),
        )
        client.close()
        local.stop()
        workspace.close()
        print(f"Idle CPU for 10 s: {off:.2f} % with the API off, {on:.2f} % with it on")


if __name__ == "__main__":
    main()
