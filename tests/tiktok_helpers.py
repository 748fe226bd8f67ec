"""Set-up for the TikTok tests: an account signed in through the fake's real Login Kit flow,
a video file TikTok would take, and one upload run as the engine runs it."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import requests

from app.services import Services
from tests.fake_tiktok import TikTok

MB = 1024 * 1024


def browser(url: str) -> bool:
    """A browser whose user consents: it follows TikTok's redirect back to Cadence."""
    threading.Thread(target=lambda: requests.get(url, timeout=30), daemon=True).start()
    return True


def sign_in_tiktok(workspace: Services, tiktok: TikTok, monkeypatch: Any, **user: Any) -> str:
    key, secret = next(iter(tiktok.apps.items())) if tiktok.apps else tiktok.app()
    found = tiktok.user(**user)
    tiktok.consenting = found.open_id
    monkeypatch.setattr("webbrowser.open", browser)
    signed = workspace.tiktok.login(key, secret, tell=lambda _s: None)
    return signed.open_id


def mp4_bytes(size: int) -> bytes:
    """Bytes that start as an MP4 file does (TikTok checks the file type)."""
    head = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
    return head + os.urandom(size - len(head))


def make_video(path: Path, size: int) -> Path:
    path.write_bytes(mp4_bytes(size))
    return path
