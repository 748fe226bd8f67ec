"""Pieces the command modules share."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

MAX_ID = 2**63 - 1  # SQLite's largest integer


def record_id(text: str) -> int:
    """An ID argument: a whole number the database can hold (argparse says so otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ID — IDs are whole numbers") from None
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{text} is not an ID — IDs run from 1 up")
    return value


def whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (argparse names the flag)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} — give a whole number from {low} to {high}")
        return value

    return parse


def add_id_actions(
    subcommands: Any, actions: Sequence[tuple[str, str]], handler: Callable[..., int]
) -> None:
    """One sub-command per action, each taking an ID; ``args.action`` names the action."""
    for name, text in actions:
        action = subcommands.add_parser(name, help=text)
        action.add_argument("id", type=record_id, metavar="ID")
        action.set_defaults(handler=handler, action=name)
