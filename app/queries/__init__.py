"""The read side: what the views, the command line and the API show — nothing here changes
the user's data. Each function takes the workspace's `app.services.Services`."""

from app.queries import (
    accounts,
    analytics,
    calendar,
    dashboard,
    estimates,
    jobs,
    schedules,
    settings,
    sources,
)

__all__ = [
    "accounts",
    "analytics",
    "calendar",
    "dashboard",
    "estimates",
    "jobs",
    "schedules",
    "settings",
    "sources",
]
