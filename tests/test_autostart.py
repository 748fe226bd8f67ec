"""Start at login on each system, tested by what it writes: the XDG entry, the macOS
LaunchAgent, the Windows Run value — for a checkout and for the packaged executable."""

from __future__ import annotations

import plistlib
import shlex
import sys
from pathlib import Path

import pytest

from app import autostart


class FakeRunKey:
    """HKEY_CURRENT_USER's Run key, as a dict."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


@pytest.fixture
def packaged(monkeypatch: pytest.MonkeyPatch) -> str:
    """As if running the PyInstaller build from a folder with a space in its name."""
    exe = "/opt/My Apps/Cadence/Cadence"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", exe)
    return exe


def test_the_command_is_the_packaged_executable_or_this_checkout(
    packaged: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert autostart.command(Path("/data")) == [packaged, "--data-dir", "/data"]
    monkeypatch.setattr(sys, "frozen", False)
    assert autostart.command()[1].endswith("main.py")


def test_linux_writes_an_xdg_autostart_entry(tmp_path: Path, packaged: str) -> None:
    way = autostart.LinuxAutostart(tmp_path)
    assert not way.enabled()
    way.enable(autostart.command(tmp_path / "data"))
    entry = (tmp_path / "autostart" / "cadence.desktop").read_text()
    assert entry.startswith("[Desktop Entry]\nType=Application\nName=Cadence\n")
    exec_line = next(line for line in entry.splitlines() if line.startswith("Exec="))
    assert shlex.split(exec_line.removeprefix("Exec=")) == [
        packaged, "--data-dir", str(tmp_path / "data"),
    ]  # fmt: skip
    assert "Icon=cadence\n" in entry  # the icon the package installs in the icon theme
    assert way.enabled()
    way.disable()
    assert not way.enabled() and not list((tmp_path / "autostart").iterdir())


def test_macos_writes_a_launch_agent(tmp_path: Path, packaged: str) -> None:
    way = autostart.MacAutostart(tmp_path)
    way.enable(autostart.command())
    path = tmp_path / "Library" / "LaunchAgents" / "app.cadence.studio.plist"
    agent = plistlib.loads(path.read_bytes())
    assert agent == {
        "Label": "app.cadence.studio",
        "ProgramArguments": [packaged],
        "RunAtLoad": True,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    }
    assert way.enabled()
    way.disable()
    assert not path.exists() and not way.enabled()


def test_windows_writes_a_run_value_quoted_the_windows_way(packaged: str) -> None:
    key = FakeRunKey()
    way = autostart.WindowsAutostart(key)
    way.enable([r"C:\Program Files\Cadence\Cadence.exe", "--data-dir", r"D:\My Videos"])
    assert key.values == {
        "Cadence": r'"C:\Program Files\Cadence\Cadence.exe" --data-dir "D:\My Videos"'
    }
    assert way.enabled()
    way.disable()
    assert key.values == {} and not way.enabled()


def test_each_system_gets_its_own_way() -> None:
    assert isinstance(autostart.for_platform("linux"), autostart.LinuxAutostart)
    assert isinstance(autostart.for_platform("darwin"), autostart.MacAutostart)
    assert isinstance(autostart.for_platform("win32"), autostart.WindowsAutostart)
    assert autostart.for_platform("sunos5") is None
