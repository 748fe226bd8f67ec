"""A Google Sheet as a source: one metadata read, one batch values read, the same table."""

from __future__ import annotations

from typing import Any

from app.google.sheets import SheetError, SheetsClient, quote_tab
from app.sources.table import SheetTable, SourceError, build_table


def read_gsheet(location: str, tab: str | None, area: Any, client: SheetsClient) -> SheetTable:
    """The rows of ``tab`` (default: the first tab) within ``area`` (default: all of it)."""
    try:
        info = client.info(location)
        chosen = info.tab(tab)
        wanted = quote_tab(chosen.title) + (f"!{area}" if area is not None else "")
        [values] = client.read(location, [wanted])
    except SheetError as exc:
        raise SourceError(str(exc)) from exc
    # Google returns the range's own cells; line them up with the sheet's rows and columns
    # so that row numbers in messages are the sheet's.
    first_row = area.first_row if area is not None else 1
    first_col = area.first_col if area is not None else 1
    grid: list[list[Any]] = [[] for _ in range(first_row - 1)]
    grid += [[None] * (first_col - 1) + list(row) for row in values]
    table = build_table(f"“{info.title}” › {chosen.title}", grid, area)
    table.title = info.title
    return table
