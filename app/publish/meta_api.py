"""Meta's Graph API as Cadence uses it: Facebook Login (the desktop's loopback redirect),
long-lived tokens, the user's Pages and the Instagram professional accounts linked to them;
Instagram Reels (a container, the resumable upload to rupload.facebook.com, its status,
``media_publish``, the publishing limit) and Facebook Reels on a Page (start, upload, finish).

``CADENCE_META_ENDPOINT`` moves every Meta host (graph.facebook.com, rupload.facebook.com,
www.facebook.com …) to one base address; upload addresses Meta hands back are used as given.
Errors become `MetaError` with a kind the caller acts on; tokens never appear in them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

from app.domain.meta import SCOPES

VERSION = "v21.0"
GRAPH_HOST = "https://graph.facebook.com"
DIALOG_HOST = "https://www.facebook.com"
ENV = "CADENCE_META_ENDPOINT"
TIMEOUT = (10, 300)
RATE_CODES = {4, 17, 32, 613}


class MetaError(Exception):
    """kind: auth | rate | daily_cap | transient | fatal."""

    def __init__(self, kind: str, message: str, code: int = 0, subcode: int = 0) -> None:
        super().__init__(message)
        self.kind, self.code, self.subcode = kind, code, subcode


def host(name: str) -> str:
    base = os.environ.get(ENV, "").strip().rstrip("/")
    return base or name


def graph(path: str) -> str:
    return f"{host(GRAPH_HOST)}/{VERSION}/{path.lstrip('/')}"


def consent_url(app_id: str, redirect_uri: str, state: str) -> str:
    query = {
        "client_id": app_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "response_type": "code",
        "scope": ",".join(SCOPES),
    }
    return f"{host(DIALOG_HOST)}/{VERSION}/dialog/oauth?{urlencode(query)}"


def _answer(response: requests.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if response.ok and not error:
        return body
    error = error if isinstance(error, dict) else {}
    code, subcode = int(error.get("code") or 0), int(error.get("error_subcode") or 0)
    message = str(error.get("error_user_msg") or error.get("message") or response.status_code)
    if code == 190 or response.status_code == 401:
        kind = "auth"
    elif code in RATE_CODES or 80001 <= code <= 80014 or response.status_code == 429:
        kind = "rate"
    elif code == 9 and subcode == 2207042:
        kind = "daily_cap"  # Instagram: the account's publishing limit is reached
    elif error.get("is_transient") or code in (1, 2) or response.status_code >= 500:
        kind = "transient"
    else:
        kind = "fatal"
    raise MetaError(kind, f"Meta said: {message}", code, subcode)


def _call(method: str, url: str, **kwargs: Any) -> Any:
    try:
        response = requests.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        raise MetaError("transient", f"Meta could not be reached ({type(exc).__name__})") from None
    return _answer(response)


def exchange_code(app_id: str, secret: str, code: str, redirect_uri: str) -> str:
    body = _call(
        "GET",
        graph("oauth/access_token"),
        params={"client_id": app_id, "client_secret": secret, "code": code,
                "redirect_uri": redirect_uri},
    )  # fmt: skip
    return str(body["access_token"])


def long_lived(app_id: str, secret: str, token: str) -> tuple[str, int]:
    """A long-lived user token (about 60 days) for a short-lived one — or for a long-lived
    one at least a day old, which is how it is kept fresh."""
    body = _call(
        "GET",
        graph("oauth/access_token"),
        params={"grant_type": "fb_exchange_token", "client_id": app_id,
                "client_secret": secret, "fb_exchange_token": token},
    )  # fmt: skip
    return str(body["access_token"]), int(body.get("expires_in") or 60 * 86400)


@dataclass(frozen=True, slots=True)
class Page:
    id: str
    name: str
    token: str
    instagram_id: str
    instagram_username: str


class Graph:
    """Calls with one access token (a user's or a Page's)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get(self, path: str, **params: Any) -> Any:
        return _call("GET", graph(path), params={**params, "access_token": self.token})

    def post(self, path: str, **params: Any) -> Any:
        return _call("POST", graph(path), data={**params, "access_token": self.token})

    def me(self) -> dict[str, Any]:
        return dict(self.get("me", fields="id,name"))

    def pages(self) -> list[Page]:
        body = self.get(
            "me/accounts",
            fields="id,name,access_token,instagram_business_account{id,username}",
        )
        found = []
        for page in body.get("data") or []:
            linked = page.get("instagram_business_account") or {}
            found.append(
                Page(str(page["id"]), str(page.get("name") or ""), str(page["access_token"]),
                     str(linked.get("id") or ""), str(linked.get("username") or ""))
            )  # fmt: skip
        return found

    # Uploads to rupload.facebook.com

    def upload(self, url: str, path: Path, offset: int) -> None:
        """The file from ``offset`` to its end, in one request (Meta's resumable upload)."""
        size = path.stat().st_size
        with path.open("rb") as file:
            file.seek(offset)
            data = file.read()
        headers = {
            "Authorization": f"OAuth {self.token}",
            "offset": str(offset),
            "file_size": str(size),
            "Content-Type": "application/octet-stream",
        }
        body = _call("POST", url, data=data, headers=headers)
        if not (isinstance(body, dict) and body.get("success")):
            raise MetaError("transient", "Meta did not confirm the upload")

    # Instagram

    def reel_container(self, ig_id: str, caption: str, share_to_feed: bool) -> tuple[str, str]:
        body = self.post(
            f"{ig_id}/media", media_type="REELS", upload_type="resumable", caption=caption,
            share_to_feed="true" if share_to_feed else "false",
        )  # fmt: skip
        return str(body["id"]), str(body["uri"])

    def container_status(self, container_id: str) -> str:
        return str(self.get(container_id, fields="status_code").get("status_code") or "")

    def media_publish(self, ig_id: str, container_id: str) -> str:
        return str(self.post(f"{ig_id}/media_publish", creation_id=container_id)["id"])

    def recent_media(self, ig_id: str) -> list[dict[str, Any]]:
        body = self.get(f"{ig_id}/media", fields="id,caption,timestamp,permalink", limit=25)
        return list(body.get("data") or [])

    def permalink(self, media_id: str) -> str:
        return str(self.get(media_id, fields="permalink").get("permalink") or "")

    def publishing_limit(self, ig_id: str) -> tuple[int, int]:
        body = self.get(f"{ig_id}/content_publishing_limit", fields="quota_usage,config")
        data = (body.get("data") or [{}])[0]
        total = int((data.get("config") or {}).get("quota_total") or 50)
        return int(data.get("quota_usage") or 0), total

    # Facebook Reels

    def reel_start(self, page_id: str) -> tuple[str, str]:
        body = self.post(f"{page_id}/video_reels", upload_phase="start")
        return str(body["video_id"]), str(body["upload_url"])

    def reel_status(self, video_id: str) -> dict[str, Any]:
        return dict(self.get(video_id, fields="status").get("status") or {})

    def reel_finish(
        self, page_id: str, video_id: str, description: str, publish_at: int | None
    ) -> None:
        params: dict[str, Any] = {
            "upload_phase": "finish",
            "video_id": video_id,
            "description": description,
            "video_state": "SCHEDULED" if publish_at else "PUBLISHED",
        }
        if publish_at:
            params["scheduled_publish_time"] = publish_at
        body = self.post(f"{page_id}/video_reels", **params)
        if not body.get("success"):
            raise MetaError("transient", "Meta did not confirm the Reel")
