"""Why a render failed, in words that name the cause and the fix."""

from app.domain.errors import UserError


class RenderError(UserError):
    """A render that cannot go on; the message is one line: the cause, then the fix.

    ``transient``: not the user's to fix (a damaged file from a crash) — worth a retry."""

    transient = False


class DamagedOutput(RenderError):
    """A file the render made is not sound; a fresh attempt makes it again."""

    transient = True


class Canceled(Exception):
    """The user (or a pause) asked the render to stop at the next stage boundary."""
