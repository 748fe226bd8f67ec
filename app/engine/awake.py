"""Keeping the computer awake while a post that only this computer can make is due.

TikTok cannot schedule a post, so Cadence sends it at its time; a sleeping computer would miss
it. While such a post is due within `AHEAD` (or one is late, or being sent), the engine holds
the system's own sleep inhibitor: logind's on Linux (``systemd-inhibit``), ``caffeinate`` on
macOS, ``SetThreadExecutionState`` on Windows. The helper process is bounded in time and
ended when the engine lets go or stops, so it never outlives Cadence.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta

log = logging.getLogger(__name__)
AHEAD = timedelta(minutes=10)  # how long before a post is due the computer is kept awake
HOLD_SECONDS = 3600  # the longest one hold lasts before it is renewed


def inhibitor_command(why: str, seconds: int = HOLD_SECONDS) -> list[str] | None:
    """The command that keeps this system awake for ``seconds`` (None: none is known)."""
    if sys.platform.startswith("linux") and shutil.which("systemd-inhibit"):
        return ["systemd-inhibit", "--what=sleep:idle", "--who=Cadence", f"--why={why}",
                "--mode=block", "sleep", str(seconds)]  # fmt: skip
    if sys.platform == "darwin" and shutil.which("caffeinate"):
        return ["caffeinate", "-i", "-w", str(os.getpid()), "-t", str(seconds)]
    return None


class KeepAwake:
    """One hold at a time; `hold` again while held only renews a hold that ran out."""

    def __init__(self, command: Callable[[str], list[str] | None] = inhibitor_command) -> None:
        self.command = command
        self.why = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._windows: threading.Event | None = None
        self._refused_at = -1e9  # monotonic: when the system last refused (asked again later)

    @property
    def held(self) -> bool:
        if self._windows is not None:
            return True
        return self._process is not None and self._process.poll() is None

    def hold(self, why: str) -> None:
        if self.held:
            return
        process = self._process
        if process is not None and process.returncode not in (None, 0):
            self._refused_at, self._process = time.monotonic(), None  # e.g. no logind here
            log.info("this system would not keep the computer awake; posts due need it on")
        if time.monotonic() - self._refused_at < 600:
            return
        self.why = why
        if sys.platform == "win32" and self.command is inhibitor_command:
            self._hold_windows()
            return
        command = self.command(why)
        if command is None:
            log.info("no way to keep this computer awake is known; posts due need it on")
            return
        try:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            log.info("keeping the computer awake: %s", why)
        except OSError as exc:
            log.warning("could not keep the computer awake (%s)", exc)

    def _hold_windows(self) -> None:  # pragma: no cover - Windows only
        import ctypes

        done = threading.Event()

        def keep() -> None:
            flags = 0x80000000 | 0x00000001  # ES_CONTINUOUS | ES_SYSTEM_REQUIRED
            ctypes.windll.kernel32.SetThreadExecutionState(flags)  # type: ignore[attr-defined]
            done.wait()
            ctypes.windll.kernel32.SetThreadExecutionState(0x80000000)  # type: ignore[attr-defined]

        threading.Thread(target=keep, name="cadence-awake", daemon=True).start()
        self._windows = done

    def release(self) -> None:
        if self._windows is not None:
            self._windows.set()
            self._windows = None
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.info("the computer may sleep again")
        self.why = ""
