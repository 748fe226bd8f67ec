"""Reading a file the user names (a rules file, a key, a template): a regular file, within a
size, as text — never a device that never ends (/dev/zero), a pipe that never starts, or a
gigabyte read into memory to be refused afterwards."""

from __future__ import annotations

import stat
from pathlib import Path

from app.domain.errors import UserError
from app.paths import expand

SMALL = 1024 * 1024  # keys, rules, templates: far below this


def checked_path(path: Path, what: str, *, shape: str = "file", max_bytes: int = 0) -> Path:
    """The full path of an existing ``shape`` ("file": a regular file, of at most
    ``max_bytes`` when given; "folder"; "": either), or a `UserError` naming ``what`` and the
    path: missing, a loop, a device or a pipe, too large."""
    shown = f"{what} {path}" if what else str(path)
    try:
        full = expand(path).resolve()
        info = full.stat()
    except RuntimeError:
        raise UserError(f"{shown}: its links go round in a loop — name the file itself") from None
    except FileNotFoundError:
        raise UserError(f"{shown} does not exist — check the path") from None
    except OSError as exc:
        raise UserError(f"{shown} cannot be read ({exc.strerror or exc})") from None
    if shape == "folder" and not stat.S_ISDIR(info.st_mode):
        raise UserError(f"{shown} is not a folder")
    if shape == "file":
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"{shown} is not a regular file — name a file")
        if max_bytes and info.st_size > max_bytes:
            raise UserError(
                f"{shown} is {info.st_size:,} bytes; at most {max_bytes:,} are read — "
                "is it the right file?"
            )
    return full


def read_user_text(path: Path, what: str, max_bytes: int = SMALL) -> str:
    """The UTF-8 text of ``path`` (a leading BOM dropped); a `UserError` naming ``what`` and
    the file when it is missing, not a regular file, larger than ``max_bytes`` or not text."""
    full = checked_path(path, what, max_bytes=max_bytes)
    shown = f"{what} {path}" if what else str(path)
    try:
        with full.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise UserError(f"{shown} cannot be read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:  # it grew while being read
        raise UserError(f"{shown} is larger than {max_bytes:,} bytes — is it the right file?")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{shown} is not UTF-8 text — save it as UTF-8") from None
