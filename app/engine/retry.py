"""Retry delays through tenacity's wait strategies, for the engine's queue (not a loop here:
a waiting item goes back to the queue with a time before which it is not claimed)."""

from __future__ import annotations

from tenacity import RetryCallState, wait_exponential, wait_fixed, wait_incrementing
from tenacity.wait import wait_base

from app.domain.retry import RetryPolicy, RetryStrategy


def _wait(policy: RetryPolicy) -> wait_base | None:
    if policy.strategy is RetryStrategy.FIXED:
        return wait_fixed(policy.base_seconds)
    if policy.strategy is RetryStrategy.EXPONENTIAL:
        return wait_exponential(multiplier=policy.base_seconds, exp_base=2, max=policy.max_seconds)
    if policy.strategy is RetryStrategy.LINEAR:
        return wait_incrementing(
            start=policy.base_seconds, increment=policy.base_seconds, max=policy.max_seconds
        )
    return None


def retry_delay(policy: RetryPolicy, attempt: int, *, transient: bool) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or None when the item must not retry."""
    wait = _wait(policy)
    if wait is None or not transient or attempt >= policy.max_attempts:
        return None
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    return float(min(wait(state), policy.max_seconds))
