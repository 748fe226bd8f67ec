"""Cadence: ``python main.py`` opens the window; ``python main.py --help`` lists the commands."""

import multiprocessing
import sys

if __name__ == "__main__":
    # In the packaged app, a render's child process starts this executable again:
    # freeze_support hands it to multiprocessing before anything else runs.
    multiprocessing.freeze_support()
    from app.entry import main

    sys.exit(main())
