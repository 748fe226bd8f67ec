"""Keyset pagination over the job table's rows: pages stay stable while jobs are added."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, Literal

from app.domain.errors import DraftError
from app.store.jobs import JobRow

SortKey = Literal["created_at", "updated_at", "percent_complete", "priority", "title"]
RANK = {"low": 0, "normal": 1, "high": 2}
KEYS: dict[str, Callable[[JobRow], Any]] = {
    "created_at": lambda r: r.created_at.isoformat(),
    "updated_at": lambda r: r.updated_at.isoformat(),
    "percent_complete": lambda r: round(r.percent, 3),
    "priority": lambda r: RANK.get(r.priority, 1),
    "title": lambda r: r.title.casefold(),
}


def token(sort: str, order: str, last: JobRow) -> str:
    raw = json.dumps([sort, order, KEYS[sort](last), last.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _position(text: str, sort: str, order: str) -> tuple[Any, int]:
    try:
        padded = text + "=" * (-len(text) % 4)
        was_sort, was_order, key, job_id = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError):
        raise DraftError(
            "page_token", "is not a token this API gave — start again without it"
        ) from None
    if (was_sort, was_order) != (sort, order):
        raise DraftError("page_token", "belongs to another sort or order — start again without it")
    kind = (int, float) if sort == "percent_complete" else int if sort == "priority" else str
    if not isinstance(key, kind) or isinstance(key, bool) or not isinstance(job_id, int):
        raise DraftError("page_token", "is not a token this API gave — start again without it")
    return key, job_id


def page(
    rows: Sequence[JobRow], sort: str, order: str, size: int, after: str | None
) -> tuple[list[JobRow], str | None]:
    """``size`` rows in (key, id) order after the token's row, and the next page's token."""
    key = KEYS[sort]
    ordered = sorted(rows, key=lambda r: (key(r), r.id), reverse=order == "desc")
    if after:
        mark = _position(after, sort, order)
        if order == "desc":
            ordered = [r for r in ordered if (key(r), r.id) < mark]
        else:
            ordered = [r for r in ordered if (key(r), r.id) > mark]
    chosen = ordered[:size]
    more = len(ordered) > size
    return chosen, token(sort, order, chosen[-1]) if more and chosen else None
