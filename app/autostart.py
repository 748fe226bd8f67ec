"""Start Cadence at login: an XDG autostart entry on Linux desktops."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from app.paths import APP_ICON

ROOT = Path(__file__).resolve().parent.parent


def entry_path() -> Path:
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "autostart" / "cadence.desktop"


def supported() -> bool:
    return sys.platform.startswith("linux")


def enabled() -> bool:
    return supported() and entry_path().exists()


def set_enabled(on: bool, data_dir: Path | None = None) -> None:
    """Write or remove the entry; it starts this Python with this checkout's main.py."""
    path = entry_path()
    if not on:
        path.unlink(missing_ok=True)
        return
    command = [sys.executable, str(ROOT / "main.py")]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    text = (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Cadence\n"
        "Comment=Scheduled faceless videos from your idea sheet\n"
        f"Exec={shlex.join(command)}\n"
        f"Icon={APP_ICON}\n"
        "X-GNOME-Autostart-enabled=true\n"
        "Terminal=false\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".part")
    temp.write_text(text, encoding="utf-8")
    temp.replace(path)
