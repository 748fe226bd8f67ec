"""Pieces the command modules share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def add_id_actions(
    subcommands: Any, actions: Sequence[tuple[str, str]], handler: Callable[..., int]
) -> None:
    """One sub-command per action, each taking an ID; ``args.action`` names the action."""
    for name, text in actions:
        action = subcommands.add_parser(name, help=text)
        action.add_argument("id", type=int, metavar="ID")
        action.set_defaults(handler=handler, action=name)
