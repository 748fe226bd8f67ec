"""Keyset page tokens for the job list: pages stay stable while jobs are added.

A token is the sort, the order and the last row's (key, id), base64url-encoded JSON. Sorts by
a stored column are paged in SQL (`store.jobs.page_ids`); ``percent_complete``, computed from
item counts, is paged over the job table's rows in Python.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from app.domain.errors import DraftError
from app.store.jobs import JobRow

SortKey = Literal["created_at", "updated_at", "percent_complete", "priority", "title"]
TIMES = ("created_at", "updated_at")


def _bad(why: str) -> DraftError:
    return DraftError("page_token", f"{why} — start again without it", where="query")


def encode(sort: str, order: str, key: Any, job_id: int) -> str:
    if isinstance(key, datetime):
        key = key.isoformat()
    raw = json.dumps([sort, order, key, job_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(text: str, sort: str, order: str) -> tuple[Any, int]:
    """The (key, id) a token continues after; a `DraftError` naming page_token if it is not
    one this API gave for this sort and order."""
    try:
        padded = text + "=" * (-len(text) % 4)
        was_sort, was_order, key, job_id = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError):
        raise _bad("is not a token this API gave") from None
    if (was_sort, was_order) != (sort, order):
        raise _bad("belongs to another sort or order")
    kind = (int, float) if sort == "percent_complete" else int if sort == "priority" else str
    if not isinstance(key, kind) or isinstance(key, bool) or not isinstance(job_id, int):
        raise _bad("is not a token this API gave")
    if sort in TIMES:
        try:
            key = datetime.fromisoformat(str(key))
        except ValueError:
            raise _bad("is not a token this API gave") from None
        key = key if key.tzinfo else key.replace(tzinfo=UTC)
    return key, job_id


def percent_page(
    rows: Sequence[JobRow], order: str, size: int, after: tuple[Any, int] | None
) -> tuple[list[JobRow], tuple[Any, int] | None]:
    """A page by percent complete (computed, so sorted here), and the last row's (key, id)
    when more follow."""

    def key(row: JobRow) -> float:
        return round(row.percent, 3)

    ordered = sorted(rows, key=lambda r: (key(r), r.id), reverse=order == "desc")
    if after is not None:
        if order == "desc":
            ordered = [r for r in ordered if (key(r), r.id) < after]
        else:
            ordered = [r for r in ordered if (key(r), r.id) > after]
    chosen = ordered[:size]
    more = len(ordered) > size and chosen
    return chosen, (key(chosen[-1]), chosen[-1].id) if more else None
