"""``storage test``: can Cadence write to the object storage finished videos are sent to?"""

from __future__ import annotations

import argparse
from contextlib import closing
from typing import Any

from app import queries
from app.paths import AppPaths
from app.services import Services


def add_parser(commands: Any) -> None:
    storage = commands.add_parser("storage", help="object storage for finished videos")
    actions = storage.add_subparsers(dest="storage_command", metavar="ACTION", required=True)
    test = actions.add_parser(
        "test", help="write, read back and delete a small file there with your storage key"
    )
    test.add_argument(
        "address", nargs="?", default="", help="s3://bucket/folder or gs://… (default: Settings)"
    )
    test.set_defaults(handler=cmd_test)


def cmd_test(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        print(queries.settings.test_storage(workspace, args.address))
    return 0
