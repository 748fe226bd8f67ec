"""Where the schedule triggers lived before `app.triggers`: APScheduler's job store pickles a
trigger by its class's module path, so jobs stored by earlier versions name this module.
It stays, re-exporting the classes, so those jobs still load (the first sync rebuilds them)."""

from app.triggers import CrontabTrigger, MovedRunsTrigger, WallClockTrigger

__all__ = ["CrontabTrigger", "MovedRunsTrigger", "WallClockTrigger"]
