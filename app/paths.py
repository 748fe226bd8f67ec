"""Where Cadence keeps its files: the platform's user dirs, or one folder given by the user."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from app import APP_NAME
from app.domain.errors import UserError

DATA_DIR_ENV = "CADENCE_DATA_DIR"
RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEMO_SHEET = RESOURCES / "demo" / "ideas.csv"
APP_ICON = RESOURCES / "icons" / "cadence.png"
NAV_ICONS = RESOURCES / "icons" / "nav"  # one monochrome SVG per page, tinted by the theme
USER_GUIDE = RESOURCES.parent / "README.md"
MUSIC_DIR = RESOURCES / "music"


def expand(path: str | Path) -> Path:
    """``path`` with a leading ``~`` (or ``~user``) expanded; a `UserError` when there is no
    such user on this computer (pathlib raises a bare RuntimeError)."""
    if "\x00" in str(path):  # no file system takes it: every call on the path would raise
        raise UserError(f"{str(path)!r} has a NUL character — no file or folder has")
    try:
        return Path(path).expanduser()
    except RuntimeError:  # "Could not determine home directory."
        user = str(path).split("/", 1)[0].split("\\", 1)[0].removeprefix("~")
        raise UserError(
            f"{path}: there is no user “{user}” on this computer — write the full path"
        ) from None


@dataclass(frozen=True, slots=True)
class AppPaths:
    data_dir: Path
    log_dir: Path
    cache_dir: Path
    config_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / "cadence.db"

    @property
    def secrets_file(self) -> Path:
        return self.config_dir / "secrets.json"

    @property
    def templates_dir(self) -> Path:
        return self.data_dir / "templates"

    @property
    def voices_dir(self) -> Path:
        """Piper voices the user adds: NAME.onnx next to NAME.onnx.json."""
        return self.data_dir / "voices"

    @property
    def own_folders(self) -> tuple[Path, ...]:
        """Cadence's own folders: no idea sheet is read from them, no video written there."""
        return (self.data_dir, self.config_dir, self.cache_dir, self.log_dir)

    @property
    def log_file(self) -> Path:
        return self.log_dir / "cadence.log"

    @classmethod
    def resolve(cls, data_dir: str | Path | None = None) -> AppPaths:
        """``--data-dir`` first, then ``$CADENCE_DATA_DIR``, then the platform's user dirs.

        A data dir given either way holds everything, logs included.
        """
        chosen = data_dir or os.environ.get(DATA_DIR_ENV)
        if chosen:
            try:
                root = expand(chosen).resolve()
                root.exists()  # a name too long for the file system says so here
            except RuntimeError:  # a symlink loop
                raise OSError(errno.ELOOP, "its links go round in a loop") from None
            return cls(root, root / "logs", root / "cache", root / "config")
        return cls(
            platformdirs.user_data_path(APP_NAME, appauthor=False),
            platformdirs.user_log_path(APP_NAME, appauthor=False),
            platformdirs.user_cache_path(APP_NAME, appauthor=False),
            platformdirs.user_config_path(APP_NAME, appauthor=False),
        )


def unwritable(folder: Path) -> str | None:
    """Why files cannot be written in ``folder`` (made if missing), or None when they can."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".cadence-check-"):
            pass
    except FileExistsError:
        return "it is a file, not a folder"
    except OSError as exc:
        return str(exc.strerror or exc)
    return None


# Folders that belong to the system: no video goes there, even for a user allowed to write
# in them (root, or an administrator through the API).
_SYSTEM = (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run",
    "/sbin", "/sys", "/usr", "/var/lib", "/var/log", "/var/cache", "/var/spool", "/var/run",
    "/System", "/Library", "/private/etc", "/private/var/db",
)  # fmt: skip


def _system_folders() -> list[Path]:
    if os.name != "nt":
        return [Path("/"), *(Path(p) for p in _SYSTEM)]
    names = ("SystemRoot", "ProgramFiles", "ProgramFiles(x86)", "ProgramData")
    return [Path(os.environ[n]) for n in names if os.environ.get(n)]


def folder_problem(folder: Path, own: AppPaths | None = None) -> str | None:
    """Why videos may not go to ``folder``, or None: a folder of the user's that can be
    written to (it may not exist yet) — not a system folder, not one of Cadence's own, not a
    file or a device. Nothing is created or written to find out."""
    try:
        path = expand(folder).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long
        return f"its path cannot be followed ({getattr(exc, 'strerror', None) or exc})"
    if own is not None and any(path.is_relative_to(mine) for mine in (own.config_dir, own.log_dir)):
        return "it is where Cadence keeps its settings and logs — choose a folder of your own"
    try:
        existing = next((p for p in (path, *path.parents) if p.exists()), None)
        if existing is None:
            return "no part of it exists"
        if not existing.is_dir():
            return "it is not a folder" if existing == path else f"{existing} is not a folder"
    except OSError as exc:  # a name too long for the file system
        return str(exc.strerror or exc)
    if any(path == system or (system != Path("/") and path.is_relative_to(system))
           for system in _system_folders()):  # fmt: skip
        return "it is a system folder — choose a folder of your own, such as ~/Videos"
    if not os.access(existing, os.W_OK | os.X_OK):
        return "you may not write there (permission denied)"
    return None
