"""``schedule preview``: the next run times of an expression, in a time zone."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

import tzlocal

from app.domain.schedule import ScheduleError, parse_schedule, zone
from app.engine.triggers import preview
from app.paths import AppPaths


def local_zone_name() -> str:
    try:
        return str(tzlocal.get_localzone_name() or "UTC")
    except Exception:  # tzlocal raises several kinds on odd systems; UTC is a safe answer
        return "UTC"


def add_parser(commands: Any) -> None:
    schedule = commands.add_parser("schedule", help="schedule expressions and their run times")
    actions = schedule.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    show = actions.add_parser(
        "preview",
        help="the next run times of EXPR",
        description="EXPR: a crontab(5) expression such as '0 9 * * mon-fri', or daily@09:30, "
        "weekly@mon,wed@18:00, monthly@1,15@08:00, every@6h, once@2026-12-01T09:00",
    )
    show.add_argument("expression", metavar="EXPR")
    show.add_argument(
        "--tz", default=None, metavar="ZONE", help="IANA time zone (default: this computer's)"
    )
    show.add_argument("--count", type=int, default=5, metavar="N")
    show.add_argument(
        "--from", dest="start", metavar="ISO_DATETIME", help="start after this time (default: now)"
    )
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_preview)


def cmd_preview(args: argparse.Namespace, paths: AppPaths) -> int:
    tz_name = args.tz or local_zone_name()
    tz = zone(tz_name)
    spec = parse_schedule(args.expression)
    if not 1 <= args.count <= 1000:
        raise ScheduleError("--count must be from 1 to 1000")
    if args.start:
        try:
            start = datetime.fromisoformat(args.start)
        except ValueError:
            raise ScheduleError(
                f"--from {args.start!r} is not an ISO date and time, e.g. 2026-03-28T12:00"
            ) from None
        start = start.replace(tzinfo=tz) if start.tzinfo is None else start
    else:
        start = datetime.now(tz)
    times = preview(spec, tz, start, args.count)
    if args.json:
        print(
            json.dumps(
                {
                    "expression": args.expression,
                    "kind": spec.kind,
                    "timezone": tz_name,
                    "runs": [t.isoformat() for t in times],
                },
                indent=2,
            )
        )
        return 0
    print(f"{args.expression} ({spec.kind}) in {tz_name}:")
    for moment in times:
        print(f"  {moment.isoformat()}   {moment:%a %d %b %Y %H:%M}")
    if not times:
        print("  (no further runs)")
    return 0
