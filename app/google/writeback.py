"""Status write-back: each row of a job's Google Sheet shows how its video is doing.

Four columns — Cadence status, Cadence output, Cadence error, Cadence updated — found by their
title in the job's header row (the one validation found, or the empty row above a range
without one, chosen when the job was made) when every cell they would write for this job's
rows is empty or holds what Cadence wrote there (another job's columns may run past its rows
into a user's notes), else added after the last column any row of the range uses (the grid
grows when it must). Nothing else in the sheet is ever written.

The database is the queue: an item whose ``updated_at`` is newer than ``sheet_synced_at`` has
news for its sheet. `WriteBack.flush` sends all pending news of a sheet in one
``values:batchUpdate`` and only then marks it synced, so news made while offline (or while
Google's quota is used up) stays pending and goes out with a later flush — after a restart
too. The engine flushes at most once a second.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from app.domain.a1 import RangeError, column_letter, parse_range
from app.domain.columns import detect_header
from app.domain.dispatch import SKIPPED
from app.domain.publishing import platform_name
from app.domain.states import State
from app.google.auth import AuthError
from app.google.sheets import SheetError, SheetsClient, TabInfo, quote_tab
from app.store.database import Database
from app.store.jobs import audit
from app.store.models import Item, Job, Upload

log = logging.getLogger(__name__)
HEADERS = ("Cadence status", "Cadence output", "Cadence error", "Cadence updated")
BATCH = 500  # items per flush


@dataclass(frozen=True, slots=True)
class Columns:
    """Where the status columns are in one tab: a 1-based column per header."""

    tab: TabInfo
    header_row: int
    positions: tuple[int, int, int, int]


def status_words(item: Item) -> str:
    """The row's status; a video bound for several platforms says each one's
    ("YouTube: published · TikTok: uploading")."""
    if len(item.uploads) < 2 or item.phase == "render" or item.state == State.CANCELED.value:
        return _status_words(item, item.upload)
    return " · ".join(
        f"{platform_name(u.destination)}: {_post_words(item, u)}" for u in item.uploads
    )


def _post_words(item: Item, upload: Upload) -> str:
    if upload.status in ("published", "scheduled", "private", "rejected", "failed"):
        return upload.status
    if upload.status == "on_hold":
        return "on hold"
    if upload.status == "uploading" and item.state == State.RUNNING.value:
        return "uploading"
    if item.phase == "approval":
        return "awaiting approval"
    return "waiting"


def _status_words(item: Item, upload: Upload | None) -> str:
    state = item.state
    if state == State.CANCELED.value and (item.error or "").startswith(SKIPPED):
        return "skipped"
    if upload is not None and state == State.COMPLETED.value:
        return upload.status  # scheduled | published | private
    if upload is not None and upload.status == "rejected":
        return "rejected"
    if state == State.PENDING.value and item.phase == "approval":
        return "awaiting approval"
    if state == State.PENDING.value and item.phase == "upload":
        return "on hold" if upload is not None and upload.status == "on_hold" else "rendered"
    if state == State.RUNNING.value and item.phase == "upload":
        return "uploading"
    if state == State.PENDING.value:
        return "waiting to retry" if item.not_before and item.attempts else "queued"
    return {"running": "rendering", "completing": "rendering"}.get(state, state)


def status_values(item: Item) -> list[str]:
    output = item.outputs.get("video", "") if item.outputs else ""
    links = [u.url for u in item.uploads if u.url]
    if links:
        output = "\n".join(links)
    updated = item.updated_at.astimezone().strftime("%Y-%m-%d %H:%M") if item.updated_at else ""
    return [status_words(item), str(output or ""), item.error or "", updated]


def _tab_of(source_range: str | None, tab: str | None) -> str | None:
    """The tab a job's range names (``Ideas!A1:J``), else its tab."""
    if source_range:
        try:
            named, _area = parse_range(source_range)
        except RangeError:
            return tab
        return named or tab
    return tab


def _titled_blocks(cells: list[str]) -> list[tuple[int, int, int, int]]:
    """Sets of status columns the header row already titles (1-based): each run of the four
    titles side by side, then — for columns a user moved apart — each title's first place."""
    blocks = [
        (start + 1, start + 2, start + 3, start + 4)
        for start in range(len(cells) - len(HEADERS) + 1)
        if tuple(cells[start : start + len(HEADERS)]) == HEADERS
    ]
    if all(name in cells for name in HEADERS):
        first = tuple(cells.index(name) + 1 for name in HEADERS)
        if first not in blocks:
            blocks.append((first[0], first[1], first[2], first[3]))
    return blocks


