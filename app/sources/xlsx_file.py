"""Excel workbooks (.xlsx/.xlsm), read-only: a tab and an A1 range — within a budget.

A workbook is a zip of XML parts, and what a cell's position or size claims costs nothing to
write: one cell at XFD1048576 made openpyxl pad a billion empty cells, one 1 GB cell (a few
kilobytes zipped) filled the memory. The package is measured before it is parsed, and only
the rows and columns an idea sheet can have are read; anything past them is refused with
the reason.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from app.domain.a1 import A1Range, column_letter
from app.sources.table import SheetTable, SourceError, build_table

MAX_PART_BYTES = 64 * 1024 * 1024  # one XML part (a sheet, the shared strings) unpacked
MAX_UNPACKED_BYTES = 256 * 1024 * 1024  # the whole package unpacked
MAX_ROWS = 100_000
MAX_COLUMNS = 256  # A to IV: an idea sheet has a dozen


def _check_package(path: Path, name: str) -> None:
    """Refuse a package whose parts would unpack past the budget (before any is parsed)."""
    try:
        with zipfile.ZipFile(path) as package:
            parts = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip at all: openpyxl's refusal says so
    biggest = max(parts, key=lambda p: p.file_size, default=None)
    total = sum(p.file_size for p in parts)
    if biggest is not None and biggest.file_size > MAX_PART_BYTES:
        raise SourceError(
            f"{name} holds {biggest.file_size:,} bytes of {biggest.filename} once unpacked; "
            f"Cadence reads parts of up to {MAX_PART_BYTES:,} — a cell that large is no idea: "
            "remove it, or export the ideas as CSV"
        )
    if total > MAX_UNPACKED_BYTES:
        raise SourceError(
            f"{name} unpacks to {total:,} bytes; Cadence reads workbooks of up to "
            f"{MAX_UNPACKED_BYTES:,} unpacked — keep only the ideas in it, or export them as CSV"
        )


def _filled_past(sheet: Any, row: int, columns: int) -> bool:
    """Whether any cell below ``row`` holds something (only the rows the sheet has are
    parsed; the empty ones between come as one shared tuple, counted in C)."""
    below = sheet.iter_rows(min_row=row + 1, max_col=columns, values_only=True)
    return any(cells.count(None) != len(cells) for cells in below)


def read_xlsx(path: Path, tab: str | None = None, area: A1Range | None = None) -> SheetTable:
    import openpyxl  # a third of a second to import: only when a workbook is read

    name = path.name
    area = area or A1Range()
    if area.last_col is not None and area.last_col > MAX_COLUMNS:
        raise SourceError(
            f"the range {area} reaches column {column_letter(area.last_col)}; idea sheets are "
            f"read up to column {column_letter(MAX_COLUMNS)} — give a narrower range"
        )
    _check_package(path, name)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl's parsers raise many kinds on a damaged file
        raise SourceError(
            f"{name} is not a readable Excel workbook — open it in a spreadsheet app and "
            "save it again as .xlsx, or export it as CSV"
        ) from exc
    try:
        tabs = book.sheetnames
        if tab is None:
            sheet = book.worksheets[0]
        else:
            match = next((t for t in tabs if t == tab), None) or next(
                (t for t in tabs if t.casefold() == tab.strip().casefold()), None
            )
            if match is None:
                listing = ", ".join(f"“{t}”" for t in tabs)
                raise SourceError(f"{name} has no tab “{tab}” — its tabs are {listing}")
            sheet = book[match]
        # Bounded, whatever the sheet's own dimension claims: one row past the budget is
        # read, to tell a sheet that goes on from one that ends in time.
        last_row = min(area.last_row or MAX_ROWS + 1, MAX_ROWS + 1)
        grid = sheet.iter_rows(
            min_row=1,
            max_row=last_row,
            min_col=1,
            max_col=area.last_col or MAX_COLUMNS,
            values_only=True,
        )
        table = build_table(f"{name} › {sheet.title}", grid, area)
        if (table.rows and table.rows[-1].number > MAX_ROWS) or (
            (area.last_row is None or area.last_row > MAX_ROWS)
            and _filled_past(sheet, MAX_ROWS, area.last_col or MAX_COLUMNS)
        ):
            raise SourceError(
                f"{name}, tab “{sheet.title}”, has cells past row {MAX_ROWS:,}; Cadence reads "
                f"idea sheets of up to {MAX_ROWS:,} rows — delete the cells below the ideas, "
                "or give a range such as A1:J500"
            )
    except SourceError:
        raise
    except Exception as exc:  # a damaged workbook fails deep inside openpyxl's XML parsing
        raise SourceError(
            f"{name} is damaged: its sheet data cannot be read ({type(exc).__name__}) — open "
            "it in a spreadsheet app and save it again as .xlsx, or export it as CSV"
        ) from exc
    finally:
        book.close()
    if not table.rows:
        raise SourceError(
            f"{name}, tab “{sheet.title}”, is empty"
            + (f" in range {area}" if area != A1Range() else "")
            + " — add a header row and one row per video idea"
        )
    return table
