"""``calendar``: planning rules, the day/week/month, conflicts, free slots and gaps."""

from __future__ import annotations

import argparse
import json
from contextlib import closing
from datetime import date
from typing import Any

from app import ops
from app.domain.calendar_plan import STATES, Period
from app.domain.dates import OutOfRange, parse_day
from app.domain.errors import UserError
from app.paths import AppPaths
from app.queries.calendar import Calendar
from app.services import Services


def _day(text: str) -> date:
    try:
        return parse_day(text)
    except OutOfRange as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc}") from None
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date — write it like 2027-01-31"
        ) from None


def _hours(text: str) -> list[int]:
    try:
        hours = [int(h) for h in text.replace(" ", "").split(",") if h]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of hours — write it like 10,14,18"
        ) from None
    if any(not 0 <= h <= 23 for h in hours):
        raise argparse.ArgumentTypeError(f"{text!r}: hours go from 0 to 23")
    return hours


def add_parser(commands: Any) -> None:
    calendar = commands.add_parser("calendar", help="the content calendar: plan, check, suggest")
    actions = calendar.add_subparsers(dest="calendar_command", metavar="ACTION", required=True)

    config = actions.add_parser("config", help="show or change the planning rules")
    config.add_argument("--channel", metavar="ID|TITLE", help="a channel's own rules")
    config.add_argument("--min-gap-hours", type=float, metavar="H")
    config.add_argument("--max-per-day", type=int, metavar="N", help="0: no maximum")
    config.add_argument("--preferred-hours", metavar="10,14,18")
    config.add_argument("--blackout-days", metavar="sat,sun", help="weekdays with no video")
    config.add_argument("--blackout-dates", metavar="2027-01-01,…")
    config.add_argument("--slots", metavar='"mon-fri 17:00; sat 10:00"', help="posting slots")
    config.add_argument("--timezone", metavar="ZONE")
    config.add_argument("--topic-days", type=int, metavar="N", help="same-topic window in days")
    config.add_argument("--json", action="store_true")
    config.set_defaults(handler=cmd_config)

    show = actions.add_parser("show", help="a day, a week or a month (default: this week)")
    period = show.add_mutually_exclusive_group()
    period.add_argument("--day", type=_day, metavar="DATE")
    period.add_argument("--week", type=_day, metavar="DATE")
    period.add_argument("--month", type=_day, metavar="DATE")
    show.add_argument("--channel", metavar="ID|TITLE")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)

    def span(parser: argparse.ArgumentParser, days: int) -> None:
        parser.add_argument("--from", dest="first", type=_day, metavar="DATE", help="default today")
        parser.add_argument("--days", type=int, default=days, metavar="N", help=f"default {days}")
        parser.add_argument("--json", action="store_true")

    conflicts = actions.add_parser("conflicts", help="time, topic, capacity and quota conflicts")
    span(conflicts, 30)
    conflicts.set_defaults(handler=cmd_conflicts)

    suggest = actions.add_parser("suggest", help="free slots that keep every rule")
    suggest.add_argument("--count", type=int, required=True, metavar="N")
    suggest.add_argument("--channel", metavar="ID|TITLE")
    suggest.add_argument("--preferred-hours", type=_hours, metavar="10,14,18")
    span(suggest, 14)
    suggest.set_defaults(handler=cmd_suggest)

    gaps = actions.add_parser("gaps", help="days with nothing to publish")
    gaps.add_argument("--channel", metavar="ID|TITLE")
    span(gaps, 30)
    gaps.set_defaults(handler=cmd_gaps)


def cmd_config(args: argparse.Namespace, paths: AppPaths) -> int:
    changes = {
        key: value
        for key, value in (
            ("min_gap_hours", args.min_gap_hours),
            ("max_per_day", args.max_per_day),
            ("preferred_hours", args.preferred_hours),
            ("blackout_days", args.blackout_days),
            ("blackout_dates", args.blackout_dates),
            ("slots", args.slots),
            ("timezone", args.timezone),
            ("topic_days", args.topic_days),
        )
        if value is not None
    }
    with closing(Services(paths)) as workspace:
        planner = Calendar(workspace)
        if changes:
            config = ops.calendar.set_config(workspace, args.channel or "", changes).config
        else:
            config = planner.config(args.channel or "")
    if args.json:
        print(json.dumps(config.to_dict(), indent=2))
        return 0
    whose = f"Channel {args.channel}" if args.channel else "Every channel (the default)"
    print(f"{whose}{' — saved' if changes else ''}:")
    for line in config.describe():
        print(f"  {line}")
    return 0


