"""``cadence worker``: a Dask worker that renders Cadence items, on any computer with the
same Cadence version installed. It keeps no database: the desktop decides what runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from app import __version__
from app.domain.errors import UserError

log = logging.getLogger(__name__)

CONNECT_SECONDS = 30


async def serve(
    scheduler: str, nthreads: int, resources: dict[str, float], name: str | None
) -> int:
    """Work for ``scheduler`` until interrupted; returns the exit status."""
    try:
        from distributed import Worker
    except ImportError:
        raise UserError(
            "cadence worker needs Dask — install Cadence with the cluster extra "
            "(pip install 'cadence-studio[cluster]')"
        ) from None
    from app.cluster.remote import scratch
    from app.pipeline.lifeline import sweep_leftovers

    await asyncio.to_thread(sweep_leftovers, scratch() / "work")  # a killed worker's encoders
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: Ctrl+C only
            loop.add_signal_handler(signum, stop.set)
    try:
        worker = Worker(
            scheduler, nthreads=nthreads, resources=resources or None, name=name,
            dashboard=False, death_timeout=CONNECT_SECONDS,
        )  # fmt: skip
        await asyncio.wait_for(worker.start(), timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError) as exc:
        why = str(exc) or f"no answer in {CONNECT_SECONDS} s"
        raise UserError(
            f"cannot reach the Dask scheduler at {scheduler} ({why}) — start it first "
            "(dask scheduler) and check the address and port"
        ) from None
    print(
        f"Cadence {__version__} worker {worker.address} rendering for {scheduler} "
        f"({nthreads} at a time). Ctrl+C stops it.",
        flush=True,
    )
    finished = asyncio.ensure_future(worker.finished())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([finished, stopping], return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not finished.done():
        await worker.close(reason="cadence worker stopped")
    return 0
