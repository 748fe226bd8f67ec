"""Open any supported source by what the user typed, and validate its rows."""

from __future__ import annotations

import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.domain.a1 import A1Range, RangeError, parse_range
from app.domain.errors import UserError
from app.domain.validation import Rules, SheetReport, validate_rows
from app.paths import expand
from app.sources.csv_file import read_csv
from app.sources.table import SheetTable, SourceError
from app.sources.xlsx_file import read_xlsx

if TYPE_CHECKING:  # the Google clients load when a Google Sheet is read
    from app.google.sheets import SheetsClient

MAX_SOURCE_BYTES = 200 * 1024 * 1024
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
_SHEET_URL = re.compile(r"docs\.google\.com/spreadsheets/d/([A-Za-z0-9_-]+)")
_SHEET_ID = re.compile(r"^[A-Za-z0-9_-]{30,60}$")


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A source as the user names it: a path (or sheet URL/ID), an optional tab and range."""

    location: str
    tab: str | None = None
    range: str | None = None

    def __post_init__(self) -> None:
        for what, text in (("source", self.location), ("tab", self.tab), ("range", self.range)):
            if text is not None and "\x00" in text:
                raise SourceError(f"the {what} {text!r} has a NUL character — no file or sheet has")
        if not self.location.strip():
            raise SourceError("no source given — name a CSV or XLSX file, or a Google Sheet")

    @property
    def kind(self) -> str:
        """``csv``, ``xlsx`` or ``gsheet``, judged from the text (and the file's first bytes)."""
        if _SHEET_URL.search(self.location):
            return "gsheet"
        path = expand(self.location)
        suffix = path.suffix.lower()
        if suffix in XLSX_SUFFIXES:
            return "xlsx"
        if suffix in CSV_SUFFIXES:
            return "csv"
        try:
            if not path.exists() and _SHEET_ID.match(self.location):
                return "gsheet"
            if not path.is_file():  # never open a pipe or a device just to look
                return "csv"
            with path.open("rb") as fh:
                return "xlsx" if fh.read(4) == b"PK\x03\x04" else "csv"
        except OSError:
            return "csv"

    def stored_location(self) -> str:
        """The location as a job keeps it: a file's full path (a sheet's URL or ID as is)."""
        if self.kind == "gsheet":
            return self.location
        try:
            return str(expand(self.location).resolve())
        except RuntimeError as exc:  # a symlink loop
            raise SourceError(
                f"{self.location}: its links go round in a loop — name the file itself"
            ) from exc
        except OSError as exc:
            raise SourceError(f"{self.location}: {exc.strerror or exc}") from exc

    def area(self) -> tuple[str | None, A1Range | None]:
        """The tab and range to read; a tab named in the range (``Ideas!A1:J``) counts too."""
        if not self.range:
            return self.tab, None
        try:
            range_tab, area = parse_range(self.range)
        except RangeError as exc:
            raise SourceError(str(exc)) from exc
        if range_tab and self.tab and range_tab != self.tab:
            raise SourceError(
                f"the range names tab “{range_tab}” but the tab given is “{self.tab}” — "
                "give the tab once"
            )
        return range_tab or self.tab, area


def _check_sheet_file(path: Path, shown: str, forbidden: Sequence[Path]) -> None:
    """A sheet file, by its name and by what it really is (a link is followed): never any
    other file — a sheet's rows are shown back, so a secret or a log must not pass as one."""
    try:
        real = path.resolve()
    except RuntimeError as exc:  # a symlink loop
        raise SourceError(f"{shown}: its links go round in a loop — name the file itself") from exc
    suffixes = CSV_SUFFIXES | XLSX_SUFFIXES
    if path.suffix.lower() not in suffixes or real.suffix.lower() not in suffixes:
        raise SourceError(f"{shown} is not a sheet file — name a .csv, .tsv, .txt or .xlsx file")
    if any(real.is_relative_to(folder.resolve()) for folder in forbidden):
        raise SourceError(
            f"{shown} is inside Cadence's own folders, where no idea sheet lives — name your "
            "sheet's file"
        )


def read_table(
    spec: SourceSpec,
    sheets: Callable[[], SheetsClient] | None = None,
    forbidden: Sequence[Path] = (),
) -> SheetTable:
    """The rows of a source; every failure is a `SourceError` with a one-line reason.

    ``sheets`` gives a signed-in Google Sheets client, for sheet URLs and IDs; a file inside
    one of the ``forbidden`` folders (Cadence's own) is refused."""
    kind = spec.kind
    tab, area = spec.area()
    if kind == "gsheet":
        if sheets is None:
            raise SourceError("Google Sheets need a workspace to sign in with")
        try:
            client = sheets()
        except UserError as exc:
            raise SourceError(str(exc)) from exc
        from app.sources.gsheet import read_gsheet

        return read_gsheet(spec.location, tab, area, client)
    path = expand(spec.location)
    shown = spec.location
    try:
        if not path.exists():
            raise SourceError(f"{shown}: no such file — check the path")
        if path.is_dir():
            raise SourceError(f"{shown} is a folder — name a .csv or .xlsx file inside it")
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a pipe or a device would never end, or start
            raise SourceError(f"{shown} is not a regular file — name a .csv or .xlsx file")
        _check_sheet_file(path, shown, forbidden)
    except OSError as exc:
        raise SourceError(f"{shown}: cannot be read ({exc.strerror or exc})") from exc
    if info.st_size > MAX_SOURCE_BYTES:
        raise SourceError(
            f"{shown} is {info.st_size:,} bytes; Cadence reads idea sheets up to "
            f"{MAX_SOURCE_BYTES:,} bytes ({MAX_SOURCE_BYTES // 1024**2} MB) — split it, or "
            "export only the idea rows"
        )
    try:
        if kind == "xlsx":
            return read_xlsx(path, tab, area)
        if tab:
            raise SourceError(f"{path.name} is a CSV file, which has no tabs — leave out the tab")
        return read_csv(path, area)
    except PermissionError as exc:
        raise SourceError(f"{shown}: permission denied — check that you can open it") from exc
    except OSError as exc:
        raise SourceError(f"{shown}: cannot be read ({exc.strerror or exc})") from exc


def load_report(
    spec: SourceSpec,
    rules: Rules | None = None,
    sheets: Callable[[], SheetsClient] | None = None,
    forbidden: Sequence[Path] = (),
) -> SheetReport:
    """Read and validate; a source without a single idea row is a `SourceError`."""
    table = read_table(spec, sheets, forbidden)
    if not table.rows:
        where = f" in range {spec.range}" if spec.range and spec.kind == "gsheet" else ""
        raise SourceError(
            f"{table.name} is empty{where} — add a header row and one row per video idea"
        )
    report = validate_rows(
        table.rows, rules or Rules(), first_column=table.first_column, empty_rows=table.empty_rows
    )
    if not report.rows:
        raise SourceError(
            f"{table.name} has a header row but no idea rows — add one row per video idea"
        )
    report.title = table.title
    return report
