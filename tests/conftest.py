"""Shared fixtures. Qt runs offscreen; tests that use qtbot are marked `gui` automatically."""

from __future__ import annotations

import csv
import gc
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.fake_chat import chat_server  # noqa: F401 - a fixture for every test module

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never touch the developer's real keyring: secrets go to the per-test fallback file
# (this process and every subprocess). Tests that need a keyring install their own.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
# Nor the internet: the pictures that need no key are asked of a port where nothing listens
# (refused at once, as a network that is down), unless a test serves its own fake of them.
for _provider in ("OPENVERSE", "COMMONS", "NASA", "TIKTOK", "META"):
    os.environ[f"CADENCE_{_provider}_ENDPOINT"] = "http://127.0.0.1:9"

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "resources" / "demo" / "ideas.csv"
HEADER = [
    "idea_title",
    "description",
    "target_audience",
    "tone",
    "duration_seconds",
    "platform_preferences",
    "script_content",
    "voice_preference",
    "style_override",
    "priority",
]


@pytest.fixture(autouse=True)
def _collect_qt_objects(request: pytest.FixtureRequest) -> Iterator[None]:
    """Qt objects of a GUI test die at its end, not inside a later test's event loop (a model
    collected there, with Qt's model tester attached, crashed the later test)."""
    yield
    if "qtbot" in request.fixturenames:
        gc.collect()


_EXIT_STATUS: list[int] = []


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Every result is reported by now: leave without Python's interpreter teardown, where
    PySide's clean-up of Qt objects left by hundreds of GUI tests can crash (seen once, after
    all tests had passed, as "shared QObject was deleted directly" and a segfault). The exit
    status stays pytest's own."""
    if _EXIT_STATUS and "PySide6.QtCore" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "qtbot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.gui)
    # A closed qasync loop leaves Qt state behind that crashes a later test's own Qt event
    # loop (seen as a segfault in qtbot.waitUntil): tests that run one go last. The
    # PyInstaller build (two minutes) goes first, so that with several test processes
    # (`pytest -n 2`) the others run beside it instead of after it.
    items.sort(
        key=lambda item: (
            item.get_closest_marker("qasync") is not None,
            item.get_closest_marker("package") is None,
        )
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write rows to a CSV file and return its path."""

    def write(rows: Sequence[Sequence[object]], name: str = "ideas.csv", **fmt: str) -> Path:
        path = tmp_path / name
        with path.open("w", newline="", encoding=fmt.pop("encoding", "utf-8")) as fh:
            csv.writer(fh, **fmt).writerows(rows)  # type: ignore[arg-type]
        return path

    return write


def full_row(**overrides: object) -> list[object]:
    """A row valid at every level, in HEADER order, with some fields replaced."""
    values: dict[str, object] = {
        "idea_title": "Why the sky is blue",
        "description": "Rayleigh scattering in a minute.",
        "target_audience": "Teens",
        "tone": "Friendly",
        "duration_seconds": 10,  # about as long as the script says it
        "platform_preferences": "youtube",
        "script_content": "The sky is blue. Here is why.",
        "voice_preference": "female",
        "style_override": "modern",
        "priority": "high",
    }
    values.update(overrides)
    return [values[h] for h in HEADER]


@pytest.fixture
def run_cli(data_dir: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python main.py`` in a subprocess against the test's own data dir."""

    def run(*args: str, data: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
        env.pop("CADENCE_DATA_DIR", None)
        return subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data or data_dir), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    return run


@pytest.fixture
def google(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The loopback Google (Sheets, OAuth, YouTube), with Cadence pointed at it."""
    from tests.fake_google import serve

    with serve() as fake:
        monkeypatch.setenv("CADENCE_GOOGLE_ENDPOINT", fake.base_url)
        yield fake


@pytest.fixture
def tiktok(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The loopback TikTok (Login Kit, Content Posting API), with Cadence pointed at it."""
    from tests.fake_tiktok import TikTok, handler_for
    from tests.loopback import running

    fake = TikTok()
    with running(handler_for(fake)) as server:
        fake.base = f"http://127.0.0.1:{server.server_port}"
        monkeypatch.setenv("CADENCE_TIKTOK_ENDPOINT", fake.base)
        yield fake


@pytest.fixture
def meta(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The loopback Meta Graph API (Facebook Login, Instagram, Pages), with Cadence on it."""
    from tests.fake_meta import Meta, handler_for
    from tests.loopback import running

    fake = Meta()
    with running(handler_for(fake)) as server:
        fake.base = f"http://127.0.0.1:{server.server_port}"
        monkeypatch.setenv("CADENCE_META_ENDPOINT", fake.base)
        yield fake


@pytest.fixture
def workspace(data_dir: Path) -> Iterator[Any]:
    from contextlib import closing

    from app.paths import AppPaths
    from app.services import Services

    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        yield ws


def desktop_client(folder: Path) -> Path:
    """An OAuth desktop-client file, as Google Cloud console downloads it."""
    import json

    path = folder / "client.json"
    path.write_text(
        json.dumps(
            {
                "installed": {
                    "client_id": "cid.apps.googleusercontent.com",
                    "client_secret": "csecret",
                    "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                    "token_uri": "https://oauth2.googleapis.com/token",
                    "redirect_uris": ["http://localhost"],
                }
            }
        )
    )
    return path


class FakeClock:
    """Time that passes only when someone sleeps: rate limiters and retries without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class DesktopOpener:
    """A stand-in ``xdg-open`` first on PATH: records what it was asked to open and exits
    with ``code`` (xdg-open's 3 is "no application found for this file")."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.log = folder / "opened.txt"
        self.code = 0
        self._write()

    def _write(self) -> None:
        script = self.folder / "xdg-open"
        script.write_text(f'#!/bin/sh\necho "$1" >> "{self.log}"\nexit {self.code}\n')
        script.chmod(0o755)

    def fails(self, code: int = 3) -> None:
        self.code = code
        self._write()

    @property
    def opened(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def desktop_opener(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DesktopOpener:
    folder = tmp_path / "desktop-bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    return DesktopOpener(folder)
