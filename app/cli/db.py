"""``db check`` and ``db restore``: look after the database file itself (they work even
when it is too damaged to open)."""

from __future__ import annotations

import argparse
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from app.domain.errors import UserError
from app.engine.lock import InstanceLock
from app.paths import AppPaths, expand
from app.user_files import checked_path


def add_parser(commands: Any) -> None:
    db = commands.add_parser("db", help="check the database, or put a backup back")
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="is the database whole? which backups are there?")
    check.set_defaults(handler=cmd_check)
    restore = actions.add_parser(
        "restore", help="replace the database with a backup (the current one is kept aside)"
    )
    restore.add_argument("backup", nargs="?", metavar="BACKUP", help="default: the latest")
    restore.set_defaults(handler=cmd_restore)


def backups(database: Path) -> list[Path]:
    """The copies Cadence made before each upgrade, oldest first."""
    found = [
        p
        for p in database.parent.glob(f"{database.name}.before-*")
        if not p.name.endswith(("-wal", "-shm", "-journal"))
    ]
    return sorted(found, key=lambda p: p.stat().st_mtime)


def integrity(path: Path, *, live: bool = False) -> str:
    """SQLite's own verdict on a database file: "ok", or what is wrong. A backup is opened as
    immutable (nothing is created beside it); the live database read-only."""
    options = "mode=ro" if live else "mode=ro&immutable=1"
    try:
        raw = sqlite3.connect(f"{path.resolve().as_uri()}?{options}", uri=True)
        try:
            rows = raw.execute("PRAGMA integrity_check").fetchall()
        finally:
            raw.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    verdict = "; ".join(str(r[0]) for r in rows[:3])
    return verdict or "no answer"


def cmd_check(args: argparse.Namespace, paths: AppPaths) -> int:
    database = paths.database
    if not database.exists():
        print(f"No database yet in {paths.data_dir} — Cadence makes one when it first starts.")
        return 0
    verdict = integrity(database, live=True)
    copies = backups(database)
    if verdict == "ok":
        print(f"{database} is whole.")
    else:
        print(f"{database} is damaged: {verdict}")
    for copy in copies:
        print(f"  backup {copy.name} ({copy.stat().st_size / 1024:,.0f} KB): {integrity(copy)}")
    if verdict != "ok":
        hint = "`db restore` puts the latest backup back" if copies else "no backup is there"
        print(f"{hint}; the damaged file is kept aside, never deleted.")
        return 1
    return 0


def cmd_restore(args: argparse.Namespace, paths: AppPaths) -> int:
    database = paths.database
    copies = backups(database)
    if args.backup:
        named = database.parent / expand(args.backup).name
        try:
            chosen = named if named.is_file() else checked_path(Path(args.backup), "backup")
        except (UserError, OSError):
            raise UserError(f"there is no backup {args.backup} — `db check` lists them") from None
    elif copies:
        chosen = copies[-1]
    else:
        raise UserError(f"there is no backup beside {database} — nothing to restore")
    verdict = integrity(chosen)
    if verdict != "ok":
        raise UserError(f"the backup {chosen} is damaged too ({verdict}) — choose another")
    with InstanceLock(paths.data_dir / "engine.lock"):  # never under a running engine
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        if database.exists():
            aside = database.with_name(f"{database.name}.replaced-{stamp}")
            database.replace(aside)
            for suffix in ("-wal", "-shm"):
                extra = database.with_name(database.name + suffix)
                if extra.exists():
                    extra.replace(aside.with_name(aside.name + suffix))
            print(f"Kept the old database as {aside.name}.")
        temp = database.with_name(f".{database.name}.restoring")
        shutil.copyfile(chosen, temp)
        temp.replace(database)
    print(
        f"Restored {chosen.name}: Cadence opens it (and upgrades it if needed) at its next start."
    )
    return 0
