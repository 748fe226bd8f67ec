"""Operations on settings: change several at once (checked, audited); test a cluster, storage or a
footage key."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from app.changes import Changes, Done

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger(__name__)


def _setting_text(value: Any) -> str | None:
    """A value from a form or a JSON body as a setting's text (None: back to the default)."""
    if value in ("", None):
        return None
    return str(value).lower() if isinstance(value, bool) else str(value)


def save_settings(services: Services, values: dict[str, Any]) -> Done:
    """Change several settings (each checked before any is stored)."""
    from app import autostart

    values = dict(values)
    if "autostart" in values:
        on = bool(values.pop("autostart"))
        if autostart.supported():
            autostart.set_enabled(on, services.paths.data_dir)
    services.settings.set_many({k: _setting_text(v) for k, v in values.items()}, services.actor)
    return Done("Settings saved.", Changes.of(settings=values))


def set_setting(services: Services, key: str, text: str) -> Done:
    """One setting, as typed (checked, audited — the same change the window's Save makes)."""
    services.settings.set_many({key: text}, services.actor)
    return Done(f"{key} = {services.settings.shown(key)}", Changes.of(settings=[key]))


def unset_setting(services: Services, key: str) -> Done:
    """One setting back to its default (audited)."""
    services.settings.set_many({key: None}, services.actor)
    shown = services.settings.shown(key) or "(empty)"
    return Done(f"{key} = {shown} (default)", Changes.of(settings=[key]))


def new_api_token(services: Services) -> Done:
    """A new REST API token; the old one stops working at once (audited)."""
    from app.store.jobs import audit

    services.settings.generated("api.token", anew=True)
    with services.db.write() as session:
        audit(session, services.actor, "api.rotate_token", "settings", None)
    return Done(
        "Made a new API token; the old one stops working within seconds.",
        Changes.of(settings=["api.token"]),
    )


def prune_history(services: Services, days: int | None = None) -> Done:
    """Attempt records and audit entries older than ``days`` (default: ``history.keep_days``)
    removed, and the removal audited."""
    from app.store import stats
    from app.store.jobs import audit

    if days is None:
        days = services.settings.integer("history.keep_days")
    with services.db.write() as session:
        removed = stats.prune_history(session, days)
        audit(session, services.actor, "history.prune", "history", None, days=days, **removed)
    return Done(
        f"Removed {removed['executions']} attempt records and {removed['audit_entries']} "
        f"audit entries older than {days} days."
    )
