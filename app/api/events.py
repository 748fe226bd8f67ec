"""Engine events fanned out to Server-Sent Events subscribers (any thread → asyncio queues)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

QUEUE_LIMIT = 1000  # a subscriber that stops reading loses events, not the app's memory


@dataclass(frozen=True, slots=True)
class ApiEvent:
    kind: str  # job_changed | item_progress | item_started | item_finished | …
    data: dict[str, Any]


class EventHub:
    """Publishers call `publish` from any thread; each subscriber reads its own queue on the
    API's event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[ApiEvent]]] = []

    def subscribe(self) -> asyncio.Queue[ApiEvent]:
        queue: asyncio.Queue[ApiEvent] = asyncio.Queue(QUEUE_LIMIT)
        with self._lock:
            self._subscribers.append((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[ApiEvent]) -> None:
        with self._lock:
            self._subscribers = [(lp, q) for lp, q in self._subscribers if q is not queue]

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        event = ApiEvent(kind, data)
        with self._lock:
            targets = list(self._subscribers)
        for loop, queue in targets:
            try:
                loop.call_soon_threadsafe(_offer, queue, event)
            except RuntimeError:  # its loop has closed: the subscriber is gone
                self.unsubscribe(queue)


def _offer(queue: asyncio.Queue[ApiEvent], event: ApiEvent) -> None:
    if not queue.full():
        queue.put_nowait(event)


def engine_event(hub: EventHub, event: Any) -> None:
    """An `EngineEvent` as the API tells it: progress as ``item_progress``, and the job it
    concerns as ``job_changed`` when an item starts or ends."""
    data = {"job_id": event.job_id, "item_id": event.item_id, "row": event.row}
    if event.kind == "item_progressed":
        hub.publish("item_progress", {**data, **_plain(event.data)})
        return
    hub.publish(str(event.kind), {**data, **_plain(event.data)})
    hub.publish("job_changed", {"job_id": event.job_id})


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if isinstance(v, str | int | float | bool | type(None))}
