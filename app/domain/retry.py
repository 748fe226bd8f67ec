"""How failed items are retried: a strategy, a base and a cap for the wait, and a limit."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.domain.errors import UserError


class RetryStrategy(StrEnum):
    NONE = "none"
    FIXED = "fixed"  # base every time
    EXPONENTIAL = "exponential"  # base × 2^(n−1) after the n-th failure: base, 2·base, 4·base…
    LINEAR = "linear"  # n × base: base, 2·base, 3·base…


class RetryError(UserError, ValueError):
    pass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Only transient failures (a crashed or timed-out render) are retried; a problem the user
    must fix (no script, a bad font, a full disk) is not."""

    strategy: RetryStrategy = RetryStrategy.EXPONENTIAL
    base_seconds: int = 30
    max_seconds: int = 900
    max_attempts: int = 3

    def checked(self) -> RetryPolicy:
        if not 1 <= self.base_seconds <= 86_400:
            raise RetryError("retry base delay must be from 1 second to 1 day")
        if self.max_seconds < self.base_seconds:
            raise RetryError("retry max delay must not be below the base delay")
        if not 1 <= self.max_attempts <= 20:
            raise RetryError("max attempts must be from 1 to 20")
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any], default: RetryPolicy | None = None) -> RetryPolicy:
        base = default or cls()
        try:
            return cls(
                strategy=RetryStrategy(data.get("strategy", base.strategy)),
                base_seconds=int(data.get("base_seconds", base.base_seconds)),
                max_seconds=int(data.get("max_seconds", base.max_seconds)),
                max_attempts=int(data.get("max_attempts", base.max_attempts)),
            ).checked()
        except ValueError as exc:
            if isinstance(exc, RetryError):
                raise
            raise RetryError(
                f"retry settings: {exc} — strategy is none, fixed, exponential or linear"
            ) from exc
