"""A guard against a reference-count bug in one PySide6 release.

PySide6 6.12.0 returns ``True`` from ``SignalInstance.emit`` without taking a reference to
it, so every emit from Python leaves ``True`` one reference short. On Python 3.11 (where
``True`` is an ordinary object; 3.12 made it immortal) a session that emits more signals
than ``True`` has references — a few renders' progress events are enough — ends with
``Fatal Python error: bool_dealloc`` when the interpreter finalises at quit.

`pyproject.toml` excludes that release; this guard covers an environment that has it
anyway (an older lock file, a system package): it measures whether an emit loses a
reference and, if so, gives ``True`` and ``False`` a reserve of references large enough
never to run out — what Python 3.12 does for them by design.
"""

from __future__ import annotations

import ctypes
import logging
import sys

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

PROBE_EMITS = 64
RESERVE = 1 << 40  # ~10^12 emits; at 1,000 a second, 35 years


class _Probe(QObject):
    fired = Signal(object)


def emit_loses_references() -> bool:
    """Whether this PySide6 drops a reference to ``True`` on every emit."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(PROBE_EMITS):
        probe.fired.emit(None)
    lost = before - sys.getrefcount(True)
    if lost > 0:  # give back what the probe itself took
        _add_references(True, lost)
    return lost >= PROBE_EMITS


def _add_references(obj: object, count: int) -> None:
    cell = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is a PyObject's first field
    cell.value += count


def guard_signal_emits() -> bool:
    """Make the app safe from the emit bug; True if the guard was needed."""
    if sys.version_info >= (3, 12) or not emit_loses_references():
        return False
    import PySide6

    for constant in (True, False):
        _add_references(constant, RESERVE)
    log.warning(
        "PySide6 %s loses a reference on every signal emit; guarded (upgrade PySide6)",
        PySide6.__version__,
    )
    return True
