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
