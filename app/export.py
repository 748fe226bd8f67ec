"""Jobs as JSON, CSV or YAML text, and writing such a file without ever leaving half of it."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.domain.errors import UserError
from app.paths import expand

FORMATS = ("json", "csv", "yaml")
_UMASK = os.umask(0)
os.umask(_UMASK)
CSV_COLUMNS = (
    "id",
    "title",
    "state",
    "priority",
    "source",
    "items_total",
    "items_completed",
    "items_failed",
    "created_at",
    "updated_at",
    "finished_at",
    "left_out",
)


ITEM_COLUMNS = (
    "job_id",
    "job_title",
    "item_id",
    "row",
    "title",
    "state",
    "stage",
    "progress",
    "attempts",
    "upload_attempts",
    "video",
    "storage",
    "youtube",
    "publish_at",
    "error",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run as a formula (OWASP's advice: text that starts
    with = + - @ tab or carriage return gets a leading apostrophe). Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def render(records: Sequence[dict[str, Any]], fmt: str, *, items: bool = False) -> str:
    """JSON and YAML keep everything (items included) exactly; CSV has one line per job — or,
    with ``items``, one per item — with formula-like cells neutralised."""
    if fmt == "json":
        return json.dumps(list(records), indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(list(records), sort_keys=False, allow_unicode=True)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(ITEM_COLUMNS if items else CSV_COLUMNS)
        for r in records:
            if items:
                for line in _item_lines(r):
                    writer.writerow([cell(line.get(c)) for c in ITEM_COLUMNS])
                continue
            source = r.get("source")
            flat = {
                **r,
                "source": source.get("location") if isinstance(source, dict) else source,
                "left_out": left_out_text(r.get("left_out") or []),
            }
            writer.writerow([cell(flat.get(c)) for c in CSV_COLUMNS])
        return out.getvalue()
    raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


def left_out_text(rows: Sequence[dict[str, Any]]) -> str:
    """The rows a job left out, in one cell: ``row 5: column E “Duration”: …; row 7: empty``."""
    return "; ".join(f"row {r['row']}: {', '.join(r.get('problems') or [])}" for r in rows)


def _item_lines(job: dict[str, Any]) -> list[dict[str, Any]]:
    lines = []
    for item in job.get("items", []):
        upload = item.get("upload") or {}
        lines.append(
            {
                "job_id": job["id"],
                "job_title": job["title"],
                "item_id": item["id"],
                "row": item["row"],
                "title": item["title"],
                "state": item["state"],
                "stage": item.get("stage"),
                "progress": item.get("progress"),
                "attempts": item.get("attempts"),
                "upload_attempts": item.get("upload_attempts"),
                "video": (item.get("outputs") or {}).get("video"),
                "storage": item.get("output_url"),
                "youtube": upload.get("url"),
                "publish_at": upload.get("publish_at"),
                "error": item.get("error"),
            }
        )
    return lines


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it over; never a partial file.
    Only a regular file (or a new path) is written — a link is written through to its file —
    never a device, a pipe or a socket in its place. A path that cannot be written is a
    `UserError` naming it and why."""
    try:
        real = expand(path).resolve()
    except RuntimeError:
        raise UserError(f"{path}: its links go round in a loop — name a file") from None
    except OSError as exc:
        raise UserError(f"cannot write {path} ({exc.strerror or exc})") from None
    try:
        if real.is_dir():
            raise UserError(f"{path} is a folder — name a file to write, e.g. {path / 'jobs.json'}")
        if real.exists() and not real.is_file():
            raise UserError(
                f"{path} is not a regular file (a device, a pipe or a socket) — name a file to "
                "write"
            )
        _write(real, text)
    except OSError as exc:
        raise UserError(
            f"cannot write {path} ({exc.strerror or exc}) — choose a file in a folder you can "
            "write to"
        ) from None


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        Path(temp).chmod(0o666 & ~_UMASK)  # mkstemp makes it private; finished files are not
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
