"""Settings: typed, validated, stored; secrets in the keyring (or a private file), never shown."""

from __future__ import annotations

import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend

from app.paths import MUSIC_DIR, AppPaths
from app.render_config import render_settings
from app.secrets import SecretStore
from app.services import Services
from app.settings import SettingError

Run = Callable[..., subprocess.CompletedProcess[str]]


class MemoryKeyring(KeyringBackend):
    priority = -1  # type: ignore[assignment]  # never chosen automatically; installed by hand

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.data.pop((service, username), None)


@pytest.fixture
def workspace(data_dir: Path) -> Iterator[Services]:
    ws = Services(AppPaths.resolve(data_dir))
    yield ws
    ws.close()


def test_values_are_typed_checked_and_kept(workspace: Services, data_dir: Path) -> None:
    settings = workspace.settings
    assert settings.get("speech.rate") == 165
    assert settings.set("speech.rate", "180") == 180
    assert settings.set("render.word_highlight", "yes") is True
    for key, text, says in [
        ("speech.rate", "fast", "whole number"), ("speech.rate", "1000", "from 80 to 400"),
        ("speech.engine", "festival", "one of auto, hibari, piper, espeak, pyttsx3"),
        ("llm.endpoint", "ftp://x", "http:// or https://"),
        ("render.assets_dir", str(data_dir / "missing"), "does not exist"),
        ("no.such", "1", "there is no setting"),
    ]:  # fmt: skip
        with pytest.raises(SettingError, match=says):
            settings.set(key, text)
    workspace.close()
    again = Services(AppPaths.resolve(data_dir))
    assert again.settings.get("speech.rate") == 180
    again.settings.unset("speech.rate")
    assert again.settings.get("speech.rate") == 165
    again.close()


def test_secrets_go_to_the_keyring_when_there_is_one(workspace: Services) -> None:
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        workspace.settings.set("llm.api_key", "sk-abc")
        assert memory.data == {("Cadence", "llm.api_key"): "sk-abc"}
        assert workspace.settings.get("llm.api_key") == "sk-abc"
        assert workspace.settings.shown("llm.api_key") == "••••••••"
        assert not workspace.paths.secrets_file.exists()
        workspace.settings.unset("llm.api_key")
        assert memory.data == {}
    finally:
        keyring.set_keyring(previous)


def test_without_a_keyring_secrets_go_to_a_private_file(tmp_path: Path) -> None:
    import keyring.backends.fail

    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        store = SecretStore(tmp_path / "config" / "secrets.json")
        store.set("llm.api_key", "sk-file")
        assert store.get("llm.api_key") == "sk-file"
        mode = stat.S_IMODE(store.fallback_file.stat().st_mode)
        assert mode == 0o600
        assert "readable by you only" in store.where
    finally:
        keyring.set_keyring(previous)


def test_settings_feed_the_render(workspace: Services, tmp_path: Path) -> None:
    settings = workspace.settings
    built = render_settings(settings, workspace.paths)
    assert built.visuals.music_dir == MUSIC_DIR and built.llm is None
    assert built.speech.rate_wpm == 165 and built.default_style == "modern"
    settings.set("llm.endpoint", "http://127.0.0.1:11434/v1")
    settings.set("llm.model", "llama3")
    settings.set("render.music", "off")
    settings.set("render.style", "classic")
    (tmp_path / "assets").mkdir()
    built = render_settings(settings, workspace.paths, assets_dir=tmp_path / "assets")
    assert built.llm is not None and built.llm.model == "llama3"
    assert built.visuals.music_dir is None and built.visuals.assets_dir == tmp_path / "assets"
    assert built.default_style == "classic"


def test_cli_never_echoes_a_secret(run_cli: Run, data_dir: Path) -> None:
    refused = run_cli("--verbose", "settings", "set", "llm.api_key", "sk-on-the-command-line")
    assert refused.returncode == 2 and "shell history" in refused.stderr
    typed = subprocess.run(
        [*_main(), "--data-dir", str(data_dir), "settings", "set", "llm.api_key", "-"],
        input="sk-typed\n", capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert typed.returncode == 0 and "sk-typed" not in typed.stdout
    listing = run_cli("settings", "list")
    assert "llm.api_key" in listing.stdout and "sk-" not in listing.stdout
    log = (data_dir / "logs" / "cadence.log").read_text()
    assert "sk-" not in log


def _main() -> list[str]:
    import sys

    from tests.conftest import ROOT

    return [sys.executable, str(ROOT / "main.py")]


def test_a_broken_template_spoils_only_its_own_style(tmp_path: Path) -> None:
    from app.pipeline.errors import RenderError
    from app.pipeline.styles import pick_style

    (tmp_path / "broken.yaml").write_text("base: modern\ntext: [not, a, colour\n")
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "mine.yaml").write_text("base: minimal\naccent: '#ff8800'\n")
    assert pick_style("modern", tmp_path).name == "modern"  # unaffected by the broken ones
    assert pick_style("mine", tmp_path).name == "mine"
    with pytest.raises(RenderError, match=r"broken.yaml is not valid YAML at line 3"):
        pick_style("broken", tmp_path)
    with pytest.raises(RenderError, match=r"binary.yaml is not UTF-8 text"):
        pick_style("binary", tmp_path)


def test_style_and_output_folder_settings_are_checked(
    run_cli: Callable[..., Any], data_dir: Path, tmp_path: Path
) -> None:
    bad = run_cli("settings", "set", "render.style", "neon")
    assert bad.returncode == 2 and "'neon' is not a style — use one of modern" in bad.stderr
    assert run_cli("settings", "set", "render.style", "minimal").returncode == 0
    (tmp_path / "a-file").write_text("x")
    refused = run_cli("settings", "set", "output.folder", "/proc")
    assert refused.returncode == 2 and "videos cannot be written to /proc" in refused.stderr


def test_typed_reads_follow_the_options_kind(workspace: Services) -> None:
    settings = workspace.settings
    assert settings.integer("engine.max_concurrent") == 1  # the default, as an int
    settings.set("engine.max_concurrent", "3")
    assert settings.integer("engine.max_concurrent") == 3
    assert settings.flag("google.write_back") is False
    settings.set("google.write_back", "true")
    assert settings.flag("google.write_back") is True
    assert settings.text("llm.model") == ""  # unset text reads as ""
    assert settings.number("engine.max_concurrent") == 3.0
    with pytest.raises(TypeError, match=r"llm\.model is a text option, not int"):
        settings.integer("llm.model")


def test_every_setting_is_in_the_users_guide_with_its_default() -> None:
    """docs/guide/settings.md's table: one row per setting, its default as the code has it."""
    from app.settings import OPTIONS

    guide = (Path(__file__).parent.parent / "docs" / "guide" / "settings.md").read_text()
    rows = {
        line.split("|")[1].strip(): line for line in guide.splitlines() if line.startswith("| `")
    }
    for opt in OPTIONS:
        row = next((line for keys, line in rows.items() if f"`{opt.key}`" in keys), None)
        assert row is not None, f"{opt.key} is not in docs/guide/settings.md"
        said = row.split("|")[2].strip().lower()
        if "," in row.split("|")[1] or (opt.default in ("", None) and said.startswith("(")):
            continue  # a row of several settings, or an empty default said in words
        assert said == str(opt.default).lower(), (opt.key, row)
