"""`jobs create` options for how a job's items are scheduled (mode, concurrency, rules)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from app.domain.dispatch import MAX_CONCURRENT_LIMIT, Mode, Order
from app.domain.errors import UserError
from app.domain.idea import Priority
from app.user_files import read_user_text


def add_arguments(create: argparse.ArgumentParser) -> None:
    group = create.add_argument_group("scheduling")
    group.add_argument(
        "--mode",
        choices=[m.value for m in Mode],
        default=Mode.MANUAL.value,
        help="manual: sheet order, fixed concurrency (default); smart: concurrency follows "
        "load, cheap items first; time_based: --start/--end; content_based: --tags, "
        "--priority-threshold, --order",
    )
    group.add_argument(
        "--max-concurrent",
        type=int,
        metavar="N",
        help=f"at most N of this job's items at once (1-{MAX_CONCURRENT_LIMIT})",
    )
    group.add_argument(
        "--no-priority-queue",
        action="store_true",
        help="ignore job and row priorities: first come, first served",
    )
    group.add_argument("--start", metavar="WHEN", help="start no item before WHEN (ISO date-time)")
    group.add_argument(
        "--end", metavar="WHEN", help="start no item after WHEN; the rest are skipped"
    )
    group.add_argument(
        "--timezone", metavar="ZONE", help="zone of --start/--end and rule times (default: local)"
    )
    group.add_argument(
        "--tags", metavar="T,T", help="content_based: only rows tagged T (platform, tone, style…)"
    )
    group.add_argument(
        "--priority-threshold",
        choices=[p.value for p in Priority],
        help="content_based: only rows of this priority or higher",
    )
    group.add_argument(
        "--order",
        choices=[o.value for o in Order],
        help="item order: sheet, simple_first or complex_first",
    )
    group.add_argument(
        "--rules",
        metavar="FILE",
        type=Path,
        help="scheduling rules, a YAML or JSON list (see the README)",
    )


def read_rules(path: Path) -> list[Any]:
    text = read_user_text(path, "the rules file")
    try:
        data = yaml.safe_load(text)  # JSON is YAML too
    except RecursionError:
        raise UserError(
            f"the rules file {path} is nested too deeply to be rules — a list of rules is "
            "two or three levels deep"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise UserError(
            f"the rules file {path} is not valid YAML or JSON{where}: {problem}"
        ) from None
    if isinstance(data, dict) and "rules" in data:
        data = data["rules"]
    if not isinstance(data, list):
        raise UserError(f"{path} must hold a list of rules (or a mapping with a 'rules' list)")
    return data


def from_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The job's scheduling settings; `SchedulingConfig` checks them when the job is made."""
    scheduling: dict[str, Any] = {"mode": args.mode}
    if args.max_concurrent is not None:
        scheduling["max_concurrent"] = args.max_concurrent
    if args.no_priority_queue:
        scheduling["priority_queue"] = False
    for key, value in (
        ("start_at", args.start),
        ("end_at", args.end),
        ("timezone", args.timezone),
        ("tags", args.tags),
        ("priority_threshold", args.priority_threshold),
        ("order", args.order),
    ):
        if value:
            scheduling[key] = value
    if args.rules:
        scheduling["rules"] = read_rules(args.rules)
    return scheduling
