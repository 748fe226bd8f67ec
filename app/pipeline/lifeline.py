"""Processes Cadence starts never outlive the process that started them.

A render's ffmpeg that kept writing after its engine was killed once put a second ``moov``
into the next attempt's file. Three layers keep that from happening on every OS:

- Linux: each process a render starts gets ``PR_SET_PDEATHSIG`` (it is killed the moment
  its parent ends), and so does the render process itself (`die_with_parent`).
- Other POSIX systems: a render process watches its parent and, once it is gone, kills its
  own process group — everything it started belongs to it.
- Windows: the engine and the worker put themselves in a job object that kills every process
  in it when the last handle closes — when they end, however they end (`contain`).

And at start the engine and the worker sweep leftovers (`sweep_leftovers`): processes whose
command line names their work folder, orphaned by a version without these guards.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.5
_job_handle: Any = None  # Windows: held for the life of the process, closed by its end


def _prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()


def _kill_with_parent() -> None:
    """In a forked child before it runs its program: die when the parent does. (Bound
    beforehand: nothing here may import or take a lock another thread could hold.)"""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)


def die_with_parent(parent: int) -> None:
    """This process ends when ``parent`` does, and takes its process group with it."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        if hasattr(os, "killpg") and os.getpgrp() == os.getpid():
            os.killpg(os.getpgrp(), signal.SIGKILL)  # what it started, and itself
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


class _GuardedPopen(subprocess.Popen):  # type: ignore[type-arg, unused-ignore]
    """`subprocess.Popen` whose children die with this process (Linux)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("preexec_fn") is None:
            kwargs["preexec_fn"] = _kill_with_parent
        super().__init__(*args, **kwargs)


def guard_children() -> None:
    """Every process this one starts from now on (ffmpeg through moviepy, espeak-ng, Piper)
    dies with it. For a render's own process only: it forks a few programs, not hundreds."""
    if _PRCTL is not None:
        subprocess.Popen = _GuardedPopen  # type: ignore[misc]


def contain() -> None:
    """Windows: this process and everything it starts from now on end together."""
    global _job_handle
    if sys.platform != "win32" or _job_handle is not None:
        return
    import ctypes
    from ctypes import wintypes

    extended_limits = _extended_limits_type()
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    kernel32.CreateJobObjectW.argtypes = [ctypes.c_void_p, wintypes.LPCWSTR]
    kernel32.SetInformationJobObject.argtypes = [
        wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD,
    ]  # fmt: skip
    kernel32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    job = kernel32.CreateJobObjectW(None, None)  # not inheritable: children hold no handle
    if not job:
        log.warning("no job object (error %s): child processes may outlive Cadence",
                    ctypes.get_last_error())  # fmt: skip
        return
    limits = extended_limits()
    limits.BasicLimitInformation.LimitFlags = 0x2000  # JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    extended_limit_information = 9
    if not (
        kernel32.SetInformationJobObject(
            job, extended_limit_information, ctypes.byref(limits), ctypes.sizeof(limits)
        )
        and kernel32.AssignProcessToJobObject(job, kernel32.GetCurrentProcess())
    ):
        log.warning("could not join a job object (error %s): child processes may outlive "
                    "Cadence", ctypes.get_last_error())  # fmt: skip
        kernel32.CloseHandle(job)
        return
    _job_handle = job


def _extended_limits_type() -> Any:
    """JOBOBJECT_EXTENDED_LIMIT_INFORMATION, as ctypes lays it out (Windows only)."""
    import ctypes
    from ctypes import wintypes

    class IoCounters(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_ulonglong)
            for name in ("reads", "writes", "others", "read_bytes", "written_bytes", "other_bytes")
        ]

    class BasicLimits(ctypes.Structure):
        _fields_ = [
            ("PerProcessUserTimeLimit", wintypes.LARGE_INTEGER),
            ("PerJobUserTimeLimit", wintypes.LARGE_INTEGER),
            ("LimitFlags", wintypes.DWORD),
            ("MinimumWorkingSetSize", ctypes.c_size_t),
            ("MaximumWorkingSetSize", ctypes.c_size_t),
            ("ActiveProcessLimit", wintypes.DWORD),
            ("Affinity", ctypes.c_size_t),
            ("PriorityClass", wintypes.DWORD),
            ("SchedulingClass", wintypes.DWORD),
        ]

    class ExtendedLimits(ctypes.Structure):
        _fields_ = [
            ("BasicLimitInformation", BasicLimits),
            ("IoInfo", IoCounters),
            ("ProcessMemoryLimit", ctypes.c_size_t),
            ("JobMemoryLimit", ctypes.c_size_t),
            ("PeakProcessMemoryUsed", ctypes.c_size_t),
            ("PeakJobMemoryUsed", ctypes.c_size_t),
        ]

    return ExtendedLimits


def _ours(process: psutil.Process) -> bool:
    """Whether ``process`` runs this program (a live render, a live engine)."""
    try:
        exe = process.exe()
    except psutil.Error:
        return False
    with contextlib.suppress(OSError):
        return Path(exe).samefile(sys.executable)
    return False


def sweep_leftovers(root: Path) -> list[int]:
    """Kill processes left over from a render that died: those whose command line names
    ``root`` (a work folder) and whose parent is not a live process of this program. Returns
    their ids. Call while holding the folder's lock (no other engine uses it)."""
    needle = str(root)
    killed: list[psutil.Process] = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            command = process.info.get("cmdline") or []
            if process.pid == os.getpid() or not any(needle in part for part in command):
                continue
            parent = process.parent()
            if parent is not None and parent.pid != 1 and _ours(parent):
                continue  # a render still going (another Cadence command renders here too)
            log.warning("stopping a leftover process of an earlier render: %s (%s)",
                        process.pid, " ".join(command)[:200])  # fmt: skip
            process.kill()
            killed.append(process)
        except psutil.Error:
            continue
    psutil.wait_procs(killed, timeout=5)
    return [p.pid for p in killed]
