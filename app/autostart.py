"""Start Cadence at login: an XDG autostart entry on Linux, a LaunchAgent on macOS, a
Registry ``Run`` value on Windows — each pointing at what runs Cadence here (the packaged
executable, or this Python with this checkout's ``main.py``)."""

from __future__ import annotations

import importlib
import os
import plistlib
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Protocol

from app import APP_NAME
from app.paths import APP_ICON

ROOT = Path(__file__).resolve().parent.parent
LAUNCH_AGENT = "app.cadence.studio"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


def frozen() -> bool:
    """Whether this is the packaged app (PyInstaller sets ``sys.frozen``)."""
    return bool(getattr(sys, "frozen", False))


def command(data_dir: Path | None = None) -> list[str]:
    """What starts Cadence: the packaged executable, or this Python with ``main.py``."""
    argv = [sys.executable] if frozen() else [sys.executable, str(ROOT / "main.py")]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    return argv


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".part")
    temp.write_bytes(data)
    temp.replace(path)


class Autostart(Protocol):
    def enabled(self) -> bool: ...
    def enable(self, argv: list[str]) -> None: ...
    def disable(self) -> None: ...


class LinuxAutostart:
    """``~/.config/autostart/cadence.desktop`` (the XDG autostart specification)."""

    def __init__(self, config_home: Path | None = None) -> None:
        config = config_home or Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        self.path = config / "autostart" / "cadence.desktop"

    def enabled(self) -> bool:
        return self.path.exists()

    def enable(self, argv: list[str]) -> None:
        icon = "cadence" if frozen() else str(APP_ICON)  # the packaged app installs its icon
        text = (
            "[Desktop Entry]\n"
            "Type=Application\n"
            f"Name={APP_NAME}\n"
            "Comment=Scheduled faceless videos from your idea sheet\n"
            f"Exec={shlex.join(argv)}\n"
            f"Icon={icon}\n"
            "X-GNOME-Autostart-enabled=true\n"
            "Terminal=false\n"
        )
        _write(self.path, text.encode())

    def disable(self) -> None:
        self.path.unlink(missing_ok=True)


class MacAutostart:
    """``~/Library/LaunchAgents/app.cadence.studio.plist``, loaded by launchd at login."""

    def __init__(self, home: Path | None = None) -> None:
        self.path = (home or Path.home()) / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT}.plist"

    def enabled(self) -> bool:
        return self.path.exists()

    def enable(self, argv: list[str]) -> None:
        agent = {
            "Label": LAUNCH_AGENT,
            "ProgramArguments": argv,
            "RunAtLoad": True,
            "ProcessType": "Interactive",
            "LimitLoadToSessionType": "Aqua",  # the logged-in desktop, not an SSH session
        }
        _write(self.path, plistlib.dumps(agent))

    def disable(self) -> None:
        self.path.unlink(missing_ok=True)


class Registry(Protocol):
    """The few registry calls start-at-login needs, on HKEY_CURRENT_USER's Run key."""

    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> None: ...


def _winreg() -> Any:
    """The winreg module (it exists on Windows only; typed loosely so this file checks on
    every system)."""
    return importlib.import_module("winreg")


class WindowsRunKey:
    """HKEY_CURRENT_USER\\...\\Run through winreg (Windows only)."""

    def get(self, name: str) -> str | None:
        winreg = _winreg()

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                value, _kind = winreg.QueryValueEx(key, name)
        except OSError:
            return None
        return str(value)

    def set(self, name: str, value: str) -> None:
        winreg = _winreg()

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            winreg.SetValueEx(key, name, 0, winreg.REG_SZ, value)

    def delete(self, name: str) -> None:
        winreg = _winreg()

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, name)
        except OSError:
            pass


class WindowsAutostart:
    """A ``Cadence`` value under the current user's Run key: the command line to start."""

    def __init__(self, registry: Registry | None = None) -> None:
        self.registry = registry or WindowsRunKey()

    def enabled(self) -> bool:
        return self.registry.get(APP_NAME) is not None

    def enable(self, argv: list[str]) -> None:
        self.registry.set(APP_NAME, subprocess.list2cmdline(argv))  # Windows quoting

    def disable(self) -> None:
        self.registry.delete(APP_NAME)


def for_platform(platform: str | None = None) -> Autostart | None:
    """This system's way to start at login (None where Cadence knows none)."""
    name = platform or sys.platform
    if name.startswith("linux"):
        return LinuxAutostart()
    if name == "darwin":
        return MacAutostart()
    if name == "win32":
        return WindowsAutostart()
    return None


def supported() -> bool:
    return for_platform() is not None


def enabled() -> bool:
    way = for_platform()
    return way is not None and way.enabled()


def set_enabled(on: bool, data_dir: Path | None = None) -> None:
    """Start Cadence at login, or not."""
    way = for_platform()
    if way is None:
        return
    if on:
        way.enable([*command(data_dir), "--tray"])  # at login: quietly, in the tray
    else:
        way.disable()
