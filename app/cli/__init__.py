"""The command line: ``python main.py SUBCOMMAND`` (no subcommand opens the window)."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import sys
from collections.abc import Callable, Sequence
from contextlib import closing
from datetime import datetime
from typing import Any, NoReturn

from app import APP_NAME, __version__, ops, queries
from app.cli import accounts as cli_accounts
from app.cli import analytics as cli_analytics
from app.cli import api as cli_api
from app.cli import auth as cli_auth
from app.cli import calendar as cli_calendar
from app.cli import db as cli_db
from app.cli import dispatch as cli_scheduling
from app.cli import engine as cli_engine
from app.cli import footage as cli_footage
from app.cli import publish as cli_publish
from app.cli import render as cli_render
from app.cli import schedules as cli_schedule
from app.cli import settings as cli_settings
from app.cli import stats as cli_stats
from app.cli import storage as cli_storage
from app.cli import voices as cli_voices
from app.cli import worker as cli_worker
from app.cli.common import EscapingStream, printable, record_id
from app.domain.errors import UserError
from app.domain.estimate import Estimate
from app.domain.idea import Priority
from app.domain.states import State
from app.domain.validation import Level, RowReport, Rules, SheetReport
from app.export import FORMATS
from app.logs import setup_logging
from app.ops.jobs import JobRequest
from app.paths import AppPaths, expand
from app.services import Services
from app.sources.intake import SourceSpec, load_report

log = logging.getLogger("app.cli")

EXIT_OK, EXIT_INVALID, EXIT_USER_ERROR, EXIT_BUG = 0, 1, 2, 70
# What a path the user gave can lead to: theirs to fix, not a bug.
USER_ERRNOS = {
    errno.ENOENT, errno.EACCES, errno.EPERM, errno.ENAMETOOLONG, errno.ELOOP, errno.ENOTDIR,
    errno.EISDIR, errno.EEXIST, errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.ENXIO,
}  # fmt: skip


class _Parser(argparse.ArgumentParser):
    """argparse, with a mistake told in one line that says where help is (its own usage
    block can run to a dozen lines and bury the reason)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} — see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cadence",
        description=f"{APP_NAME}: turn a spreadsheet of video ideas into finished videos. "
        "Without a command, the desktop window opens.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--verbose", "-v", action="store_true", help="log details to the terminal")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="keep the database and logs in DIR (default: user data dir)",
    )
    parser.add_argument(
        "--tray",
        action="store_true",
        help="start with the window hidden in the system tray (as at login)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def source_arguments(p: argparse.ArgumentParser, flag: bool) -> None:
        if flag:
            p.add_argument(
                "--source",
                required=True,
                metavar="SOURCE",
                help="CSV or XLSX file, or a Google Sheet URL or ID",
            )
        else:
            p.add_argument(
                "source", metavar="SOURCE", help="CSV or XLSX file, or a Google Sheet URL or ID"
            )
        p.add_argument("--tab", metavar="T", help="worksheet tab (XLSX, Google Sheets)")
        p.add_argument("--range", metavar="R", help="A1 range such as A1:J1000")
        p.add_argument(
            "--level",
            choices=[lvl.value for lvl in Level],
            default=Level.MODERATE.value,
            help="validation level (default: moderate)",
        )

    validate = commands.add_parser("validate", help="check a sheet's rows and report problems")
    source_arguments(validate, flag=False)
    validate.add_argument("--json", action="store_true", help="print a JSON list, one entry a row")
    validate.set_defaults(handler=cmd_validate)

    jobs = commands.add_parser("jobs", help="create, list, show and export bulk jobs")
    job_commands = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)

    create = job_commands.add_parser("create", help="create a job from a sheet's valid rows")
    source_arguments(create, flag=True)
    create.add_argument("--title", metavar="T", help="job title (default: file name and date)")
    create.add_argument(
        "--priority", choices=[p.value for p in Priority], default=Priority.NORMAL.value
    )
    create.add_argument(
        "--deadline",
        type=int,
        metavar="MINUTES",
        help="items not started this many minutes after the job starts are skipped (1-1440)",
    )
    create.add_argument(
        "--callback", metavar="URL", help="POST a signed JSON summary here when the job ends"
    )
    create.add_argument(
        "--write-back",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show each row's status in its Google Sheet (default: the google.write_back setting)",
    )
    cli_scheduling.add_arguments(create)
    cli_publish.add_job_arguments(create)
    create.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything and print what the job would take (as the wizard's Review "
        "does: videos, render time, disk, quota, last video ready) — create nothing",
    )
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=cmd_jobs_create)

    states = [s.value for s in State]
    listing = job_commands.add_parser("list", help="list jobs, newest first")
    listing.add_argument(
        "--state", choices=states, metavar="S", help=f"only jobs in state S ({', '.join(states)})"
    )
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_jobs_list)

    show = job_commands.add_parser("show", help="one job with its items")
    show.add_argument("id", type=record_id, metavar="ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_jobs_show)

    export = job_commands.add_parser("export", help="all jobs as JSON, CSV or YAML")
    export.add_argument("--format", choices=FORMATS, required=True)
    export.add_argument("--out", metavar="FILE", help="write to FILE instead of the terminal")
    export.add_argument("--state", choices=states, metavar="S", help="only jobs in state S")
    export.add_argument(
        "--items", action="store_true", help="CSV: one line per item instead of per job"
    )
    export.set_defaults(handler=cmd_jobs_export)
    cli_engine.add_job_actions(job_commands)
    cli_engine.add_run_parser(commands)
    cli_render.add_parser(commands)
    cli_settings.add_parser(commands)
    cli_schedule.add_parser(commands)
    cli_stats.add_parser(commands)
    cli_calendar.add_parser(commands)
    cli_auth.add_parser(commands)
    cli_accounts.add_parser(commands)
    cli_publish.add_parser(commands)
    cli_db.add_parser(commands)
    cli_api.add_parser(commands)
    cli_footage.add_parser(commands)
    cli_voices.add_parser(commands)
    cli_analytics.add_parser(commands)
    cli_worker.add_parser(commands)
    cli_storage.add_parser(commands)
    return parser


# --- commands --------------------------------------------------------------------------------


def _spec(args: argparse.Namespace) -> SourceSpec:
    return SourceSpec(args.source, tab=args.tab, range=args.range)


def cmd_validate(args: argparse.Namespace, paths: AppPaths) -> int:
    spec = _spec(args)
    if spec.kind == "gsheet":  # needs the workspace's Google sign-in
        with _workspace(paths) as workspace:
            report = queries.sources.check_source(workspace, spec, Level(args.level))
    else:  # a file needs no database — but a configured script writer changes the rules
        try:
            with _workspace(paths) as workspace:
                rules = queries.sources.rules(workspace, Level(args.level))
        except UserError:  # an unusable data folder must not stop a file's check
            rules = Rules(level=Level(args.level))
        report = load_report(spec, rules, forbidden=paths.own_folders)
    if args.json:
        rows = [r.to_dict() for r in report.rows]
        rows += [{"row": n, "skipped": "empty row"} for n in report.empty_rows]
        rows.sort(key=lambda r: int(r["row"]))
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print(format_report(args.source, report))
    return EXIT_OK if report.all_valid else EXIT_INVALID


def cmd_jobs_create(args: argparse.Namespace, paths: AppPaths) -> int:
    output = cli_publish.output_from_arguments(args)
    publish = cli_publish.publish_from_arguments(args)
    options: dict[str, Any] = {
        "title": args.title,
        "priority": Priority(args.priority),
        "level": Level(args.level),
        "output_config": output,
        "style": args.style,
        "deadline_minutes": args.deadline,
        "callback_url": args.callback,
        "scheduling": cli_scheduling.from_arguments(args),
        "write_back": args.write_back,
        "publish": publish,
    }
    if args.dry_run:
        with _workspace(paths) as workspace:
            plan, found = ops.jobs.preview_job(workspace, JobRequest.of(_spec(args), **options))
        return _print_dry_run(args, plan.title, plan.report.invalid_rows, found)
    with _workspace(paths) as workspace:
        created = ops.jobs.create_job(workspace, JobRequest.of(_spec(args), **options))
    skipped = created.report.invalid_rows
    if args.json:
        print(
            json.dumps(
                {
                    "id": created.job_id,
                    "title": created.title,
                    "items": created.item_count,
                    "skipped_rows": [r.row for r in skipped],
                }
            )
        )
        return EXIT_OK
    print(
        f"Created job {created.job_id} “{printable(created.title)}” with {created.item_count} "
        f"item{'s' if created.item_count != 1 else ''}."
    )
    if skipped:
        rows = ", ".join(str(r.row) for r in skipped)
        print(
            f"Skipped {len(skipped)} invalid row{'s' if len(skipped) != 1 else ''} ({rows}); "
            f"`validate {args.source}` says why."
        )
    return EXIT_OK


def _print_dry_run(
    args: argparse.Namespace, title: str, skipped: list[Any], found: Estimate
) -> int:
    """What ``jobs create`` would make and take — the wizard's Review, in the terminal."""
    rows = [r.row for r in skipped]
    if args.json:
        print(
            json.dumps(
                {"dry_run": True, "title": title, "items": found.videos, "skipped_rows": rows}
                | {"estimate": found.to_dict()}
            )
        )
        return EXIT_OK
    print(f"Dry run — nothing was created. Job “{printable(title)}” would have:")
    for line in found.lines():
        print(f"  {line}")
    if rows:
        listed = ", ".join(str(n) for n in rows)
        print(f"  Left out: row{'s' if len(rows) != 1 else ''} {listed} — `validate` says why.")
    return EXIT_OK


def cmd_jobs_list(args: argparse.Namespace, paths: AppPaths) -> int:
    with _workspace(paths) as workspace:
        jobs = queries.jobs.jobs(workspace, State(args.state) if args.state else None)
    if args.json:
        print(json.dumps([j.to_dict() for j in jobs], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not jobs:
        print("No jobs yet. Create one with: python main.py jobs create --source FILE")
        return EXIT_OK
    rows = [
        [
            str(j.id),
            j.state,
            j.priority,
            f"{j.items_completed}/{j.items_total}",
            f"{j.created_at.astimezone():%Y-%m-%d %H:%M}",
            j.title,
        ]
        for j in jobs
    ]
    print(_table(["ID", "STATE", "PRIORITY", "DONE", "CREATED", "TITLE"], rows))
    return EXIT_OK


def cmd_jobs_show(args: argparse.Namespace, paths: AppPaths) -> int:
    with _workspace(paths) as workspace:
        job = queries.jobs.job(workspace, args.id)
    if args.json:
        print(json.dumps(job, indent=2, ensure_ascii=False))
        return EXIT_OK
    source = job["source"]
    where = source["location"] + (f" › {source['tab']}" if source["tab"] else "")
    where += f" ({source['range']})" if source["range"] else ""
    print(f"Job {job['id']}: {printable(job['title'])}")
    print(
        f"  state     {job['state']}    priority {job['priority']}    "
        f"validation {job['validation_level']}"
    )
    print(f"  source    {printable(where)}")
    print(
        f"  items     {job['items_completed']} completed, {job['items_failed']} failed, "
        f"{job['items_total']} in all"
    )
    print(f"  created   {job['created_at']}")
    progress = job["progress"]
    line = f"  progress  {progress['percent_complete']:g}%"
    if progress["items_skipped"]:
        line += f", {progress['items_skipped']} skipped"
    if progress["eta"]:
        eta = datetime.fromisoformat(progress["eta"]).astimezone()
        today = eta.date() == datetime.now().astimezone().date()
        line += f", done about {eta:%H:%M %Z}" if today else f", done about {eta:%a %d %b %H:%M %Z}"
    if progress["waiting_until"]:
        line += f", waiting until {progress['waiting_until'][:16].replace('T', ' ')} UTC"
    if progress["rate_limited"]:
        line += ", rate-limited by Google's quota"
    print(line)
    print(f"  schedule  {describe_scheduling(job['scheduling'])}")
    if job["publish"]:
        print(f"  publish   {describe_publishing(job['publish'])}")
    print()
    rows = [
        [
            str(i["id"]),
            str(i["row"]),
            item_status(i),
            i["stage"] or "",
            f"{i['progress']:.0%}",
            i["title"],
        ]
        for i in job["items"]
    ]
    print(_table(["ITEM", "ROW", "STATE", "STAGE", "PROGRESS", "TITLE"], rows))
    for item in job["items"]:
        upload = item.get("upload") or {}
        if upload.get("url"):
            print(f"  row {item['row']}: {printable(upload['url'])}")
        if item["error"]:
            print(f"  row {item['row']}: {printable(item['error'])}")
        if upload.get("note"):
            print(f"  row {item['row']}: {printable(upload['note'])}")
    for row in job.get("left_out") or []:
        why = "; ".join(row.get("problems") or [])
        print(f"  row {row['row']}: left out — {printable(why)}")
    return EXIT_OK


def item_status(item: dict[str, Any]) -> str:
    """An item's state in words, with its publishing news: awaiting approval, scheduled for …,
    published — each platform's when it goes to several."""
    uploads = item.get("uploads") or []
    if len(uploads) > 1 and item.get("phase") != "render":
        from app.domain.publishing import platform_name

        return " · ".join(
            f"{platform_name(u['destination'])} {_upload_words(item, u)}" for u in uploads
        )
    return _upload_words(item, item.get("upload") or {})


def _upload_words(item: dict[str, Any], upload: dict[str, Any]) -> str:
    many = len(item.get("uploads") or []) > 1
    if many and upload.get("status") in ("published", "private", "failed", "scheduled"):
        item = {**item, "state": "completed" if upload["status"] != "failed" else "failed"}
    if item["state"] == "pending" and item.get("phase") == "approval":
        return "awaiting approval"
    if upload.get("status") == "on_hold" and item["state"] == "pending":
        return "on hold (sign in)"
    if item["state"] == "completed" and upload.get("status") == "scheduled":
        when = str(upload.get("publish_at") or "")
        local = datetime.fromisoformat(when).astimezone() if when else None
        return f"scheduled for {local:%Y-%m-%d %H:%M}" if local else "scheduled"
    if item["state"] == "completed" and upload.get("status") in ("published", "private"):
        return str(upload["status"])
    if item["state"] in ("pending", "running") and item.get("phase") == "upload":
        return "uploading" if item["state"] == "running" else "waiting to upload"
    return str(item["state"])


def describe_publishing(publish: dict[str, Any]) -> str:
    from app.domain.publishing import PublishConfig, platform_name

    config = PublishConfig.from_dict(publish)
    parts = []
    if config.from_sheet:
        parts.append("where each row says")
    for platform in config.possible():
        if platform == "youtube":
            parts.append(f"YouTube channel {config.channel} {config.privacy.value}")
        else:
            privacy = config.tiktok.privacy.value if config.tiktok.privacy else ""
            parts.append(f"{platform_name(platform)} {config.account(platform)} {privacy}".strip())
    if publish.get("publish_at"):
        parts.append(f"at {publish['publish_at']}")
    if publish.get("every"):
        parts.append(f"every {publish['every']} from {publish.get('first')}")
    if publish.get("playlist"):
        parts.append(f"playlist {publish['playlist']}")
    if publish.get("approve"):
        parts.append("after approval")
    return ", ".join(parts)


def cmd_jobs_export(args: argparse.Namespace, paths: AppPaths) -> int:
    out = expand(args.out) if args.out else None
    with _workspace(paths) as workspace:
        state = State(args.state) if args.state else None
        if out is None:
            text = queries.jobs.export_text(workspace, args.format, state, items=args.items)
        else:
            ops.jobs.export(workspace, args.format, out, state, items=args.items)
    if out is None:  # a file's contents, byte for byte (`> jobs.csv`), not text to escape
        getattr(sys.stdout, "write_data", sys.stdout.write)(text)
    else:
        print(f"Wrote {out}")
    return EXIT_OK


# --- output ----------------------------------------------------------------------------------


def describe_scheduling(scheduling: dict[str, Any]) -> str:
    """One line: mode, limits, windows and rules."""
    parts = [str(scheduling.get("mode", "manual")).replace("_", "-")]
    if "max_concurrent" in scheduling:
        parts.append(f"at most {scheduling['max_concurrent']} at once")
    if not scheduling.get("priority_queue", True):
        parts.append("priority queue off")
    for key, word in (("start_at", "from"), ("end_at", "until")):
        if scheduling.get(key):
            parts.append(f"{word} {scheduling[key][:16].replace('T', ' ')}")
    if scheduling.get("tags"):
        parts.append("tags " + ", ".join(scheduling["tags"]))
    if scheduling.get("priority_threshold"):
        parts.append(f"{scheduling['priority_threshold']} priority and up")
    if scheduling.get("order", "sheet") != "sheet":
        parts.append(str(scheduling["order"]).replace("_", "-"))
    rules = [
        r["name"] + ("" if r.get("enabled", True) else " (off)")
        for r in scheduling.get("rules", [])
    ]
    if rules:
        parts.append("rules: " + ", ".join(rules))
    return "; ".join(parts)


def _marks() -> tuple[str, str, str]:
    try:
        "✓✗⚠".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "ok", "XX", "!!"
    return "✓", "✗", "⚠"


def format_report(source: str, report: SheetReport) -> str:
    """The human-readable per-row report of `validate`."""
    ok, bad, warn = _marks()
    count = len(report.rows)
    lines = [
        f"{source} — {count} idea row{'s' if count != 1 else ''}, "
        f"checked at the {report.level} level",
        "",
    ]

    def row_line(r: RowReport) -> str:
        mark = bad if not r.valid else (warn if r.warnings else ok)
        return f"  {mark} row {r.row:<5} {printable(r.title) or '(no title)'}"

    for r in report.rows:
        lines.append(row_line(r))
        lines.extend(f"        {p.place()}: {printable(p.message)}" for p in r.errors)
        lines.extend(f"        warning: {p.place()}: {printable(p.message)}" for p in r.warnings)
    warnings = sum(len(r.warnings) for r in report.rows)
    invalid = len(report.invalid_rows)
    summary = f"{count - invalid} valid, {invalid} invalid"
    if warnings:
        summary += f", {warnings} warning{'s' if warnings != 1 else ''}"
    lines += ["", summary + "."]
    if report.empty_rows:
        lines.append("Empty rows skipped: " + ", ".join(map(str, report.empty_rows)) + ".")
    if report.header_row is None:
        lines.append("No header row found: columns were read by position (A–J).")
    lines.extend(f"Note: {note}." for note in report.notes)
    return "\n".join(lines)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [
        max(len(h), *(len(printable(r[i])) for r in rows)) if rows else len(h)
        for i, h in enumerate(headers)
    ]
    widths[-1] = 0  # the last column runs free

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    shown = [[printable(c) for c in r] for r in rows]  # a title's line break is no new row
    return "\n".join([fmt(headers), *(fmt(r) for r in shown)])


def _workspace(paths: AppPaths) -> closing[Services]:
    return closing(Services(paths))


# --- entry point -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    out, err = sys.stdout, sys.stderr
    # Whatever a sheet, a title or an error holds reaches the terminal as text, never as
    # its control characters (retitling or clearing the terminal, forging a line).
    sys.stdout, sys.stderr = EscapingStream(out), EscapingStream(err, keep="\n\t\r")
    try:
        return _main(argv)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = out, err


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        paths = AppPaths.resolve(args.data_dir)
    except (OSError, UserError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else str(exc)
        print(
            f"cadence: cannot use the data dir {printable(args.data_dir)}: {printable(why)}",
            file=sys.stderr,
        )
        return EXIT_USER_ERROR
    setup_logging(paths.log_file, verbose=args.verbose)
    handler: Callable[[argparse.Namespace, AppPaths], int] | None = getattr(args, "handler", None)
    if handler is None:
        from app.ui.launch import run_gui  # Qt is loaded only when the window is wanted

        return run_gui(paths, in_tray=args.tray)
    # Only the command's name: arguments can hold secrets or private paths.
    log.debug("command %s %s", args.command, getattr(args, f"{args.command}_command", "") or "")
    try:
        return handler(args, paths)
    except UserError as exc:
        log.info("user error: %s", exc)
        print(f"cadence: {printable(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("cadence: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        if exc.errno not in USER_ERRNOS:
            return _bug(exc, paths)
        where = f"{exc.filename}: " if exc.filename else ""
        log.info("user error: %s", exc)
        print(
            f"cadence: {printable(where)}{exc.strerror} — check the path and its permissions",
            file=sys.stderr,
        )
        return EXIT_USER_ERROR
    except Exception as exc:
        return _bug(exc, paths)


def _bug(exc: Exception, paths: AppPaths) -> int:
    """An error no check foresaw: one line that says where the details are."""
    log.error("unexpected error", exc_info=exc)
    print(
        f"cadence: internal error ({type(exc).__name__}: {printable(exc)}) — the details are "
        f"in {paths.log_file}; please report them",
        file=sys.stderr,
    )
    return EXIT_BUG
