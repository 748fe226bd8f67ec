"""The set-up script, on simulated Debian machines (fake dpkg/apt on PATH), and CI's command."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import ROOT

SCRIPT = ROOT / "packaging" / "setup.sh"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = "bash packaging/setup.sh test"
    assert command in readme and "bash packaging/setup.sh run" in readme
    assert [line for line in ci.splitlines() if "setup.sh" in line] == [command]


DPKG_QUERY = """
for p in $INSTALLED; do
  if [ "$p" = "${@: -1}" ]; then printf 'install ok installed'; exit 0; fi
done
exit 1
"""
APT_CACHE = """
for p in $AVAILABLE; do
  if [ "$p" = "$2" ]; then printf '%s:\\n  Candidate: 1.0\\n' "$2"; exit 0; fi
done
printf '%s:\\n  Candidate: (none)\\n' "$2"
"""


def fake_machine(
    tmp_path: Path, *, uid: int, installed: set[str], available: set[str]
) -> dict[str, str]:
    """A PATH whose dpkg-query, apt-cache, apt-get and id answer like a Debian box would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {
        "dpkg-query": DPKG_QUERY,
        "apt-cache": APT_CACHE,
        "apt-get": f'echo "$*" >> {tmp_path / "apt.log"}',
        "id": f"echo {uid}",
        "sudo": "exit 1",
    }
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text(f"#!/bin/bash\n{body}\n")
        path.chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "INSTALLED": " ".join(sorted(installed)),
        "AVAILABLE": " ".join(sorted(available)),
    }


ALL = {
    "libegl1",
    "libgl1",
    "libfontconfig1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "libdbus-1-3",
    "libglib2.0-0",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-xinerama0",
    "libxcb-xkb1",
    "espeak-ng",
}


def run_system(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), "system"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_nothing_is_installed_when_nothing_is_missing(tmp_path: Path) -> None:
    result = run_system(fake_machine(tmp_path, uid=0, installed=ALL, available=ALL))
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "apt.log").exists()


def test_root_installs_only_what_is_missing_choosing_an_available_alternative(
    tmp_path: Path,
) -> None:
    installed = ALL - {"espeak-ng", "libxcb-cursor0", "libglib2.0-0"}
    available = ALL | {"libglib2.0-0t64"}
    result = run_system(fake_machine(tmp_path, uid=0, installed=installed, available=available))
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "apt.log").read_text().splitlines()
    assert calls[0] == "update -qq"
    assert calls[1].startswith("install -y") and calls[1].split()[-3:] == [
        "libglib2.0-0t64",
        "libxcb-cursor0",
        "espeak-ng",
    ]


def test_without_root_the_missing_packages_are_named(tmp_path: Path) -> None:
    installed = ALL - {"espeak-ng", "libxcb-cursor0"}
    result = run_system(fake_machine(tmp_path, uid=1000, installed=installed, available=ALL))
    assert result.returncode == 1
    assert "sudo apt-get install libxcb-cursor0 espeak-ng" in result.stderr
    assert not (tmp_path / "apt.log").exists()


def test_a_package_the_sources_lack_is_reported(tmp_path: Path) -> None:
    result = run_system(
        fake_machine(tmp_path, uid=0, installed=ALL - {"espeak-ng"}, available=ALL - {"espeak-ng"})
    )
    assert result.returncode == 1 and "espeak-ng" in result.stderr
    assert "not available" in result.stderr
