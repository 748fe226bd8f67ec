"""Where videos are published: one small interface per platform, so that another platform is
one new module here — not edits across the engine and the operations.

A destination signs channels in (and says when one must sign in again), keeps to its
platform's limits and quota, starts or resumes an upload and confirms it (each attempt ends
in a `PublishOutcome`), reads a published video's status, and moves a scheduled video's
publish time. The engine's uploads (`app.engine.uploading`) and the publishing operations
(`app.ops.publishing`) reach a platform only through `destination`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from app.domain.errors import UserError

if TYPE_CHECKING:
    from app.google.publisher import PublishOutcome
    from app.services import Services


class Destination(Protocol):
    name: str  # what a job's publish settings call it (`PublishConfig.target`)

    def signed_in(self) -> list[str]:
        """The channels (ids) that may take uploads now: signed in, not on hold."""

    def uploads_left_today(self, channel: str) -> int:
        """How many more uploads the platform's quota allows the channel today."""

    def publish(
        self,
        item_id: int,
        progress: Callable[[float], None],
        stop: threading.Event,
        cancel: threading.Event,
    ) -> PublishOutcome:
        """One attempt at an item's upload: started, or resumed where the last one stopped
        (never a second video), then confirmed; how it ended."""

    def status(self, channel: str, video_id: str) -> str | None:
        """The published video's privacy as the platform shows it (None: gone)."""

    def reschedule(self, channel: str, video_id: str, when: datetime) -> str:
        """A scheduled video's new publish time, set on the platform; its privacy now."""


class DestinationError(UserError):
    """The platform refused; says what it said."""


_MADE: dict[str, Callable[[Services], Destination]] = {}


def register(name: str, make: Callable[[Services], Destination]) -> None:
    _MADE[name] = make


def destination(services: Services, name: str = "youtube") -> Destination:
    """The destination a job's publish settings name."""
    if name not in _MADE:  # each registers itself when imported
        import app.publish.meta
        import app.publish.tiktok
        import app.publish.youtube  # noqa: F401
    if name not in _MADE:
        known = ", ".join(sorted(_MADE))
        raise UserError(f"{name!r} is not a place Cadence publishes to — use {known}")
    return _MADE[name](services)
