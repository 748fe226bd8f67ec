"""The packaged app: `bash packaging/build.sh` builds the Linux tarball, and the *built
executable* — not Python — answers --version, validates the bundled demo sheet, renders one
row to a valid MP4 in a child process, and opens its window (offscreen) and quits cleanly on
SIGTERM. That proves nothing Cadence needs was left out of the bundle."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from app import __version__
from app.pipeline.probe import probe_mp4
from tests.conftest import ROOT

pytestmark = pytest.mark.package


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package")
    env = {**os.environ, "CADENCE_BUILD_DIR": str(out / "work")}  # all of it in a temporary folder
    done = subprocess.run(
        ["bash", str(ROOT / "packaging" / "build.sh"), str(out)],
        capture_output=True, text=True, timeout=600, check=False, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    [tarball] = out.glob("cadence-*-linux-*.tar.gz")
    with tarfile.open(tarball) as archive:
        archive.extractall(out / "unpacked", filter="tar")
    [folder] = (out / "unpacked").iterdir()
    assert (folder / "install.sh").exists() and (folder / "cadence.desktop.in").exists()
    sizes = {p.parent.parent.name for p in (folder / "icons").rglob("cadence.png")}
    assert {"16x16", "32x32", "48x48", "128x128", "256x256", "512x512"} <= sizes
    return folder / "Cadence" / "Cadence"


def run(
    exe: Path, *args: str, data: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(exe), "--data-dir", str(data), *args],
        capture_output=True, text=True, timeout=timeout, check=False, env=env, cwd=exe.parent,
    )  # fmt: skip


def test_the_built_executable_answers_validates_and_renders(built: Path, tmp_path: Path) -> None:
    version = run(built, "--version", data=tmp_path / "data")
    assert version.returncode == 0 and version.stdout.strip() == f"Cadence {__version__}"
    demo = built.parent / "_internal" / "resources" / "demo" / "ideas.csv"
    checked = run(built, "validate", str(demo), data=tmp_path / "data")
    assert checked.returncode == 0, checked.stderr
    assert "8 valid, 0 invalid." in checked.stdout
    if not (shutil.which("espeak-ng") or shutil.which("espeak")):
        pytest.skip("espeak-ng is not installed here: narration cannot be rendered")
    rendered = run(
        built, "render", str(demo), "--rows", "2", "--resolution", "720p", "--out",
        str(tmp_path / "videos"), data=tmp_path / "data", timeout=300,
    )  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr
    [video] = (tmp_path / "videos").glob("*.mp4")
    info = probe_mp4(video)
    assert info.duration > 5 and info.track("vide").height == 720
    assert info.track("soun").codec == "mp4a"
    assert "Traceback" not in rendered.stderr


def test_the_built_window_opens_and_quits_on_sigterm(built: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    started = time.monotonic()
    app = subprocess.Popen(
        [str(built), "--data-dir", str(data)], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        log = data / "logs" / "cadence.log"
        while not (log.exists() and "window opened" in log.read_text()):
            assert app.poll() is None, app.communicate()
            assert time.monotonic() - started < 60, "the window never opened"
            time.sleep(0.1)
        time.sleep(2)  # the engine and the demo workspace start
        app.send_signal(signal.SIGTERM)
        _out, err = app.communicate(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, err
    assert "Traceback" not in err and "Fatal Python error" not in err
    assert log.read_text().rstrip().endswith("stopped")
