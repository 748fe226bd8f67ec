"""One engine per data folder: a second would claim the same queue and job store.

The lock is filelock's (fcntl on Linux and macOS, msvcrt on Windows), held by the process and
gone when it dies; the holder's process id is kept beside it, for the message a second engine
gets.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from app.domain.errors import UserError


class AlreadyRunning(UserError):
    pass


class InstanceLock:
    """An exclusive lock on ``path``, released on close or when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pid_file = path.with_name(path.name + ".pid")
        # Not thread-local: the window takes the lock in a worker thread and lets it go on
        # the GUI thread.
        self.lock = FileLock(path, thread_local=False)

    def acquire(self) -> InstanceLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.lock.acquire(blocking=False)
        except Timeout:
            raise AlreadyRunning(
                f"Cadence is already running on this data folder (process {self._holder()}) — "
                "stop it first, or use another folder with --data-dir"
            ) from None
        except OSError as exc:
            raise UserError(
                f"cannot use the data folder {self.path.parent} ({exc.strerror or exc}) — check "
                "that it is writable, or choose another with --data-dir"
            ) from None
        with contextlib.suppress(OSError):
            self.pid_file.write_text(str(os.getpid()), encoding="ascii")
        return self

    def _holder(self) -> str:
        try:
            return self.pid_file.read_text(encoding="ascii").strip() or "another process"
        except OSError:
            return "another process"

    def release(self) -> None:
        if self.lock.is_locked:
            with contextlib.suppress(OSError):
                self.pid_file.unlink(missing_ok=True)
            self.lock.release()

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
