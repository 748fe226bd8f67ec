"""The SQLite database: one engine with the pragmas, read and write sessions, migrations."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.domain.errors import UserError
from app.store.schema import MIGRATIONS, SCHEMA_HEAD

if TYPE_CHECKING:  # alembic takes most of a second to import: only when migrating
    from alembic.config import Config

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000


class StoreError(UserError):
    """The database cannot be used as it is; the message says what to do."""


class DamagedDatabase(StoreError):
    """SQLite found the file damaged; nothing more is written to it."""


_DAMAGED = ("malformed", "file is not a database", "database corruption", "disk image")


def damaged(message: str) -> bool:
    """Whether an SQLite error says the file itself is damaged."""
    return any(words in message.lower() for words in _DAMAGED)


def damage_report(path: Path, reason: str) -> str:
    """One line: what is wrong with the file and what `db check` and `db restore` do."""
    backups = sorted(path.parent.glob(f"{path.name}.before-*"))
    fix = (
        "`cadence db restore` puts the latest backup back (the damaged file is kept aside)"
        if backups
        else "no backup is there: move it away to start afresh (Cadence makes a new one)"
    )
    return (
        f"the database {path} is damaged ({reason}) — nothing more is written to it; "
        f"`cadence db check` shows the damage, {fix}"
    )


def alembic_config(migrations: Path = MIGRATIONS) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations))
    return config


def _refuse_foreign(path: Path) -> None:
    """Refuse, without changing a byte, an existing SQLite file that holds another program's
    tables and no Cadence revision (it would be migrated into otherwise)."""
    if not path.exists() or path.stat().st_size == 0:
        return
    raw = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        names = {
            str(row[0])
            for row in raw.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
    finally:
        raw.close()
    foreign = sorted(names - {"alembic_version"})
    if foreign and "alembic_version" not in names:
        raise StoreError(
            f"{path} is not a Cadence database (it holds another program's tables: "
            f"{', '.join(foreign[:5])}) — nothing was changed; move it away, or choose another "
            "folder with --data-dir"
        )


class Database:
    """The app's SQLite file. Reads see a snapshot; writes take the lock up front.

    Writers use ``BEGIN IMMEDIATE`` so that two threads never deadlock upgrading a read
    lock; they queue on the busy timeout instead of failing with "database is locked".
    """

    def __init__(
        self, path: Path, *, synchronous: str = "NORMAL", migrations: Path = MIGRATIONS
    ) -> None:
        self.path = path
        self.migrations = migrations
        self.checkpointer = Checkpointer(path)
        self.damage: str | None = None  # SQLite said the file is damaged: no more writes
        self.engine = _make_engine(path, synchronous, self.checkpointer, self)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(
            self.engine.execution_options(cadence_write=True), expire_on_commit=False
        )
        # Writers of this process queue here, and the next one goes the moment the lock is
        # free; waiting on SQLite's busy handler instead sleeps in steps of up to 100 ms.
        # (Other processes still meet the busy timeout.)
        self.write_lock = threading.RLock()

    @classmethod
    def open(cls, path: Path) -> Database:
        """Open (creating if needed) and bring the schema up to date."""
        try:
            folder = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
            if folder is not None and not folder.is_dir():
                raise StoreError(
                    f"{folder} is a file, not a folder — choose another folder with --data-dir"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            _refuse_foreign(path)
            database = cls(path)
            if not database.at_head():
                database.migrate()
        except (OSError, sqlite3.OperationalError, OperationalError) as exc:
            reason = getattr(exc, "strerror", None) or str(getattr(exc, "orig", exc))
            raise StoreError(
                f"cannot open the database in {path.parent} ({reason}) — choose another "
                "folder with --data-dir, or check that this one is writable"
            ) from exc
        except (sqlite3.DatabaseError, DatabaseError) as exc:
            backups = sorted(path.parent.glob(f"{path.name}.before-*"))
            hint = (
                f"the latest backup is {backups[-1].name}: `python main.py db restore` puts it "
                "back (the damaged file is kept aside)"
                if backups
                else f"move it away to start afresh (Cadence then makes a new {path.name})"
            )
            raise StoreError(f"the database {path} is damaged and cannot be read — {hint}") from exc
        return database

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader.begin() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction committed on leaving the block, rolled back on an exception.
        Refused once the file was found damaged: writing would only spread the damage."""
        if self.damage is not None:
            raise DamagedDatabase(self.damage)
        with self.writing(), self._writer.begin() as session:
            yield session

    def found_damaged(self, reason: str) -> str:
        """Remember that the file is damaged (writes stop); returns the one-line report."""
        if self.damage is None:
            self.damage = damage_report(self.path, reason)
            log.error("%s", self.damage)
        return self.damage

    def quick_check(self) -> None:
        """SQLite's quick check of the whole file (a second or so for a large one: call it
        off the GUI thread). Raises `DamagedDatabase` when it finds damage."""
        try:
            with self.engine.connect() as connection:
                rows = connection.exec_driver_sql("PRAGMA quick_check").fetchall()
        except DamagedDatabase:
            raise
        except (sqlite3.DatabaseError, DatabaseError) as exc:
            raise DamagedDatabase(self.found_damaged(str(getattr(exc, "orig", exc)))) from None
        verdict = "; ".join(str(r[0]) for r in rows[:3])
        if verdict != "ok":
            raise DamagedDatabase(self.found_damaged(verdict))

    @contextmanager
    def writing(self) -> Iterator[None]:
        """This process's turn to write (see ``write_lock``); after the busy timeout, the
        transaction goes ahead anyway and SQLite decides, as it would have."""
        mine = self.write_lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            yield
        finally:
            if mine:
                self.write_lock.release()

    def at_head(self) -> bool:
        """Whether the bundled schema is already in place: one query, without alembic."""
        if self.migrations != MIGRATIONS:
            return False
        try:
            with self.engine.connect() as connection:
                found = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
                return bool(found.scalar() == SCHEMA_HEAD)
        except (OperationalError, DatabaseError):  # new, or unreadable: `migrate` says
            return False

    def revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def migrate(self, target: str = "head") -> None:
        """Upgrade to ``target``; an existing database is backed up first.

        Foreign keys are off while migrating: SQLite's batch mode rebuilds a table by
        dropping it, and a drop with ``ON DELETE CASCADE`` live would delete its children.
        The keys are checked before the migration commits instead.
        """
        from alembic import command
        from alembic.script import ScriptDirectory

        config = alembic_config(self.migrations)
        script = ScriptDirectory.from_config(config)
        head = script.get_current_head()
        current = self.revision()
        if current is not None and current not in {r.revision for r in script.walk_revisions()}:
            raise StoreError(
                f"{self.path} was written by a newer version of Cadence (schema {current}) — "
                "update Cadence to open it"
            )
        if current == (head if target == "head" else target):
            return
        if current is not None:
            self.backup(self.path.with_name(f"{self.path.name}.before-{head}"))
        log.info("migrating %s from %s to %s", self.path, current or "empty", target)
        with self.engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")  # only takes effect outside a transaction
            try:
                with connection.execution_options(cadence_write=True).begin():
                    config.attributes["connection"] = connection
                    command.upgrade(config, target)
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise StoreError(
                            f"migrating {self.path} would break {len(broken)} references; "
                            "nothing was changed — please report this"
                        )
            finally:
                raw.execute("PRAGMA foreign_keys=ON")

    def backup(self, destination: Path) -> None:
        """A consistent copy of the live database (SQLite's online backup)."""
        source = sqlite3.connect(self.path)
        target = sqlite3.connect(destination)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()

    def watch(self) -> CommitWatch:
        return CommitWatch(self.path)

    def close(self) -> None:
        self.engine.dispose()
        self.checkpointer.close()


