"""Pieces the command modules share."""

from __future__ import annotations

import argparse
import io
import re
from collections.abc import Callable, Sequence
from typing import Any

MAX_ID = 2**63 - 1  # SQLite's largest integer
# Control characters, and the Unicode ones that reorder text on screen: a cell or a title
# holding them could retitle or clear the user's terminal, or forge a line of output.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    """``\\u001b`` for ESC: the form JSON reads too, so ``--json`` output stays valid."""
    char = match.group()
    return _NAMED.get(char) or f"\\u{ord(char):04x}"


def printable(text: object) -> str:
    """``text`` as one safe line for a terminal: control characters shown escaped
    (``\\u001b``, ``\\r``, ``\\n``), never acted on."""
    return _CONTROL.sub(_escape, str(text))


class EscapingStream(io.TextIOBase):
    """A terminal stream that shows any control character written to it escaped — but the
    line breaks (and ``keep``) Cadence's own output is made of. What comes from a sheet, a
    title or an error is escaped whole with `printable` where it is printed; this is the net
    under everything else."""

    def __init__(self, stream: Any, keep: str = "\n\t") -> None:
        super().__init__()
        self.stream = stream
        allowed = "".join(re.escape(c) for c in keep)
        self.pattern = re.compile(f"(?![{allowed}]){_CONTROL.pattern}") if keep else _CONTROL

    def write(self, text: str) -> int:
        self.stream.write(self.pattern.sub(_escape, text))
        return len(text)

    def write_data(self, text: str) -> None:
        """What a command writes as a file's contents (an export to stdout): as it is."""
        self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return bool(self.stream.isatty())

    def fileno(self) -> int:
        return int(self.stream.fileno())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.stream, "encoding", "utf-8") or "utf-8")


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
