"""The window's fonts: the colour-emoji font Cadence ships (the one its renders draw emoji
with) in Qt's emoji fallback, so titles with emoji show them, not empty boxes."""

from __future__ import annotations

import logging

from PySide6.QtGui import QFontDatabase

from app.paths import RESOURCES

log = logging.getLogger(__name__)

EMOJI_FONT = RESOURCES / "fonts" / "NotoColorEmoji.ttf"  # as app/pipeline/fonts.py draws with


def use_bundled_emoji() -> list[str]:
    """Adds the shipped emoji font once (a QApplication must exist); its family names."""
    have = QFontDatabase.applicationEmojiFontFamilies()
    if have:
        return list(have)
    found = QFontDatabase.addApplicationFont(str(EMOJI_FONT))
    families = QFontDatabase.applicationFontFamilies(found) if found >= 0 else []
    if not families:
        log.warning("the emoji font %s could not be loaded: emoji may show as boxes", EMOJI_FONT)
        return []
    QFontDatabase.setApplicationEmojiFontFamilies(families)
    return list(families)