class Checkpointer:
    """Moves the write-ahead log into the database file from its own thread.

    SQLite's automatic checkpoint runs inside whichever commit takes the log past 1,000
    pages — with an fsync of the database file, 5–20 ms on this kind of disk — and that commit
    was as often as not a due schedule's job or an item's claim: the dispatch latency's slowest
    1 %. This process's connections turn it off (``wal_autocheckpoint=0``); after commits it is
    done here instead, on a connection of its own (a passive checkpoint: it never blocks a
    reader or writer, and sqlite3 lets go of the GIL while it runs), once the commits have
    been quiet for a moment or enough of them have piled up.
    """

    QUIET_SECONDS = 0.5
    MOST_COMMITS = 100  # at ~20 pages a scheduled job: before the log reaches ~2,000 pages

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done = 0  # checkpoints made (tests, diagnostics)
        self._commits = 0
        self._wake = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def committed(self) -> None:
        """A transaction of this process committed (cheap: no I/O here)."""
        with self._wake:
            if self._closed:
                return
            self._commits += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="wal-checkpoint", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def close(self) -> None:
        with self._wake:
            self._closed, thread = True, self._thread
            self._wake.notify()
        if thread is not None:
            thread.join(5)

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, check_same_thread=False)
        try:
            while self._settle():
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    self.done += 1
                except sqlite3.Error as exc:  # tried again after the next commits
                    log.warning("moving the database's log into its file failed: %s", exc)
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # what the last writes left
        except sqlite3.Error as exc:
            log.warning("moving the database's log into its file failed: %s", exc)
        finally:
            connection.close()

    def _settle(self) -> bool:
        """Wait for commits, then for a quiet moment (or many commits); False once closed."""
        with self._wake:
            while not self._commits and not self._closed:
                self._wake.wait()
            while not self._closed and self._commits < self.MOST_COMMITS:
                seen = self._commits
                self._wake.wait(self.QUIET_SECONDS)
                if self._commits == seen:  # quiet
                    break
            self._commits = 0
            return not self._closed


class CommitWatch:
    """Tells whether anything was committed to the database since the last look — by this
    process or any other — at the cost of one ``PRAGMA data_version`` (a read of WAL's shared
    memory, no query). Its own connection never writes, so every commit is someone else's.
    One thread at a time."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(path, check_same_thread=False)
        self._seen: int | None = None

    def changed(self) -> bool:
        """True on the first look and whenever a commit happened since the previous one."""
        version = int(self._connection.execute("PRAGMA data_version").fetchone()[0])
        changed, self._seen = version != self._seen, version
        return changed

    def close(self) -> None:
        self._connection.close()


def _make_engine(
    path: Path, synchronous: str, checkpointer: Checkpointer, database: Database
) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA wal_autocheckpoint=0")  # the `Checkpointer` does it
        cursor.close()

    @event.listens_for(engine, "commit")
    def on_commit(_connection: Any) -> None:
        checkpointer.committed()

    @event.listens_for(engine, "handle_error")
    def on_error(context: Any) -> None:
        """Any query that meets damage, at any time: the file is marked damaged (no more
        writes) and the error becomes the one-line report."""
        original = context.original_exception
        if isinstance(original, sqlite3.DatabaseError) and damaged(str(original)):
            raise DamagedDatabase(database.found_damaged(str(original)))

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get("cadence_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
