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

import yaml

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
)


def render(records: Sequence[dict[str, Any]], fmt: str) -> str:
    """JSON and YAML keep everything (items included); CSV has one line per job."""
    if fmt == "json":
        return json.dumps(list(records), indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(list(records), sort_keys=False, allow_unicode=True)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for r in records:
            source = r.get("source")
            flat = {**r, "source": source.get("location") if isinstance(source, dict) else source}
            writer.writerow(["" if flat.get(c) is None else flat.get(c) for c in CSV_COLUMNS])
        return out.getvalue()
    raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it over; never a partial file."""
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
