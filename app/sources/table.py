"""A source read into rows: the shape every reader returns, whatever the file format."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from app.domain.a1 import A1Range
from app.domain.errors import UserError
from app.domain.validation import SourceRow


class SourceError(UserError):
    """A source that cannot be read; the message is one line a user can act on."""


@dataclass(slots=True)
class SheetTable:
    """The non-empty rows of a source, padded to one width, numbered as the sheet numbers them."""

    name: str
    rows: list[SourceRow]
    empty_rows: list[int] = field(default_factory=list)
    first_column: int = 1
    title: str = ""  # the document's own title, where it has one (a Google Sheet)


def _is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def build_table(name: str, grid: Iterable[Sequence[object]], area: A1Range | None) -> SheetTable:
    """Cut ``area`` out of a whole-sheet grid (row 1 first) and drop and note blank rows.

    Blank rows after the last filled one are the end of the sheet, not skipped rows.
    """
    area = area or A1Range()
    first_col = area.first_col - 1
    last_col = area.last_col
    rows: list[SourceRow] = []
    blanks: list[int] = []
    pending_blanks: list[int] = []
    for number, cells in enumerate(grid, start=1):
        if number < area.first_row:
            continue
        if area.last_row is not None and number > area.last_row:
            break
        window = cells[first_col:last_col]
        if window.count(None) == len(window):  # an empty row (counted in C: sheets pad them)
            pending_blanks.append(number)
            continue
        part = list(window)
        while part and _is_blank(part[-1]):
            part.pop()
        if not part:
            pending_blanks.append(number)
            continue
        blanks.extend(pending_blanks)
        pending_blanks.clear()
        rows.append(SourceRow(number, part))
    width = max((len(r.cells) for r in rows), default=0)
    padded = [
        r
        if len(r.cells) == width
        else SourceRow(r.number, [*r.cells] + [None] * (width - len(r.cells)))
        for r in rows
    ]
    return SheetTable(name, padded, blanks, area.first_col)
