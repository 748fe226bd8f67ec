"""What the engine announces: light, so the window can know it before the engine loads."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """What an engine event is about (a StrEnum: it still compares equal to its text)."""

    ITEM_STARTED = "item_started"
    ITEM_PROGRESSED = "item_progressed"
    ITEM_FINISHED = "item_finished"
    ITEM_AWAITING_APPROVAL = "item_awaiting_approval"
    CHANNEL_ON_HOLD = "channel_on_hold"
    UPLOADS_WAITING = "uploads_waiting"  # the YouTube quota is used up until data["until"]


@dataclass(frozen=True, slots=True)
class EngineEvent:
    """Something that happened, announced after it was committed."""

    kind: EventKind  # item_id 0 when it concerns no one item
    job_id: int
    item_id: int
    row: int
    data: dict[str, Any] = field(default_factory=dict)
