"""Status write-back: each row of a job's Google Sheet shows how its video is doing.

Four columns — Cadence status, Cadence output, Cadence error, Cadence updated — found by their
header in the job's header row, or added after the last used column (the grid grows when it
must). Nothing else in the sheet is ever written.

The database is the queue: an item whose ``updated_at`` is newer than ``sheet_synced_at`` has
news for its sheet. `WriteBack.flush` sends all pending news of a sheet in one
``values:batchUpdate`` and only then marks it synced, so news made while offline (or while
Google's quota is used up) stays pending and goes out with a later flush — after a restart
too. The engine flushes at most once a second.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from app.domain.a1 import RangeError, column_letter, parse_range
from app.domain.scheduling import SKIPPED
from app.domain.states import State
from app.google.auth import AuthError
from app.google.sheets import SheetError, SheetsClient, TabInfo, quote_tab
from app.store.jobs import audit
from app.store.models import Item, Job
from app.workspace import Workspace

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
    state, upload = item.state, item.upload
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
    if item.upload is not None and item.upload.url:
        output = item.upload.url
    updated = item.updated_at.astimezone().strftime("%Y-%m-%d %H:%M") if item.updated_at else ""
    return [status_words(item), str(output or ""), item.error or "", updated]


class WriteBack:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.columns: dict[tuple[str, str | None], Columns] = {}
        self.last_error: str | None = None

    def pending(self) -> bool:
        """Cheap when no job writes back (the usual case): one look at the jobs table."""
        with self.workspace.db.read() as session:
            jobs = list(session.scalars(select(Job.id).where(Job.write_back.is_(True))))
            return bool(jobs) and session.scalar(self._stale(jobs).limit(1)) is not None

    @staticmethod
    def _stale(jobs: list[int]) -> Any:
        return select(Item.id).where(
            Item.job_id.in_(jobs),
            or_(Item.sheet_synced_at.is_(None), Item.sheet_synced_at < Item.updated_at),
        )

    def flush(self) -> int:
        """Send pending statuses, one batch update per sheet; returns the rows written.
        A `SheetError` leaves them pending (network, quota, sharing) for the next flush."""
        with self.workspace.db.read() as session:
            jobs = list(session.scalars(select(Job.id).where(Job.write_back.is_(True))))
            rows = session.execute(
                select(Item, Job)
                .join(Job)
                .options(selectinload(Item.upload))
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
        client = self.workspace.sheets(pairs[0][1].id)
        data: list[dict[str, Any]] = []
        if changes:
            columns, header_data = self._columns(client, location, tab, source_range)
            data += header_data
            for item, values in changes:
                for position, value in zip(columns.positions, values, strict=True):
                    cell = f"{column_letter(position)}{item.row_number}"
                    data.append(
                        {"range": f"{quote_tab(columns.tab.title)}!{cell}", "values": [[value]]}
                    )
            client.write(location, data)
        with self.workspace.db.write() as session:
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

    def _columns(
        self, client: SheetsClient, location: str, tab: str | None, source_range: str | None
    ) -> tuple[Columns, list[dict[str, Any]]]:
        """The status columns of a tab (read once, then cached) and any headers to write."""
        key = (location, tab)
        cached = self.columns.get(key)
        if cached is not None:
            return cached, []
        info = client.info(location)
        range_tab, header_row = tab, 1
        if source_range:
            try:
                named, area = parse_range(source_range)
                range_tab, header_row = named or tab, area.first_row
            except RangeError:
                pass
        chosen = info.tab(range_tab)
        [header] = client.read(location, [f"{quote_tab(chosen.title)}!{header_row}:{header_row}"])
        cells = [str(c).strip() for c in (header[0] if header else [])]
        last_used = len(cells)
        positions: list[int] = []
        headers: list[dict[str, Any]] = []
        for name in HEADERS:
            if name in cells:
                positions.append(cells.index(name) + 1)
                continue
            last_used += 1
            positions.append(last_used)
            headers.append(
                {
                    "range": f"{quote_tab(chosen.title)}!{column_letter(last_used)}{header_row}",
                    "values": [[name]],
                }
            )
        if max(positions) > chosen.columns:
            client.add_columns(location, chosen, max(positions) - chosen.columns)
        columns = Columns(
            chosen, header_row, (positions[0], positions[1], positions[2], positions[3])
        )
        self.columns[key] = columns
        return columns, headers

    def _failed(self, job_id: int, message: str) -> None:
        if message != self.last_error:
            log.warning("status write-back to the sheet of job %s waits: %s", job_id, message)
            with self.workspace.db.write() as session:
                audit(session, "Cadence", "writeback.failed", "job", job_id, error=message)
        self.last_error = message
