"""``render``: rows of a sheet straight to video files, without the scheduler."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app import queries
from app.domain.errors import UserError
from app.domain.output import Container, Optimize, OutputConfig, Resolution
from app.domain.validation import Level
from app.paths import AppPaths, expand, unwritable
from app.pipeline.captions import CAPTION_MODES
from app.pipeline.footage import CHOICES, FOOTAGE_HELP
from app.pipeline.styles import BUILTIN
from app.services import Services
from app.settings import Settings
from app.sources.intake import SourceSpec, load_report
from app.user_files import checked_path

if TYPE_CHECKING:  # the renderer (numpy, moviepy) loads only when a command renders
    from app.pipeline.render import RenderSettings
    from app.pipeline.runner import RenderOutcome

log = logging.getLogger(__name__)


def add_parser(commands: Any) -> None:
    render = commands.add_parser("render", help="render rows of a sheet to videos now")
    render.add_argument("source", metavar="SOURCE", help="CSV or XLSX file")
    render.add_argument("--out", required=True, metavar="DIR", help="folder for the videos")
    render.add_argument(
        "--rows", metavar="ROWS", help="sheet rows, e.g. 2-5 or 2,4,7-9 (default: all)"
    )
    render.add_argument("--tab", metavar="T")
    render.add_argument("--range", metavar="R")
    render.add_argument("--level", choices=[lvl.value for lvl in Level], default="moderate")
    render.add_argument("--resolution", choices=[r.value for r in Resolution], default="1080p")
    render.add_argument("--vertical", action="store_true", help="9:16 (Shorts, Reels, TikTok)")
    render.add_argument("--format", choices=[c.value for c in Container], default="mp4")
    render.add_argument("--video-codec", choices=["h264", "h265", "vp9"])
    render.add_argument("--audio-codec", choices=["aac", "opus"])
    render.add_argument("--optimize", choices=[o.value for o in Optimize], default="balanced")
    render.add_argument("--style", metavar="NAME", help=f"{', '.join(BUILTIN)} or a template name")
    render.add_argument("--assets", metavar="DIR", help="images and clips to pick backgrounds from")
    render.add_argument("--footage", choices=CHOICES, help=FOOTAGE_HELP)
    render.add_argument("--music", metavar="DIR", help="folder of background music")
    render.add_argument("--logo", metavar="FILE", help="PNG logo to overlay")
    render.add_argument("--word-highlight", action="store_true", help="highlight each spoken word")
    render.add_argument(
        "--captions",
        choices=CAPTION_MODES,
        help="sentence, karaoke (each word lit as it is said) or pop (1–2 big words at a time)",
    )
    render.add_argument("--overwrite", action="store_true", help="render rows whose video exists")
    render.add_argument("--json", action="store_true")
    render.set_defaults(handler=cmd_render)


def parse_rows(text: str) -> list[range]:
    """``2-5,8`` → [range(2, 6), range(8, 9)]: kept as ranges, never expanded, so a selection
    like 2-999999999999 costs nothing; a malformed list is a `UserError` saying how to write it."""
    rows: list[range] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            if "-" in part:
                first, last = (int(x) for x in part.split("-", 1))
                if last < first:
                    raise ValueError
            else:
                first = last = int(part)
        except ValueError:
            raise UserError(
                f"--rows {text!r} is not a row list — write it like 2-5 or 2,4,7-9"
            ) from None
        rows.append(range(first, last + 1))
    if not rows or min(r.start for r in rows) < 1:
        raise UserError(f"--rows {text!r} names no rows — write it like 2-5 or 2,4,7-9")
    return rows


def settings_from(args: argparse.Namespace, paths: AppPaths, settings: Settings) -> RenderSettings:
    data: dict[str, Any] = {
        "container": args.format,
        "resolution": args.resolution,
        "vertical": args.vertical,
        "optimize": args.optimize,
    }
    if args.video_codec:
        data["video_codec"] = args.video_codec
    if args.audio_codec:
        data["audio_codec"] = args.audio_codec
    from app.render_config import render_settings

    return render_settings(
        settings,
        paths,
        OutputConfig.from_dict(data),
        assets_dir=_existing(args.assets, "--assets", folder=True),
        music_dir=_existing(args.music, "--music", folder=True),
        logo=_existing(args.logo, "--logo", folder=False),
        word_highlight=args.word_highlight,
        captions=args.captions,
        footage=args.footage,
        style=args.style,
        overwrite=args.overwrite,
    )


def writable_folder(folder: Path, what: str) -> Path:
    """``folder``, made if needed, once a file could be written in it — checked before any
    work, so a render does not run for a minute to fail at the end."""
    why = unwritable(folder)
    if why is not None:
        raise UserError(
            f"{what} {folder}: videos cannot be written there ({why}) — choose a folder you "
            "can write to"
        )
    return folder


def _existing(value: str | None, flag: str, *, folder: bool) -> Path | None:
    """The path given with ``flag``, which must be an existing folder (or file)."""
    if not value:
        return None
    return checked_path(Path(value), flag, shape="folder" if folder else "file")


class TerminalProgress:
    """One updating line on a terminal; a line per stage when output is redirected."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.total = total
        self.index = 0
        self.row = 0
        self.stage = ""

    def start(self, index: int, row: int, title: str) -> None:
        self.index, self.row, self.stage = index, row, ""
        if not self.live:
            print(f"[{index}/{self.total}] row {row}: {title}", file=self.stream, flush=True)

    def update(self, stage: str, fraction: float) -> None:
        if self.live:
            filled = round(fraction * 20)
            bar = "█" * filled + "░" * (20 - filled)
            print(
                f"\r[{self.index}/{self.total}] row {self.row}  {stage:<9} {bar} {fraction:4.0%}",
                end="",
                file=self.stream,
                flush=True,
            )
        elif stage != self.stage:
            print(f"    {stage}…", file=self.stream, flush=True)
        self.stage = stage

    def finish(self, outcome: RenderOutcome) -> None:
        if self.live:
            print("\r" + " " * 60 + "\r", end="", file=self.stream)
        word = {"completed": "done", "skipped": "skipped"}.get(outcome.status, outcome.status)
        detail = f" — {outcome.error}" if outcome.error else ""
        print(
            f"[{self.index}/{self.total}] row {self.row}: {word}{detail}",
            file=self.stream,
            flush=True,
        )


