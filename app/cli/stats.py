"""``stats``: how the workspace is doing; ``history prune``: forget old attempts and audit."""

from __future__ import annotations

import argparse
import json
from contextlib import closing
from typing import Any

from app import ops, queries
from app.cli.common import whole
from app.engine.lock import AlreadyRunning, InstanceLock
from app.paths import AppPaths
from app.services import Services


def add_parser(commands: Any) -> None:
    show = commands.add_parser("stats", help="totals, states, success rate; is the engine running")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_stats)
    history = commands.add_parser("history", help="attempt history and audit log upkeep")
    actions = history.add_subparsers(dest="history_command", metavar="ACTION", required=True)
    prune = actions.add_parser("prune", help="delete history older than history.keep_days")
    prune.add_argument("--days", type=whole(1, 3650), help="override history.keep_days (1 to 3650)")
    prune.set_defaults(handler=cmd_prune)


def engine_running(paths: AppPaths) -> bool:
    try:
        InstanceLock(paths.data_dir / "engine.lock").acquire().release()
    except AlreadyRunning:
        return True
    return False


def cmd_stats(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        figures = queries.dashboard.totals(workspace)
    figures["engine_running"] = engine_running(paths)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    rate = f"{figures['success_rate']}%" if figures["success_rate"] is not None else "—"
    print(f"Jobs: {figures['jobs_total']} in all, {figures['jobs_active']} active")
    states = ", ".join(f"{n} {s}" for s, n in figures["jobs_by_state"].items() if n)
    print(f"      {states or 'none yet'}")
    print(f"Videos: {figures['items_completed']} made, {figures['items_failed']} failed, "
          f"{figures['items_pending']} waiting · success rate {rate}")  # fmt: skip
    print(f"Engine: {'running' if figures['engine_running'] else 'not running'}")
    return 0


def cmd_prune(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        print(ops.settings.prune_history(workspace, args.days))
    return 0