def _print_period(period: Period, tz: Any) -> None:
    totals = period.totals
    summary = ", ".join(f"{totals[s]} {s}" for s in STATES if totals[s]) or "nothing planned"
    use = period.utilisation
    print(
        f"{period.kind.capitalize()} from {period.first:%a %d %b %Y}: {summary}"
        + (f" · {use:.0%} of what the rules allow" if use is not None else "")
    )
    for entry in period.days:
        if not entry.total and not entry.slots and period.kind == "month":
            continue
        allowed = "" if entry.allowed is None else f" / {entry.allowed} allowed"
        marks = f"  ⚠ {entry.conflicts} conflict(s)" if entry.conflicts else ""
        print(f"{entry.day:%a %d %b}: {entry.total}{allowed}{marks}")
        for occurrence in entry.occurrences:
            print(f"    {occurrence.when.astimezone(tz):%H:%M}  {occurrence.title}"
                  f"  [{occurrence.state}]  ({occurrence.key})")  # fmt: skip
        runs = entry.counts.get("run", 0) - sum(1 for o in entry.occurrences if o.state == "run")
        if runs > 0:
            print(f"    + {runs} scheduled runs")
        free = [s for s in entry.slots if all(o.when != s for o in entry.occurrences)]
        if free and period.kind != "month":
            print("    free slots: " + ", ".join(f"{s.astimezone(tz):%H:%M}" for s in free))


def cmd_show(args: argparse.Namespace, paths: AppPaths) -> int:
    kind, anchor = "week", date.today()
    for name in ("day", "week", "month"):
        if getattr(args, name):
            kind, anchor = name, getattr(args, name)
    with closing(Services(paths)) as workspace:
        planner = Calendar(workspace)
        period, _found = planner.view(kind, anchor, args.channel or "")
        tz = planner.config(args.channel or "").tz
    if args.json:
        print(json.dumps(period.to_dict(tz), indent=2))
    else:
        _print_period(period, tz)
    return 0


def cmd_conflicts(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        planner = Calendar(workspace)
        found = planner.conflicts(args.first, args.days)
        tz = planner.config().tz
    if args.json:
        print(json.dumps([c.to_dict(tz) for c in found], indent=2))
        return 0
    if not found:
        print(f"No conflicts in the next {args.days} days.")
        return 0
    for conflict in found:
        print(f"{conflict.when.astimezone(tz):%a %d %b %H:%M}  {conflict.kind.value:<8} "
              f"{conflict.reason}")  # fmt: skip
    return 1


def cmd_suggest(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        planner = Calendar(workspace)
        found = planner.suggest(
            args.count, args.first, args.days, args.channel or "", args.preferred_hours
        )
        tz = planner.config(args.channel or "").tz
    if args.json:
        print(json.dumps([t.astimezone(tz).isoformat() for t in found], indent=2))
        return 0
    if not found:
        raise UserError(
            f"no free slot in the next {args.days} days keeps every rule — try more --days, or "
            "loosen the rules (`calendar config`)"
        )
    for moment in found:
        print(f"{moment.astimezone(tz):%a %d %b %Y %H:%M %Z}")
    if len(found) < args.count:
        print(f"Only {len(found)} of {args.count} slots fit in {args.days} days.")
    return 0


def cmd_gaps(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        found = Calendar(workspace).gaps(args.first, args.days, args.channel or "")
    if args.json:
        print(json.dumps([d.isoformat() for d in found], indent=2))
        return 0
    if not found:
        print(f"A video publishes on every day of the next {args.days} days.")
        return 0
    print(f"{len(found)} {'day' if len(found) == 1 else 'days'} with nothing to publish:")
    for day in found:
        print(f"  {day:%a %d %b %Y}")
    return 0
