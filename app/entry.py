"""Where ``python main.py`` (and the ``cadence`` command) starts.

With no command, the window opens — without importing the command line's modules (the API
server, the renderer, every Google client), so the window and its job table are on screen
sooner. Anything else (a command, ``--help``, ``--version``) goes to `app.cli`.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

WINDOW_FLAGS = ("--verbose", "-v", "--tray")


def window_options(argv: Sequence[str]) -> dict[str, object] | None:
    """The window's options when ``argv`` holds only global options, else None."""
    options: dict[str, object] = {"data_dir": None, "verbose": False, "tray": False}
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in WINDOW_FLAGS:
            options["verbose" if arg in ("--verbose", "-v") else "tray"] = True
        elif arg == "--data-dir" and args and not args[0].startswith("-"):
            options["data_dir"] = args.pop(0)
        elif arg.startswith("--data-dir=") and len(arg) > len("--data-dir="):
            options["data_dir"] = arg.split("=", 1)[1]
        else:
            return None  # a command, --help, a mistake: the full command line says
    return options


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if sys.platform == "win32":  # what Cadence starts (renders, their ffmpeg) ends with it
        from app.pipeline.lifeline import contain

        contain()
    options = window_options(args)
    if options is None:
        from app.cli import main as command_line

        return command_line(args)
    # Start-up allocates hundreds of thousands of long-lived objects (modules, classes, Qt
    # wrappers): the cyclic collector's passes over them are pure waste until the window is
    # up. It is switched back on once the first screenful is painted (`MainWindow`).
    gc.disable()
    from app.domain.errors import UserError
    from app.logs import setup_logging
    from app.paths import AppPaths

    data_dir = options["data_dir"]
    try:
        paths = AppPaths.resolve(str(data_dir) if data_dir else None)
    except (OSError, UserError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else str(exc)
        print(f"cadence: cannot use the data dir {data_dir}: {why}", file=sys.stderr)
        return 2
    setup_logging(paths.log_file, verbose=bool(options["verbose"]))
    from app.ui.launch import run_gui

    return run_gui(paths, in_tray=bool(options["tray"]))
