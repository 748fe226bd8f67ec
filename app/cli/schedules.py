"""``schedule preview``: the next run times of an expression, in a time zone."""

from __future__ import annotations

import argparse
import json
from contextlib import closing
from datetime import datetime
from typing import Any

from app import ops, queries
from app.cli.common import add_id_actions
from app.domain.dates import OutOfRange, parse_moment
from app.domain.idea import Priority
from app.domain.schedule import ScheduleError, local_zone_name, parse_schedule, zone
from app.domain.validation import Level
from app.domain.zoned import zoned, zoned_iso
from app.paths import AppPaths
from app.services import Services
from app.sources.intake import SourceSpec
from app.triggers import preview


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

    add = actions.add_parser("add", help="schedule a job to be made from a sheet, repeatedly")
    add.add_argument("name")
    add.add_argument("expression", metavar="EXPR")
    add.add_argument("--source", required=True, metavar="SOURCE", help="CSV or XLSX file")
    add.add_argument("--tab", metavar="T")
    add.add_argument("--range", metavar="R")
    add.add_argument(
        "--tz", default=None, metavar="ZONE", help="IANA time zone (default: this computer's)"
    )
    add.add_argument(
        "--topic", default="", metavar="TEMPLATE", help="job title, e.g. 'Ideas for {date}'"
    )
    add.add_argument("--priority", choices=["low", "normal", "high"], default="normal")
    add.add_argument("--level", choices=["strict", "moderate", "permissive"], default="moderate")
    add.add_argument("--resolution", choices=["720p", "1080p", "4k"])
    add.add_argument("--vertical", action="store_true")
    add.add_argument("--format", choices=["mp4", "mov", "webm"])
    add.add_argument("--optimize", choices=["speed", "balanced", "quality"])
    add.add_argument("--style", metavar="NAME")
    add.add_argument("--start", metavar="ISO_DATETIME", help="no runs before this local time")
    add.add_argument("--end", metavar="ISO_DATETIME", help="no runs after this local time")
    add.set_defaults(handler=cmd_add)

    listing = actions.add_parser("list", help="schedules, their next run and last result")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_list)
    add_id_actions(
        actions,
        (
            ("pause", "stop a schedule making jobs until resumed"),
            ("resume", "let a paused schedule run again"),
            ("remove", "delete a schedule (its jobs stay)"),
            ("run", "make the schedule's job now"),
        ),
        cmd_one,
    )


def cmd_preview(args: argparse.Namespace, paths: AppPaths) -> int:
    tz_name = args.tz or local_zone_name()
    tz = zone(tz_name)
    spec = parse_schedule(args.expression)
    if not 1 <= args.count <= 1000:
        raise ScheduleError("--count must be from 1 to 1000")
    start = _moment(args.start, "--from", tz) or datetime.now(tz)
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


def cmd_add(args: argparse.Namespace, paths: AppPaths) -> int:
    tz_name = args.tz or local_zone_name()
    tz = zone(tz_name)
    parse_schedule(args.expression)
    start_at, end_at = _moment(args.start, "--start", tz), _moment(args.end, "--end", tz)
    if start_at and end_at and end_at <= start_at:
        raise ScheduleError("--end must be after --start")
    output = {k: v for k, v in {
        "resolution": args.resolution, "format": args.format, "optimize": args.optimize,
    }.items() if v}  # fmt: skip
    if "format" in output:
        output["container"] = output.pop("format")
    if args.vertical:
        output["vertical"] = True
    with closing(Services(paths)) as workspace:
        done = ops.schedules.add_schedule(workspace,
            SourceSpec(args.source, tab=args.tab, range=args.range),
            name=args.name, expression=args.expression, timezone=tz_name, topic=args.topic,
            priority=Priority(args.priority), level=Level(args.level), output_config=output,
            style=args.style, start_at=start_at, end_at=end_at,
        )  # fmt: skip
    rows_now, upcoming = len(done.report.valid_rows), done.runs
    print(f"{done.message.removesuffix('.')} ({rows_now} valid rows in the sheet now).")
    print("Next runs: " + "; ".join(zoned(t, tz_name) for t in upcoming))
    print("Jobs are made while Cadence runs (the window, or `run --headless`).")
    return 0


def cmd_list(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        rows = queries.schedules.schedule_rows(workspace)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("No schedules. Add one with:")
        print('  python main.py schedule add NAME "daily@09:00" --source FILE')
        return 0
    for row in rows:
        head = f"{row['id']:>3}  {row['state']:<6}  {row['expression']:<22} {row['timezone']:<18}"
        print(f"{head} {row['name']}")
        zone = row["timezone"]
        print(f"       next: {zoned_iso(row['next_run'], zone)}")
        if row["start"] or row["end"]:
            start = zoned_iso(row["start"], zone) if row["start"] else "now"
            end = zoned_iso(row["end"], zone) if row["end"] else "no end"
            print(f"       window: {start} to {end}")
        if row["last"]:
            last_run = row["last"]
            at = zoned_iso(last_run["at"], zone)
            print(f"       last: {last_run['what']} at {at} ({last_run['detail']})")
            if last_run["what"] == "missed":
                print(f"             run it now with: python main.py schedule run {row['id']}")
    return 0


def cmd_one(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        print(ops.schedules.schedule_action(workspace, args.id, args.action))
    return 0


def _moment(text: str | None, flag: str, tz: Any) -> datetime | None:
    """A local date-time for ``flag``, in the schedule's zone (an offset, if given, wins)."""
    if not text:
        return None
    try:
        moment = parse_moment(text)
    except OutOfRange as exc:
        raise ScheduleError(f"{flag} {text}: {exc}") from None
    except ValueError:
        raise ScheduleError(
            f"{flag} {text!r} is not an ISO date and time, e.g. 2026-12-01T09:00"
        ) from None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment
