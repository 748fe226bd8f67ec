"""What a user asks for when creating a bulk job, checked before anything is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from app.domain.errors import UserError
from app.domain.idea import Priority
from app.domain.validation import Level

MAX_JOB_TITLE = 200
DEADLINE_RANGE = (1, 1440)


class DraftError(UserError, ValueError):
    """A job setting that cannot be used; ``field`` names it, the message says what to do."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class JobDraft:
    title: str
    source_kind: str
    source_location: str
    source_tab: str | None = None
    source_range: str | None = None
    priority: Priority = Priority.NORMAL
    validation_level: Level = Level.MODERATE
    style: str | None = None
    deadline_minutes: int | None = None
    callback_url: str | None = None
    output_config: dict[str, Any] = field(default_factory=dict)
    scheduling: dict[str, Any] = field(default_factory=dict)

    def checked(self) -> JobDraft:
        """Self, if every setting is usable; else raise `DraftError` naming the setting."""
        if not self.title.strip():
            raise DraftError("title", "is empty — give the job a name")
        if len(self.title) > MAX_JOB_TITLE:
            raise DraftError("title", f"is longer than {MAX_JOB_TITLE} characters — shorten it")
        if self.deadline_minutes is not None:
            low, high = DEADLINE_RANGE
            if not low <= self.deadline_minutes <= high:
                raise DraftError(
                    "deadline", f"must be from {low} to {high} minutes, not {self.deadline_minutes}"
                )
        if self.callback_url:
            url = urlparse(self.callback_url)
            if url.scheme not in ("http", "https") or not url.netloc:
                raise DraftError("callback URL", "must be an http:// or https:// address")
        return self
