"""Which sheet column holds which Idea field: by header text, or by position A–J."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.domain.idea import FIELDS, OPTIONAL_FIELDS

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise_header(text: object) -> str:
    """Case-, space-, underscore- and punctuation-insensitive form of a header cell."""
    return _NOT_ALNUM.sub("", str(text).casefold()) if text is not None else ""


def _build_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for f in (*FIELDS, *OPTIONAL_FIELDS):
        for spelling in (f.name, f.label, *f.aliases):
            lookup.setdefault(normalise_header(spelling), f.name)
    return lookup


_LOOKUP = _build_lookup()


def field_for_header(text: object) -> str | None:
    """The field a header cell names, or None when it names none."""
    key = normalise_header(text)
    if not key:
        return None
    if key in _LOOKUP:
        return _LOOKUP[key]
    # Common decorations around a known name: "Idea/Title", "Video Script", "Priority (low/high)".
    for prefix in ("idea", "video", "the"):
        if key.startswith(prefix) and key[len(prefix) :] in _LOOKUP:
            return _LOOKUP[key[len(prefix) :]]
    return None


@dataclass(slots=True)
class ColumnMap:
    """Field name → 0-based position in the row's cells, with what the header row said."""

    positions: dict[str, int]
    has_header: bool
    headers: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def positional_map() -> ColumnMap:
    """The fallback when the first row is data: columns A–J in the documented order."""
    return ColumnMap({f.name: i for i, f in enumerate(FIELDS)}, has_header=False)


def detect_header(cells: Sequence[object]) -> ColumnMap | None:
    """A map if ``cells`` look like a header row, else None.

    A row is a header when every filled cell names a field, when three or more do, or when
    two do and one of them is the title: a data row rarely reads like that.
    """
    filled = [(i, c) for i, c in enumerate(cells) if c is not None and str(c).strip()]
    matches = [(i, c, field_for_header(c)) for i, c in filled]
    named = [(i, c, f) for i, c, f in matches if f]
    has_title = any(f == "idea_title" for _i, _c, f in named)
    if not named or not (
        len(named) == len(filled) or len(named) >= 3 or (len(named) == 2 and has_title)
    ):
        return None
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    notes: list[str] = []
    for i, cell, name in named:
        assert name is not None
        if name in positions:
            notes.append(
                f"columns {headers[name]!r} and {str(cell).strip()!r} both name {name}; "
                f"the first is used — rename or remove the other"
            )
            continue
        positions[name] = i
        headers[name] = str(cell).strip()
    for _i, cell, found in matches:
        if found is None:
            notes.append(f"column {str(cell).strip()!r} is not an idea field and is ignored")
    return ColumnMap(positions, has_header=True, headers=headers, notes=notes)
