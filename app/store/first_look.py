"""The window's first screenful of jobs, read with the standard library's sqlite3.

Opening the workspace imports SQLAlchemy and the tables' classes — about 0.4 s before a
single row could be read. This reader needs neither: it reads the newest jobs straight
from the database file and builds the same `JobRow` records (`app.store.job_row`) as
`app.store.jobs.job_rows`, so the job table is on screen while the workspace opens. It
only reads, and gives up (None) whenever anything is not as expected — no database yet, a
schema this version must first migrate, a locked or damaged file: the window then waits
for the workspace, which explains any problem. Running jobs' ETAs come with the
workspace's own read a moment later.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.domain.states import State
from app.store.job_row import JobRow, next_run, publishing_words
from app.store.moments import read_moment
from app.store.schema import SCHEMA_HEAD

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FirstLook:
    rows: list[JobRow]  # the newest jobs, newest first
    total: int  # how many jobs there are


def first_page(database: Path, size: int, now: datetime | None = None) -> FirstLook | None:
    """The ``size`` newest jobs (by creation), as the job table shows them; None when the
    database cannot be read this way (see the module's docstring)."""
    try:
        connection = sqlite3.connect(f"{database.as_uri()}?mode=rw", uri=True, timeout=0.5)
    except (sqlite3.Error, ValueError):  # missing (a first start) or not a path we can open
        return None
    try:
        return _read(connection, size, now or datetime.now(UTC))
    except (sqlite3.Error, ValueError, TypeError, AttributeError) as exc:  # hand-edited rows
        log.debug("first look skipped: %s", exc)
        return None
    finally:
        connection.close()


def _read(connection: sqlite3.Connection, size: int, now: datetime) -> FirstLook | None:
    version = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    if version is None or version[0] != SCHEMA_HEAD:
        return None  # the workspace migrates it first
    connection.execute("BEGIN")  # one snapshot for every query below (WAL)
    total = connection.execute("SELECT count(*) FROM jobs").fetchone()[0]
    jobs = connection.execute(
        "SELECT id, title, state, priority, scheduling, schedule_id, created_at, updated_at "
        "FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?",
        (size,),
    ).fetchall()
    ids = [job[0] for job in jobs]
    marks = ",".join("?" * len(ids))
    counts = {
        job_id: (total_items, done or 0, bad or 0)
        for job_id, total_items, done, bad in connection.execute(
            "SELECT job_id, count(*), sum(state = ?), sum(state = ?) FROM items "
            f"WHERE job_id IN ({marks}) GROUP BY job_id",
            (State.COMPLETED.value, State.FAILED.value, *ids),
        )
    }
    names, paused = {}, set()
    for schedule_id, name, is_paused in connection.execute(
        "SELECT id, name, paused FROM schedules"
    ):
        names[schedule_id] = name
        if is_paused:
            paused.add(schedule_id)
    publishing = publishing_words(
        connection.execute(
            "SELECT items.job_id, uploads.status, items.phase, items.state, count(*) "
            "FROM items JOIN uploads ON uploads.item_id = items.id "
            f"WHERE items.job_id IN ({marks}) "
            "GROUP BY items.job_id, uploads.status, items.phase, items.state",
            ids,
        )
    )
    connection.rollback()
    rows = []
    for job_id, title, state, priority, scheduling, schedule_id, created, updated in jobs:
        total_items, done, bad = counts.get(job_id, (0, 0, 0))
        planned = (json.loads(scheduling) if scheduling else None) or {}
        rows.append(
            JobRow(
                job_id,
                title,
                state,
                priority,
                total_items,
                done,
                bad,
                next_run(planned.get("start_at"), now, planned.get("timezone")),
                names.get(schedule_id, "") if schedule_id else "",
                read_moment(created),
                read_moment(updated),
                None,
                schedule_id if schedule_id in names else None,
                schedule_id in paused,
                publishing.get(job_id, ""),
            )
        )
    return FirstLook(rows, total)
