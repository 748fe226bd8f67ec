"""What a user asks for when creating a bulk job, checked before anything is stored."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from app.domain.dispatch import SchedulingConfig
from app.domain.errors import DraftError, UserError
from app.domain.idea import Priority
from app.domain.output import OutputConfig
from app.domain.publishing import PublishConfig
from app.domain.resources import parse_resources
from app.domain.storage import StorageError, parse_target
from app.domain.validation import Level

__all__ = ["DraftError", "JobDraft"]

MAX_JOB_TITLE = 200
DEADLINE_RANGE = (1, 1440)


_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$")


def check_callback(text: str) -> None:
    """An http(s) address with a plain host: no spaces or line breaks (they would split the
    request), no ``user:password@`` (it would travel in every delivery and the log)."""
    if any(c.isspace() for c in text) or any(ord(c) < 32 for c in text):
        raise DraftError("callback URL", "contains spaces or line breaks — remove them")
    url = urlparse(text)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise DraftError("callback URL", "must be an http:// or https:// address")
    if "@" in url.netloc:
        raise DraftError(
            "callback URL", "must not carry a user name or password — the request is signed"
        )
    try:
        host, port = url.hostname or "", url.port
    except ValueError:
        raise DraftError(
            "callback URL", "has a port that is not a number from 1 to 65535"
        ) from None
    if not host or not _HOST.match(url.netloc.rsplit(":", 1)[0] if port else url.netloc):
        raise DraftError("callback URL", f"has no usable host ({url.netloc!r})")


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
    write_back: bool = False
    publish: dict[str, Any] = field(default_factory=dict)  # `PublishConfig`; {}: render only

    def checked(self) -> JobDraft:
        """Self, if every setting is usable; else raise `DraftError` naming the setting."""
        if not self.title.strip():
            raise DraftError("title", "is empty — give the job a name")
        if len(self.title) > MAX_JOB_TITLE:
            raise DraftError("title", f"is longer than {MAX_JOB_TITLE} characters — shorten it")
        if any(unicodedata.category(c) == "Cc" for c in self.title):
            raise DraftError(
                "title", "holds control characters (a line break, a tab…) — write it on one line"
            )
        if self.deadline_minutes is not None:
            low, high = DEADLINE_RANGE
            if not low <= self.deadline_minutes <= high:
                raise DraftError(
                    "deadline", f"must be from {low} to {high} minutes, not {self.deadline_minutes}"
                )
        if self.callback_url:
            check_callback(self.callback_url)
        if self.write_back and self.source_kind != "gsheet":
            raise DraftError(
                "write-back", "needs a Google Sheet source — a file's rows cannot show status"
            )
        storage = str(self.output_config.get("storage") or "").strip()
        if storage and storage.lower() != "none":
            try:
                parse_target(storage)
            except StorageError as exc:
                raise DraftError("storage", str(exc)) from None
        try:
            parse_resources(str(self.output_config.get("needs") or ""), "needs")
        except UserError as exc:
            raise DraftError("needs", str(exc).removeprefix("needs: ")) from None
        try:
            OutputConfig.from_dict(self.output_config)  # the codec fields; the rest is ignored
        except UserError as exc:
            raise DraftError("output", str(exc)) from None
        SchedulingConfig.from_dict(self.scheduling)
        PublishConfig.from_dict(self.publish).checked()
        return self
