"""A1 notation: column letters and ranges such as ``A1:J1000``, ``A:J`` or ``'My tab'!B2:K``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.domain.errors import UserError

_CELL = re.compile(r"^\s*([A-Za-z]{0,3})(\d*)\s*$")
MAX_COLUMN = 18278  # ZZZ, the most three letters can name


class RangeError(UserError, ValueError):
    """A range the user typed that cannot be read as A1 notation."""


def column_letter(index: int) -> str:
    """1 → ``A``, 27 → ``AA``."""
    if index < 1:
        raise ValueError(f"column index must be 1 or more, not {index}")
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """``A`` → 1, ``AA`` → 27."""
    if not letters or not letters.isascii() or not letters.isalpha():
        raise ValueError(f"{letters!r} is not a column name")
    index = 0
    for ch in letters.upper():
        index = index * 26 + (ord(ch) - 64)
    return index


@dataclass(frozen=True, slots=True)
class A1Range:
    """A rectangle of cells; ``None`` on an end means "to the last used row/column"."""

    first_col: int = 1
    first_row: int = 1
    last_col: int | None = None
    last_row: int | None = None

    def __str__(self) -> str:
        start = f"{column_letter(self.first_col)}{self.first_row}"
        end_col = column_letter(self.last_col) if self.last_col else ""
        end_row = str(self.last_row) if self.last_row else ""
        return f"{start}:{end_col}{end_row}" if (end_col or end_row) else start


def parse_range(text: str) -> tuple[str | None, A1Range]:
    """Split an optional tab prefix off and parse the rest; raise `RangeError` with a fix."""
    tab: str | None = None
    body = text.strip()
    if "!" in body:
        tab_part, body = body.rsplit("!", 1)
        tab = tab_part.strip()
        if len(tab) >= 2 and tab[0] == tab[-1] == "'":
            tab = tab[1:-1].replace("''", "'")
        if not tab:
            raise RangeError(f"range {text!r} has an empty tab name before '!'")
    if not body:
        raise RangeError("the range is empty — use A1 notation such as A1:J1000")
    parts = body.split(":")
    if len(parts) > 2:
        raise RangeError(f"range {text!r} has more than one ':' — use A1 notation such as A1:J1000")
    start = _parse_cell(parts[0], text)
    end = _parse_cell(parts[1], text) if len(parts) == 2 else start
    first_col = start[0] or 1
    first_row = start[1] or 1
    last_col = end[0]
    last_row = end[1]
    if last_col is not None and last_col < first_col:
        raise RangeError(
            f"range {text!r} ends in a column before it starts — write it left to right"
        )
    if last_row is not None and last_row < first_row:
        raise RangeError(f"range {text!r} ends on a row before it starts — write it top to bottom")
    return tab, A1Range(first_col, first_row, last_col, last_row)


def _parse_cell(part: str, whole: str) -> tuple[int | None, int | None]:
    match = _CELL.match(part)
    if not match or not (match.group(1) or match.group(2)):
        raise RangeError(
            f"range {whole!r} is not A1 notation — use something like A1:J1000, A:J or A2:J"
        )
    letters, digits = match.groups()
    col = column_index(letters) if letters else None
    row = int(digits) if digits else None
    if row is not None and row < 1:
        raise RangeError(f"range {whole!r} names row 0 — rows start at 1")
    if col is not None and col > MAX_COLUMN:
        raise RangeError(f"range {whole!r} names a column past ZZZ")
    return col, row
