"""Where Google requests go: Google itself, or an emulator/proxy named by
``CADENCE_GOOGLE_ENDPOINT`` (e.g. ``http://127.0.0.1:8089``), which then receives the same
paths (``/v4/spreadsheets/…``, ``/token``, ``/revoke``, ``/youtube/v3/…``,
``/upload/youtube/v3/…``)."""

from __future__ import annotations

import os
from typing import Any

import requests
from requests.adapters import HTTPAdapter

SHEETS_HOST = "https://sheets.googleapis.com"
OAUTH_HOST = "https://oauth2.googleapis.com"
TOKEN_URI = f"{OAUTH_HOST}/token"
REVOKE_URI = f"{OAUTH_HOST}/revoke"
YOUTUBE_HOST = "https://youtube.googleapis.com"
GOOGLEAPIS_HOST = "https://www.googleapis.com"  # older upload and API addresses
HOSTS = (SHEETS_HOST, OAUTH_HOST, YOUTUBE_HOST, GOOGLEAPIS_HOST)
ENV = "CADENCE_GOOGLE_ENDPOINT"


def override() -> str | None:
    value = os.environ.get(ENV, "").strip().rstrip("/")
    return value or None


def url(address: str) -> str:
    """``address`` on Google, moved to the override when one is set."""
    base = override()
    if base:
        for host in HOSTS:
            if address.startswith(host):
                return base + address[len(host) :]
    return address


class _Redirect(HTTPAdapter):
    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        request.url = url(request.url or "")
        return super().send(request, *args, **kwargs)


def mount(session: requests.Session) -> requests.Session:
    """Route a session's Google requests to the override, if any (a no-op otherwise)."""
    if override():
        adapter = _Redirect()
        for host in HOSTS:
            session.mount(host, adapter)
    return session
