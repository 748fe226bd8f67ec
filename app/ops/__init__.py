"""Every change a user (or a schedule) makes: a function ``verb(services, request) -> Done``
that checks what it is given, runs in one transaction with its audit entry, and returns the
sentence to show with the `app.changes.Changes` it made. The window, the command line, the
REST API and the engine all change the store only through these."""

from app.ops import accounts, calendar, jobs, publishing, schedules, settings

__all__ = ["accounts", "calendar", "jobs", "publishing", "schedules", "settings"]
