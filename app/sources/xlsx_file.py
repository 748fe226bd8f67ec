"""Excel workbooks (.xlsx/.xlsm), read-only: a tab and an A1 range."""

from __future__ import annotations

from pathlib import Path

from app.domain.a1 import A1Range
from app.sources.table import SheetTable, SourceError, build_table


def read_xlsx(path: Path, tab: str | None = None, area: A1Range | None = None) -> SheetTable:
    import openpyxl  # a third of a second to import: only when a workbook is read

    name = path.name
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
        area = area or A1Range()
        grid = sheet.iter_rows(
            min_row=1,
            max_row=area.last_row,
            min_col=1,
            max_col=area.last_col,
            values_only=True,
        )
        table = build_table(f"{name} › {sheet.title}", grid, area)
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
