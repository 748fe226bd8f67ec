"""Reading and validating a source (a sheet, a CSV or XLSX file) — nothing is stored."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.domain.validation import Level, Rules, SheetReport
from app.sources.intake import SourceSpec, load_report

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger(__name__)


def rules(services: Services, level: Level = Level.MODERATE) -> Rules:
    """What validation may accept here: an empty script is fine when a script writer
    (``llm.endpoint`` and ``llm.model``) is set up to write it."""
    writer = bool(services.settings.text("llm.endpoint") and services.settings.text("llm.model"))
    return Rules(level=level, can_generate_script=writer)


def check_source(
    services: Services, spec: SourceSpec, level: Level = Level.MODERATE
) -> SheetReport:
    return load_report(spec, rules(services, level), services.sheets, services.paths.own_folders)
