"""What every route works with: the workspace (actor ``api``), the event hub, the engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request

from app.api.events import EventHub
from app.services import Services


@dataclass
class Context:
    workspace: Services
    hub: EventHub = field(default_factory=EventHub)
    wake: Callable[[], None] = lambda: None  # the engine looks at the queue now
    engine_running: Callable[[], bool] = lambda: False


def context(request: Request) -> Context:
    found: Context = request.app.state.context
    return found
