"""The lifecycle shared by bulk jobs and their items, with only the allowed transitions."""

from __future__ import annotations

from enum import StrEnum

from app.domain.errors import UserError


class State(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSING = "pausing"
    PAUSED = "paused"
    COMPLETING = "completing"
    COMPLETED = "completed"
    CANCELING = "canceling"
    CANCELED = "canceled"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def is_active(self) -> bool:
        """Work is under way or about to be: the scheduler must account for it."""
        return self in (State.RUNNING, State.PAUSING, State.COMPLETING, State.CANCELING)


TERMINAL = frozenset({State.COMPLETED, State.CANCELED})

TRANSITIONS: dict[State, frozenset[State]] = {
    State.PENDING: frozenset({State.RUNNING, State.PAUSED, State.CANCELED, State.FAILED}),
    State.RUNNING: frozenset(
        {State.PAUSING, State.COMPLETING, State.CANCELING, State.FAILED, State.PENDING}
    ),
    State.PAUSING: frozenset({State.PAUSED, State.CANCELING, State.FAILED}),
    State.PAUSED: frozenset({State.PENDING, State.RUNNING, State.CANCELING, State.CANCELED}),
    State.COMPLETING: frozenset({State.COMPLETED, State.FAILED}),
    State.COMPLETED: frozenset(),
    State.CANCELING: frozenset({State.CANCELED, State.FAILED}),
    State.CANCELED: frozenset(),
    State.FAILED: frozenset({State.PENDING}),
}
"""Allowed moves. running → pending is the crash-recovery re-queue; failed → pending is retry."""

_VERBS: dict[State, str] = {
    State.PENDING: "queue",
    State.RUNNING: "start",
    State.PAUSING: "pause",
    State.PAUSED: "pause",
    State.COMPLETING: "finish",
    State.COMPLETED: "complete",
    State.CANCELING: "cancel",
    State.CANCELED: "cancel",
    State.FAILED: "fail",
}


class IllegalTransition(UserError, ValueError):
    """A state change the lifecycle forbids; the message says what is possible instead."""

    def __init__(self, current: State, target: State, what: str = "job") -> None:
        self.current = current
        self.target = target
        allowed = sorted(s.value for s in TRANSITIONS[current])
        options = (
            f"from {current.value} it can only move to {', '.join(allowed)}"
            if allowed
            else f"{current.value} is final"
        )
        article = "an" if what[:1] in "aeiou" else "a"
        super().__init__(
            f"cannot {_VERBS[target]} {article} {what} that is {current.value} ({options})"
        )


def can_transition(current: State, target: State) -> bool:
    return target in TRANSITIONS[current]


def transition(current: State, target: State, what: str = "job") -> State:
    """Return ``target`` if the move is allowed, else raise `IllegalTransition`."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(current, target, what)
    return target
