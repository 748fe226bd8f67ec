"""The SQLite store: pragmas, migrations that keep data, and many writers at once."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from app.store.database import MIGRATIONS, SCHEMA_HEAD, Checkpointer, Database, StoreError
from app.store.models import AuditEntry, Base, Execution, Item, Job, Setting
from app.store.moments import read_moment, stored_moment
from tests.conftest import DEMO


def _job(title: str = "A job", items: int = 2) -> Job:
    job = Job(title=title, source_kind="csv", source_location="/tmp/ideas.csv")
    job.items = [
        Item(row_number=n + 2, title=f"Idea {n}", idea={"idea_title": f"Idea {n}"})
        for n in range(items)
    ]
    for item in job.items:
        item.executions = [Execution(attempt=1, outcome="failed", error="boom")]
    return job


def test_pragmas(tmp_path: Path) -> None:
    database = Database.open(tmp_path / "cadence.db")
    with database.engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 30_000
        assert pragma("synchronous") == 1  # NORMAL
        assert pragma("wal_autocheckpoint") == 0  # the checkpointer's thread does it
    database.close()


def test_a_commit_never_checkpoints_the_log_its_thread_is_spared_that(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's automatic checkpoint would run inside the commit that takes the log past
    1,000 pages (with an fsync): a due schedule's job or an item's claim. It happens in the
    checkpointer's thread instead, once the commits are quiet — and the log still reaches
    the database file."""
    monkeypatch.setattr(Checkpointer, "QUIET_SECONDS", 0.3)
    path = tmp_path / "cadence.db"
    database = Database.open(path)
    before = path.stat().st_size
    with database.write() as session:  # ~8 MB: 2,000 pages, twice SQLite's threshold
        connection = session.connection()
        connection.exec_driver_sql("CREATE TABLE bulk (data BLOB)")
        connection.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)"
            " INSERT INTO bulk SELECT randomblob(4000) FROM n"
        )
    assert path.stat().st_size < before + 1_000_000  # the commit left it in the log
    deadline = time.monotonic() + 10
    while database.checkpointer.done == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert database.checkpointer.done >= 1
    assert path.stat().st_size > before + 8_000_000  # in the database file now
    database.close()
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_migrating_from_empty_matches_the_models(tmp_path: Path) -> None:
    database = Database.open(tmp_path / "cadence.db")
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    database.close()


def test_the_schema_head_the_fast_open_trusts_is_alembics(tmp_path: Path) -> None:
    """Opening skips alembic when the database is at SCHEMA_HEAD: it must be the real head."""
    from alembic.script import ScriptDirectory

    from app.store.database import alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_HEAD
    database = Database.open(tmp_path / "cadence.db")
    assert database.at_head() and database.revision() == SCHEMA_HEAD
    database.close()


def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "cadence.db"
    database = Database.open(path)
    with database.write() as session:
        session.add(_job())
    database.close()
    again = Database.open(path)
    with again.read() as session:
        assert session.scalar(select(func.count(Item.id))) == 2
    assert not list(tmp_path.glob("cadence.db.before-*"))  # nothing to upgrade, no backup
    again.close()


TEST_REVISION = '''
"""test-only: rebuild the jobs table (a batch ALTER copies and drops it)"""
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{previous}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", recreate="always") as batch:
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", recreate="always") as batch:
        batch.drop_column("notes")
'''


