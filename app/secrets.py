"""Secrets (API keys, tokens) in the OS keyring; a user-only file where no keyring exists.

Values never go to logs or messages: callers show `masked` instead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keyring loads with the first secret used, not to open the window
    from types import ModuleType

log = logging.getLogger(__name__)
SERVICE = "Cadence"


def masked(value: str | None) -> str:
    return "(not set)" if not value else "•" * 8


def _keyring() -> ModuleType:
    import keyring
    import keyring.backends.fail  # the "no keyring" backend it is compared against

    return keyring


def _keyring_error() -> type[Exception]:
    from keyring.errors import KeyringError

    return KeyringError


class SecretStore:
    def __init__(self, fallback_file: Path) -> None:
        self.fallback_file = fallback_file

    @property
    def uses_keyring(self) -> bool:
        keyring = _keyring()
        return not isinstance(keyring.get_keyring(), keyring.backends.fail.Keyring)

    @property
    def where(self) -> str:
        if self.uses_keyring:
            return f"the system keyring ({type(_keyring().get_keyring()).__name__})"
        return f"{self.fallback_file} (readable by you only; no system keyring was found)"

    def get(self, name: str) -> str | None:
        if self.uses_keyring:
            try:
                return _keyring().get_password(SERVICE, name)
            except _keyring_error() as exc:
                log.warning("keyring unavailable (%s); using the fallback file", type(exc).__name__)
        return self._read().get(name)

    def set(self, name: str, value: str) -> None:
        if self.uses_keyring:
            try:
                _keyring().set_password(SERVICE, name, value)
                return
            except _keyring_error() as exc:
                log.warning("keyring unavailable (%s); using the fallback file", type(exc).__name__)
        data = self._read()
        data[name] = value
        self._write(data)

    def delete(self, name: str) -> None:
        if self.uses_keyring:
            with contextlib.suppress(_keyring_error()):
                _keyring().delete_password(SERVICE, name)
        data = self._read()
        if data.pop(name, None) is not None:
            self._write(data)

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.fallback_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write(self, data: dict[str, str]) -> None:
        self.fallback_file.parent.mkdir(parents=True, exist_ok=True)
        temp = self.fallback_file.with_name(self.fallback_file.name + ".part")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        temp.chmod(0o600)
        temp.replace(self.fallback_file)
