"""``worker``: render for a Dask scheduler (another computer's Cadence sends the videos)."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

from app.cli.common import whole
from app.domain.cluster import check_scheduler_address
from app.domain.errors import UserError
from app.paths import AppPaths
from app.user_files import checked_path


def add_parser(commands: Any) -> None:
    worker = commands.add_parser(
        "worker", help="render videos for Cadence on another computer (a Dask worker)"
    )
    worker.add_argument("scheduler", help="the Dask scheduler's address, e.g. tcp://renderbox:8786")
    worker.add_argument(
        "--nthreads", type=whole(1, 64), default=1, help="videos rendered at once (1 to 64)"
    )
    worker.add_argument("--resources", help="what this computer offers, e.g. GPU=1")
    worker.add_argument("--name", help="how the desktop's monitor names this worker")
    worker.add_argument(
        "--shared",
        metavar="DIR",
        help="this computer's path to the folder the desktop calls render.shared_folder (a "
        "network share): videos for job folders in it are written there directly",
    )
    worker.set_defaults(handler=cmd_worker)


def cmd_worker(args: argparse.Namespace, paths: AppPaths) -> int:
    from app.cluster.remote import SHARED_ENV
    from app.cluster.worker import serve
    from app.domain.resources import parse_resources

    address = check_scheduler_address(args.scheduler, "the scheduler")
    resources = parse_resources(args.resources)
    if args.shared:
        try:
            shared = checked_path(Path(args.shared), "--shared", shape="folder")
        except UserError as exc:
            raise UserError(f"{exc} (on this computer)") from None
        os.environ[SHARED_ENV] = str(shared)  # what `remote` reads, in this process
    return asyncio.run(serve(address, args.nthreads, resources, args.name))