def cmd_render(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        settings = settings_from(args, paths, workspace.settings)
        rules = queries.sources.rules(workspace, Level(args.level))
    report = load_report(
        SourceSpec(args.source, tab=args.tab, range=args.range), rules, forbidden=paths.own_folders
    )
    rows = report.rows
    if args.rows:
        wanted = parse_rows(args.rows)
        present = {r.row for r in rows}
        chosen_rows = [r for r in rows if any(r.row in span for span in wanted)]
        if not chosen_rows:
            listed = f"{min(present)} to {max(present)}"
            raise UserError(f"the sheet has no idea rows {args.rows} — its rows are {listed}")
        rows = chosen_rows
    invalid = [r for r in rows if not r.valid]
    chosen = [r for r in rows if r.valid]
    out_dir = writable_folder(expand(args.out).resolve(), "--out")
    progress = TerminalProgress(sys.stderr, len(chosen))
    results: list[dict[str, Any]] = []
    for r in invalid:
        reason = "; ".join(str(p) for p in r.errors)
        results.append({"row": r.row, "title": r.title, "status": "invalid", "error": reason})
        print(f"row {r.row}: not rendered — {reason}", file=sys.stderr)
    from app.pipeline.runner import RenderTask, run_render

    began = time.monotonic()
    for index, r in enumerate(chosen, start=1):
        assert r.idea is not None
        progress.start(index, r.row, r.title)
        work = (
            paths.cache_dir
            / "work"
            / hashlib.sha1(f"{out_dir}|{r.row}|{r.title}".encode()).hexdigest()[:16]
        )
        task = RenderTask(r.idea.to_dict(), r.row, settings, out_dir, work)
        outcome = run_render(task, progress.update)
        progress.finish(outcome)
        if outcome.details:
            log.error("render of row %s failed:\n%s", r.row, outcome.details)
        entry: dict[str, Any] = {
            "row": r.row,
            "title": r.title,
            "status": outcome.status,
            "error": outcome.error,
        }
        if outcome.result:
            entry.update(outcome.result)
        results.append(entry)
    elapsed = time.monotonic() - began
    if args.json:
        print(json.dumps(sorted(results, key=lambda e: e["row"]), indent=2, ensure_ascii=False))
    else:
        print(summary(results, elapsed, out_dir))
    failed = [e for e in results if e["status"] not in ("completed", "skipped")]
    return 1 if failed else 0


def summary(results: list[dict[str, Any]], elapsed: float, out_dir: Path) -> str:
    lines = [f"Rendered into {out_dir}", ""]
    for e in sorted(results, key=lambda e: e["row"]):
        if e["status"] == "completed":
            timing = f"{e['duration']:6.1f} s video in {e['seconds']:5.1f} s"
            lines.append(f"  row {e['row']:<4} {timing}   {Path(e['video']).name}")
            sidecars = ", ".join(Path(e[k]).name for k in ("thumbnail", "captions", "metadata"))
            lines.append(f"  {'':8} + {sidecars}")
            lines += [f"  {'':8} note: {note}" for note in e.get("warnings") or []]
        else:
            lines.append(f"  row {e['row']:<4} {e['status']}: {e['error']}")
    done = sum(e["status"] == "completed" for e in results)
    lines += ["", f"{done} of {len(results)} rows rendered in {elapsed:.1f} s."]
    return "\n".join(lines)
