"""What an operation changed, so that a front end refreshes only that (Anki's ``OpChanges``).

Every operation of the workspace (create, act on, edit or delete a job; approve, reject or
reschedule items; add, pause, resume or remove a schedule; change settings) runs in one
transaction with its audit entry and returns a `Done`: the sentence to show and the ids it
touched. The window reloads only those rows; the API answers with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class JobAction(StrEnum):
    """What can be done to a job (a StrEnum: it still compares equal to its text)."""

    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    RETRY = "retry"
    EXECUTE = "execute"  # start now: resume, and drop a start time or a retry wait
    DELETE = "delete"
    ENABLE = "enable"  # the schedule that makes the job
    DISABLE = "disable"

    @classmethod
    def parse(cls, text: str) -> JobAction:
        from app.domain.errors import UserError

        try:
            return cls(text)
        except ValueError:
            names = ", ".join(a.value for a in cls)
            raise UserError(f"{text!r} is not something a job can do — use {names}") from None


class ScheduleAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    REMOVE = "remove"
    RUN = "run"  # make its job now


def _ids(values: Iterable[int]) -> frozenset[int]:
    return frozenset(int(v) for v in values)


@dataclass(frozen=True, slots=True)
class Changes:
    """Ids of what an operation created, changed or removed."""

    jobs: frozenset[int] = frozenset()
    items: frozenset[int] = frozenset()
    schedules: frozenset[int] = frozenset()
    settings: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        jobs: Iterable[int] = (),
        items: Iterable[int] = (),
        schedules: Iterable[int] = (),
        settings: Iterable[str] = (),
    ) -> Changes:
        return cls(_ids(jobs), _ids(items), _ids(schedules), frozenset(settings))

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            self.jobs | other.jobs,
            self.items | other.items,
            self.schedules | other.schedules,
            self.settings | other.settings,
        )

    def __bool__(self) -> bool:
        return bool(self.jobs or self.items or self.schedules or self.settings)

    def to_dict(self) -> dict[str, list[int] | list[str]]:
        return {
            "jobs": sorted(self.jobs),
            "items": sorted(self.items),
            "schedules": sorted(self.schedules),
            "settings": sorted(self.settings),
        }


@dataclass(frozen=True, slots=True)
class Done:
    """An operation's result: what to tell the user, and what changed. Prints as its message."""

    message: str
    changes: Changes = field(default_factory=Changes)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class BulkDone(Done):
    """One action on many jobs: each job's outcome (its `Done`, or the `UserError` that
    refused it — one refusal does not stop the others), summed up in one sentence."""

    outcomes: tuple[tuple[int, Done | Exception], ...] = ()

    def single_refusal(self) -> Exception | None:
        """One job asked for, and refused: the refusal (to show as an error, not a count)."""
        if len(self.outcomes) == 1 and isinstance(self.outcomes[0][1], Exception):
            return self.outcomes[0][1]
        return None


def bulk_done(action: str, outcomes: Sequence[tuple[int, Done | Exception]]) -> BulkDone:
    """Many jobs' outcomes in one sentence (one job: its own words)."""
    done = [job_id for job_id, outcome in outcomes if isinstance(outcome, Done)]
    refused = [(job_id, o) for job_id, o in outcomes if not isinstance(o, Done)]
    changes = Changes.of(jobs=done)
    if len(outcomes) == 1:
        outcome = outcomes[0][1]
        message = outcome.message if isinstance(outcome, Done) else str(outcome)
        return BulkDone(message, changes, tuple(outcomes))
    jobs = f"{len(done)} job{'s' if len(done) != 1 else ''}"
    message = f"{action.capitalize()}: {jobs}."
    if refused:
        first_id, first = refused[0]
        others = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        message += f" Job {first_id} could not: {first}{others}."
    return BulkDone(message, changes, tuple(outcomes))