def test_upgrading_from_the_previous_revision_keeps_every_row(tmp_path: Path) -> None:
    """A later migration that rebuilds `jobs` must not cascade-delete items or history."""
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, migrations)
    path = tmp_path / "cadence.db"
    database = Database.open(path)
    previous = database.revision()
    with database.write() as session:
        session.add_all([_job("first", 3), _job("second", 2)])
    database.close()
    (migrations / "versions" / "9999_test.py").write_text(TEST_REVISION.format(previous=previous))

    upgraded = Database(path, migrations=migrations)
    upgraded.migrate()
    assert upgraded.revision() == "9999"
    with upgraded.read() as session:
        assert session.scalar(select(func.count(Job.id))) == 2
        assert session.scalar(select(func.count(Item.id))) == 5
        assert session.scalar(select(func.count(Execution.id))) == 5
    with upgraded.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert "notes" in [r[1] for r in connection.exec_driver_sql("PRAGMA table_info(jobs)")]
    backup = path.with_name("cadence.db.before-9999")
    assert backup.exists()
    with sqlite3.connect(backup) as old:
        assert old.execute("select count(*) from items").fetchone() == (5,)
    upgraded.close()


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cadence.db"
    Database.open(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("update alembic_version set version_num = 'ffff'")
    with pytest.raises(StoreError, match="newer version of Cadence"):
        Database.open(path)


def test_deleting_a_job_deletes_its_items_and_history(tmp_path: Path) -> None:
    database = Database.open(tmp_path / "cadence.db")
    with database.write() as session:
        session.add(_job())
    with database.write() as session:
        job = session.scalars(select(Job)).one()
        session.delete(job)
    with database.read() as session:
        assert session.scalar(select(func.count(Item.id))) == 0
        assert session.scalar(select(func.count(Execution.id))) == 0
    database.close()


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    database = Database.open(tmp_path / "cadence.db")
    with pytest.raises(RuntimeError), database.write() as session:
        session.add(_job())
        session.flush()
        raise RuntimeError("disk on fire")
    with database.read() as session:
        assert session.scalar(select(func.count(Job.id))) == 0
    database.close()


def test_times_are_stored_and_returned_in_utc(tmp_path: Path) -> None:
    database = Database.open(tmp_path / "cadence.db")
    local = datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=2)))
    with database.write() as session:
        job = _job()
        job.started_at = local
        session.add(job)
    with database.read() as session:
        started = session.scalars(select(Job)).one().started_at
    assert started == local and started is not None and started.tzinfo is UTC
    with pytest.raises(Exception, match="naive datetime"), database.write() as session:
        bad = _job()
        bad.started_at = datetime(2026, 1, 1)
        session.add(bad)
    database.close()


@pytest.mark.parametrize("microsecond", [0, 1, 999_999])
def test_hand_written_sql_writes_and_reads_moments_as_the_orm_does(
    tmp_path: Path, microsecond: int
) -> None:
    """The claim compares stored moments as text in plain SQL: `stored_moment` must write
    exactly what the ORM writes (else an item due now would wait, or one not due start)."""
    database = Database.open(tmp_path / "cadence.db")
    local = datetime(2026, 10, 25, 2, 30, 5, microsecond, tzinfo=timezone(timedelta(hours=1)))
    with database.write() as session:
        job = _job()
        job.started_at = local
        session.add(job)
    with database.read() as session:
        text = session.connection().exec_driver_sql("SELECT started_at FROM jobs").scalar()
    assert text == stored_moment(local)
    assert read_moment(text) == local and read_moment(None) is None
    assert (
        stored_moment(local + timedelta(microseconds=1))
        > text
        > stored_moment(local - timedelta(microseconds=1))
    )
    database.close()


def test_concurrent_writers_from_threads_all_commit(tmp_path: Path) -> None:
    """Read-then-write transactions from many threads queue on the lock; none fails."""
    database = Database.open(tmp_path / "cadence.db")
    errors: list[BaseException] = []
    threads_n, writes_n = 8, 40

    def writer(n: int) -> None:
        try:
            for i in range(writes_n):
                with database.write() as session:
                    seen = session.scalar(select(func.count(Setting.key)))
                    session.add(Setting(key=f"t{n}-{i}", value=seen))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with database.read() as session:
        values = session.scalars(select(Setting.value)).all()
    assert len(values) == threads_n * writes_n
    # Each writer saw every earlier commit: the counts it read are all different.
    assert sorted(values) == list(range(threads_n * writes_n))
    database.close()


