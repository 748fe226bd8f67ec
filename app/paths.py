"""Where Cadence keeps its files: the platform's user dirs, or one folder given by the user."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from app import APP_NAME

DATA_DIR_ENV = "CADENCE_DATA_DIR"
RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEMO_SHEET = RESOURCES / "demo" / "ideas.csv"
APP_ICON = RESOURCES / "icons" / "cadence.png"
NAV_ICONS = RESOURCES / "icons" / "nav"  # one monochrome SVG per page, tinted by the theme
USER_GUIDE = RESOURCES.parent / "README.md"
MUSIC_DIR = RESOURCES / "music"


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
    def log_file(self) -> Path:
        return self.log_dir / "cadence.log"

    @classmethod
    def resolve(cls, data_dir: str | Path | None = None) -> AppPaths:
        """``--data-dir`` first, then ``$CADENCE_DATA_DIR``, then the platform's user dirs.

        A data dir given either way holds everything, logs included.
        """
        chosen = data_dir or os.environ.get(DATA_DIR_ENV)
        if chosen:
            root = Path(chosen).expanduser().resolve()
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
