"""Logging to a rotating file; to the terminal only when the user asks (--verbose)."""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup_logging(log_file: Path, *, verbose: bool = False) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_cadence", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    handlers: list[logging.Handler] = []
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            RotatingFileHandler(log_file, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
        )
    except OSError:
        # An unusable data folder is reported by whatever needs it next, in one line;
        # a log that cannot be written must not add a second.
        pass
    if verbose:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._cadence = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    logging.captureWarnings(True)