def _free(
    block: tuple[int, int, int, int],
    rows: list[int],
    band: list[list[Any]],
    band_first: int,
    ours: dict[tuple[int, int], set[str]],
) -> bool:
    """Whether every cell ``block`` would write in ``rows`` is empty or holds what Cadence
    wrote there: a column another job titled may run past that job's rows into the user's."""
    for row in rows:
        line = band[row - band_first] if 0 <= row - band_first < len(band) else []
        for index, position in enumerate(block):
            value = str(line[position - 1]).strip() if position - 1 < len(line) else ""
            if value and value not in ours.get((row, index), ()):
                return False
    return True


class WriteBack:
    """Writes each finished row's status back to its Google Sheet. It needs the database and
    a way to get the Sheets client for a job — not the whole workspace (which imports this
    package: the old dependency ran in a loop)."""

    def __init__(self, db: Database, sheets: Callable[[int], SheetsClient]) -> None:
        self.db = db
        self.sheets = sheets
        self.columns: dict[tuple[str, str | None, int | None, int, int], Columns] = {}
        self.last_error: str | None = None

    def pending(self) -> bool:
        """Cheap when no job writes back (the usual case): one look at the jobs table."""
        with self.db.read() as session:
            jobs = list(session.scalars(select(Job.id).where(Job.write_back.is_(True))))
            return bool(jobs) and session.scalar(self._stale(jobs).limit(1)) is not None

    def pending_count(self) -> int:
        """How many rows' statuses are not in their sheets yet."""
        with self.db.read() as session:
            jobs = list(session.scalars(select(Job.id).where(Job.write_back.is_(True))))
            if not jobs:
                return 0
            return len(session.scalars(self._stale(jobs)).all())

    def flush_all(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> int:
        """Flush until nothing is pending, a flush writes nothing (offline, refused: the rest
        waits for the next run), or ``seconds`` have gone; returns the rows still pending."""
        deadline = clock() + seconds
        while self.pending() and clock() < deadline:
            if not self.flush():
                break
        return self.pending_count()

    @staticmethod
    def _stale(jobs: list[int]) -> Any:
        return select(Item.id).where(
            Item.job_id.in_(jobs),
            or_(Item.sheet_synced_at.is_(None), Item.sheet_synced_at < Item.updated_at),
        )

    def flush(self) -> int:
        """Send pending statuses, one batch update per sheet; returns the rows written.
        A `SheetError` leaves them pending (network, quota, sharing) for the next flush."""
        with self.db.read() as session:
            jobs = list(session.scalars(select(Job.id).where(Job.write_back.is_(True))))
            rows = session.execute(
                select(Item, Job)
                .join(Job)
                .options(selectinload(Item.uploads))
                .where(Item.id.in_(self._stale(jobs).limit(BATCH)))
                .order_by(Job.id, Item.row_number)
            ).all()
            work: dict[tuple[str, str | None, str | None], list[tuple[Item, Job]]] = defaultdict(
                list
            )
            for item, job in rows:
                work[(job.source_location, job.source_tab, job.source_range)].append((item, job))
        written = 0
        for (location, tab, source_range), pairs in work.items():
            try:
                written += self._flush_sheet(location, tab, source_range, pairs)
            except (SheetError, AuthError) as exc:  # kept pending; said once
                self._failed(pairs[0][1].id, str(exc))
                continue
        if written:
            self.last_error = None
        return written

    def _flush_sheet(
        self,
        location: str,
        tab: str | None,
        source_range: str | None,
        pairs: list[tuple[Item, Job]],
    ) -> int:
        changes: list[tuple[Item, list[str]]] = []
        for item, _job in pairs:
            values = status_values(item)
            if item.sheet_status != {"values": values}:
                changes.append((item, values))
        job = pairs[0][1]
        client = self.sheets(job.id)
        data: list[dict[str, Any]] = []
        if changes:
            columns, header_data = self._columns(client, job)
            data += header_data
            for item, values in changes:
                for position, value in zip(columns.positions, values, strict=True):
                    cell = f"{column_letter(position)}{item.row_number}"
                    data.append(
                        {"range": f"{quote_tab(columns.tab.title)}!{cell}", "values": [[value]]}
                    )
            client.write(location, data)
        with self.db.write() as session:
            for item, _job in pairs:
                session.execute(
                    update(Item)
                    # Only if nothing newer happened meanwhile; updated_at is set to itself so
                    # that the sync is not news in turn.
                    .where(Item.id == item.id, Item.updated_at == item.updated_at)
                    .values(
                        sheet_status={"values": status_values(item)},
                        sheet_synced_at=item.updated_at,
                        updated_at=Item.updated_at,
                    )
                )
        log.info("wrote %s row statuses to sheet %s", len(changes), location)
        return len(changes)

    def _columns(self, client: SheetsClient, job: Job) -> tuple[Columns, list[dict[str, Any]]]:
        """The status columns of a job's rows (read once, then cached) and any titles to
        write: found by title in its header row, else after the last column *any* row of the
        range (or the header row) uses, so that no user's cell is ever written."""
        location, tab = job.source_location, job.source_tab
        first, last = 1, None
        if job.source_range:
            try:
                named, area = parse_range(job.source_range)
                tab, first, last = named or tab, area.first_row, area.last_row
            except RangeError:
                pass
        key = (location, tab, job.header_row, first, job.id)  # each job its own rows
        cached = self.columns.get(key)
        if cached is not None:
            return cached, []
        info = client.info(location)
        chosen = info.tab(tab)
        header_row = job.header_row
        band_first = min(first, header_row) if header_row else first
        band_last = last or max(chosen.rows, band_first)
        [band] = client.read(location, [f"{quote_tab(chosen.title)}!{band_first}:{band_last}"])
        if header_row is None:  # a job from before header rows were stored
            header_row = self._legacy_header(band, band_first)
        offset = header_row - band_first
        header = band[offset] if 0 <= offset < len(band) else []
        cells = [str(c).strip() for c in header]
        last_used = max((len(row) for row in band), default=0)
        ours = self._written(job, tab)
        rows = self._rows_of(job)
        titles: list[dict[str, Any]] = []
        found = next(
            (
                block
                for block in _titled_blocks(cells)
                if _free(block, rows, band, band_first, ours)
            ),
            None,
        )
        if found is not None:  # titled columns whose cells are empty or Cadence's own
            positions = list(found)
        else:  # new ones, after the last column any row of the range (or the header) uses
            positions = [last_used + n for n in range(1, len(HEADERS) + 1)]
            titles = [
                {
                    "range": f"{quote_tab(chosen.title)}!{column_letter(position)}{header_row}",
                    "values": [[name]],
                }
                for position, name in zip(positions, HEADERS, strict=True)
            ]
        if max(positions) > chosen.columns:
            client.add_columns(location, chosen, max(positions) - chosen.columns)
        columns = Columns(
            chosen, header_row, (positions[0], positions[1], positions[2], positions[3])
        )
        self.columns[key] = columns
        return columns, titles

    def _rows_of(self, job: Job) -> list[int]:
        with self.db.read() as session:
            return list(session.scalars(select(Item.row_number).where(Item.job_id == job.id)))

    def _written(self, job: Job, tab: str | None) -> dict[tuple[int, int], set[str]]:
        """What Cadence wrote into this sheet's tab, by (row, status field): the only values
        besides empty cells that a status column may replace."""
        found: dict[tuple[int, int], set[str]] = defaultdict(set)
        with self.db.read() as session:
            written = session.execute(
                select(Item.row_number, Item.sheet_status, Job.source_range, Job.source_tab)
                .join(Job)
                .where(
                    Job.source_location == job.source_location,
                    Job.write_back.is_(True),
                    Item.sheet_status.is_not(None),
                )
            ).all()
        for row, status, source_range, source_tab in written:
            if _tab_of(source_range, source_tab) != tab:
                continue
            for index, value in enumerate((status or {}).get("values") or []):
                found[(row, index)].add(str(value))
        return found

    @staticmethod
    def _legacy_header(band: list[list[Any]], band_first: int) -> int:
        """The header row of a job made before header rows were stored: the range's first
        non-empty row, if it reads as a header; otherwise write-back cannot be placed."""
        for n, row in enumerate(band):
            if any(str(c).strip() for c in row):
                if detect_header(row) is not None:
                    return band_first + n
                break
        raise SheetError(
            "write-back needs a header row, and this job's range has none — add a header "
            "row to the sheet and create the job again, or turn write-back off for new jobs"
        )

    def _failed(self, job_id: int, message: str) -> None:
        if message != self.last_error:
            log.warning("status write-back to the sheet of job %s waits: %s", job_id, message)
            with self.db.write() as session:
                audit(session, "Cadence", "writeback.failed", "job", job_id, error=message)
        self.last_error = message