def test_upgrading_a_revision_0001_database_keeps_its_data(tmp_path: Path) -> None:
    """A database made by the first release, with data, opened by this one."""
    path = tmp_path / "cadence.db"
    old = Database(path)
    old.migrate("0001")
    with sqlite3.connect(path) as raw:
        raw.execute(
            "insert into jobs (id, title, state, priority, source_kind, source_location, "
            "validation_level, output_config, scheduling, created_at, updated_at) values "
            "(1, 'Old job', 'paused', 'high', 'csv', '/x.csv', 'moderate', '{}', '{}', "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
        raw.execute(
            "insert into items (job_id, row_number, title, idea, warnings, state, progress, "
            "attempts, outputs, created_at, updated_at) values (1, 2, 'Old idea', "
            '\'{"idea_title": "Old idea", "priority": "high"}\', \'[]\', \'failed\', '
            "0.5, 2, '{}', "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
    old.close()
    upgraded = Database.open(path)
    assert upgraded.revision() == SCHEMA_HEAD
    with upgraded.read() as session:
        item = session.scalars(select(Item)).one()
        assert (item.title, item.state, item.attempts, item.not_before) == (
            "Old idea",
            "failed",
            2,
            None,
        )
        assert (item.rank, item.cost) == (2, 0.0)  # rank from the idea's priority
        assert item.job.title == "Old job" and item.job.priority == "high"
        assert item.job.rate_limited_until is None
    assert (tmp_path / f"cadence.db.before-{SCHEMA_HEAD}").exists()
    upgraded.close()


def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "cadence.db"
    with sqlite3.connect(path) as raw:
        raw.execute("create table customers (id integer primary key, name text)")
        raw.execute("insert into customers (name) values ('Ada')")
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"not a Cadence database .*tables: customers"):
        Database.open(path)
    assert path.read_bytes() == before
    with sqlite3.connect(path) as raw:
        tables = {r[0] for r in raw.execute("select name from sqlite_master where type='table'")}
    assert tables == {"customers"}


def test_db_check_and_restore_put_a_backup_back(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    data = tmp_path / "restoring"
    data.mkdir()
    assert run_cli("jobs", "create", "--source", str(DEMO), data=data).returncode == 0
    good = Database.open(data / "cadence.db")
    good.backup(data / "cadence.db.before-0006")
    good.close()
    assert "is whole" in run_cli("db", "check", data=data).stdout
    (data / "cadence.db").write_bytes(b"garbage" * 1000)
    checked = run_cli("db", "check", data=data)
    assert checked.returncode == 1 and "is damaged" in checked.stdout
    assert "db restore" in checked.stdout
    restored = run_cli("db", "restore", data=data)
    assert restored.returncode == 0, restored.stderr
    assert "Restored cadence.db.before-0006" in restored.stdout
    kept = [p for p in data.glob("cadence.db.replaced-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(kept) == 1 and kept[0].read_bytes() == b"garbage" * 1000  # never deleted
    listed = run_cli("jobs", "list", data=data)
    assert listed.returncode == 0 and "Demo" not in listed.stdout and "ideas" in listed.stdout
    missing = run_cli("db", "restore", "nope", data=data)
    assert missing.returncode == 2 and "there is no backup nope" in missing.stderr


def test_a_damaged_database_says_where_the_backup_is(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    data = tmp_path / "damaged"
    data.mkdir()
    (data / "cadence.db").write_bytes(b"this is not SQLite at all" * 200)
    (data / "cadence.db.before-0005").write_bytes(b"")
    result = run_cli("jobs", "list", data=data)
    assert result.returncode == 2
    assert "is damaged and cannot be read" in result.stderr
    assert "cadence.db.before-0005" in result.stderr and "Traceback" not in result.stderr


def test_a_job_is_stored_with_every_column_its_items_and_uploads_need(tmp_path: Path) -> None:
    """`create_job` writes plain inserts: the rows carry what the models' defaults give (a
    state, a phase, empty outputs, times) — exactly as a job stored through the ORM would."""
    from app.domain.idea import Idea, Priority
    from app.domain.job import JobDraft
    from app.domain.validation import Level, RowReport
    from app.store import jobs as job_store
    from app.store.models import Upload

    db = Database.open(tmp_path / "cadence.db")
    rows = [
        RowReport(2, "Tagged", Idea(idea_title="Tagged", script_content="x", tone="space")),
        RowReport(3, "Plain", Idea(idea_title="Plain", script_content="y", priority=Priority.HIGH)),
        RowReport(4, "Broken", None),  # not valid: no item
    ]
    draft = JobDraft(
        title="  Week 49  ",
        source_kind="csv",
        source_location="/tmp/ideas.csv",
        validation_level=Level.PERMISSIVE,
        output_config={"resolution": "720p"},
        scheduling={"mode": "content_based", "tags": ["space"], "timezone": "UTC"},
        publish={"target": "youtube", "channel": "UC1", "privacy": "private",
                 "made_for_kids": False, "every": "1d", "first": "2027-01-04T17:00",
                 "timezone": "UTC"},
    )  # fmt: skip
    before = datetime.now(UTC)
    with db.write() as session:
        job_id = job_store.create_job(session, draft, rows, "tester", header_row=1)
    with db.read() as session:
        job = session.get(Job, job_id)
        assert job is not None
        assert (job.title, job.state, job.priority, job.header_row) == ("Week 49", "pending",
                                                                        "normal", 1)  # fmt: skip
        assert job.created_at >= before and job.updated_at >= before and job.finished_at is None
        assert job.publish["channel"] == "UC1" and job.scheduling["mode"] == "content_based"
        items = {i.title: i for i in job.items}
        assert set(items) == {"Tagged", "Plain"}
        tagged, plain = items["Tagged"], items["Plain"]
        for item in (tagged, plain):
            assert (item.phase, item.outputs, item.progress, item.attempts) == (
                "render",
                {},
                0.0,
                0,
            )
            assert item.created_at >= before and item.output_url is None
        assert (tagged.state, tagged.error) == ("pending", None)
        assert plain.state == "canceled" and "only items tagged space" in str(plain.error)
        assert plain.rank == 2 and tagged.cost > 0
        uploads = session.scalars(select(Upload)).all()  # only the item that will render
        assert [(u.item_id, u.status, u.attempts, u.steps_done) for u in uploads] == [
            (tagged.id, "waiting", 0, [])
        ]
        assert uploads[0].publish_at == datetime(2027, 1, 4, 17, 0, tzinfo=UTC)
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.actor, entry.action, entry.target_id, entry.details) == (
            "tester", "job.create", job_id,
            {"title": "Week 49", "source": "/tmp/ideas.csv", "items": 2},
        )  # fmt: skip
    # Every row filtered out: the job is complete at once, with its finish time.
    excluded = JobDraft(title="None of these", source_kind="csv", source_location="/x.csv",
                        scheduling={"mode": "content_based", "tags": ["cats"]})  # fmt: skip
    with db.write() as session:
        done_id = job_store.create_job(session, excluded, rows[:2], "tester")
    with db.read() as session:
        done = session.get(Job, done_id)
        assert done is not None and done.state == "completed" and done.finished_at is not None
    db.close()


def test_ids_are_never_given_twice_even_after_the_newest_is_deleted(tmp_path: Path) -> None:
    """A deleted job's id (and its items' ids) is not the next job's: the audit log's history
    of one id is one job's, and a stale id never acts on another job."""
    database = Database.open(tmp_path / "cadence.db")
    with database.write() as session:
        session.add_all([_job("first"), _job("second")])
    with database.write() as session:
        newest = session.scalars(select(Job).where(Job.title == "second")).one()
        gone_job, gone_items = newest.id, [i.id for i in newest.items]
        session.delete(newest)
    with database.write() as session:
        session.add(_job("third"))
    with database.read() as session:
        third = session.scalars(select(Job).where(Job.title == "third")).one()
        assert third.id > gone_job and min(i.id for i in third.items) > max(gone_items)
    database.close()


def test_the_upgrade_never_gives_an_id_the_audit_log_names(tmp_path: Path) -> None:
    """Jobs deleted before the upgrade that stopped id reuse: their ids, known only from the
    audit log, are not given again either."""
    path = tmp_path / "cadence.db"
    database = Database(path)
    database.migrate("0009")
    database.close()
    with closing(sqlite3.connect(path)) as raw, raw:  # as 0009 left it (no later columns)
        raw.execute(
            "insert into jobs (title, state, priority, source_kind, source_location, "
            "validation_level, output_config, scheduling, created_at, updated_at, write_back, "
            "publish) values ('kept', 'pending', 'normal', 'csv', '/x.csv', 'moderate', '{}', "
            "'{}', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 0, '{}')"
        )
        raw.execute(
            "insert into audit_log (at, actor, action, target_kind, target_id, details) values "
            "('2026-01-01 00:00:00', 't', 'job.delete', 'job', 7, '{}')"
        )
    upgraded = Database.open(path)
    with upgraded.write() as session:
        session.add(_job("new"))
    with upgraded.read() as session:
        assert session.scalars(select(Job.id).where(Job.title == "new")).one() == 8
    upgraded.close()
