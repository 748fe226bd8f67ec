"""TikTok's HTTP API as Cadence uses it: Login Kit for Desktop (OAuth 2.0 with TikTok's own
PKCE), and the Content Posting API's Direct Post (creator info, init, chunked upload, status).

Every host moves to one base address with ``CADENCE_TIKTOK_ENDPOINT`` (a loopback fake in
tests); the upload address TikTok hands back is used as given. Errors become `TikTokError`
with a kind the caller acts on — tokens and secrets never appear in them.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

from app.domain.tiktok import ChunkPlan, CreatorInfo

AUTH_HOST = "https://www.tiktok.com"
API_HOST = "https://open.tiktokapis.com"
ENV = "CADENCE_TIKTOK_ENDPOINT"
SCOPES = "user.info.basic,video.publish,video.upload"
TIMEOUT = (10, 120)  # connect, read
MIME = {".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm"}

# What TikTok's error codes mean for a post (kind: how Cadence acts on it).
KINDS = {
    "access_token_invalid": "auth",
    "scope_not_authorized": "auth",
    "rate_limit_exceeded": "rate",
    "spam_risk_too_many_posts": "daily_cap",
    "reached_active_user_cap": "user_cap",
    "spam_risk_user_banned_from_posting": "fatal",
    "unaudited_client_can_only_post_to_private_accounts": "fatal",
    "privacy_level_option_mismatch": "fatal",
    "invalid_params": "fatal",
    "internal_error": "transient",
}


class TikTokError(Exception):
    """kind: auth | rate | daily_cap | user_cap | transient | fatal | gone."""

    def __init__(self, kind: str, message: str, code: str = "") -> None:
        super().__init__(message)
        self.kind, self.code = kind, code


def host(name: str) -> str:
    base = os.environ.get(ENV, "").strip().rstrip("/")
    return base or name


def pkce_pair() -> tuple[str, str]:
    """A code verifier and TikTok's desktop code challenge: the verifier's SHA-256 as
    hexadecimal (RFC 7636 says base64url; TikTok's Login Kit for Desktop says hex)."""
    verifier = secrets.token_urlsafe(48)[:64]
    return verifier, hashlib.sha256(verifier.encode("ascii")).hexdigest()


def consent_url(client_key: str, redirect_uri: str, state: str, challenge: str) -> str:
    query = {
        "client_key": client_key,
        "scope": SCOPES,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{host(AUTH_HOST)}/v2/auth/authorize/?{urlencode(query)}"


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    open_id: str
    scope: str


def _oauth(form: dict[str, str], http: requests.Session | None = None) -> Tokens:
    http = http or requests.Session()
    try:
        response = http.post(
            f"{host(API_HOST)}/v2/oauth/token/",
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:
        raise TikTokError(
            "transient", f"TikTok could not be reached ({type(exc).__name__})"
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "access_token" not in body:
        error = str(body.get("error") or response.status_code)
        said = str(body.get("error_description") or "")
        kind = "transient" if response.status_code >= 500 else "auth"
        words = f"{error}: {said}" if said else error
        raise TikTokError(kind, f"TikTok refused the sign-in ({words})")
    return Tokens(
        str(body["access_token"]),
        int(body.get("expires_in") or 0),
        str(body.get("refresh_token") or ""),
        int(body.get("refresh_expires_in") or 0),
        str(body.get("open_id") or ""),
        str(body.get("scope") or ""),
    )


def exchange_code(
    client_key: str, client_secret: str, code: str, redirect_uri: str, verifier: str
) -> Tokens:
    return _oauth(
        {
            "client_key": client_key,
            "client_secret": client_secret,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
    )


def refresh_tokens(client_key: str, client_secret: str, refresh_token: str) -> Tokens:
    """A new access token — and, as TikTok rotates it, a new refresh token to keep."""
    return _oauth(
        {
            "client_key": client_key,
            "client_secret": client_secret,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        }
    )


def revoke(client_key: str, client_secret: str, token: str) -> bool:
    try:
        response = requests.post(
            f"{host(API_HOST)}/v2/oauth/revoke/",
            data={"client_key": client_key, "client_secret": client_secret, "token": token},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=TIMEOUT,
        )
    except requests.RequestException:
        return False
    return response.status_code == 200


@dataclass(frozen=True, slots=True)
class PostStatus:
    # PROCESSING_UPLOAD | PROCESSING_DOWNLOAD | SEND_TO_USER_INBOX | PUBLISH_COMPLETE | FAILED
    status: str
    uploaded_bytes: int
    fail_reason: str
    post_ids: tuple[str, ...]


class TikTokAPI:
    """One account's Direct Post calls, with its access token."""

    def __init__(self, access_token: str, http: requests.Session | None = None) -> None:
        self.token = access_token
        self.http = http or requests.Session()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self.http.post(
                f"{host(API_HOST)}{path}",
                json=body,
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/json; charset=UTF-8",
                },
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise TikTokError(
                "transient", f"TikTok could not be reached ({type(exc).__name__})"
            ) from None
        return _answer(response)

    def creator_info(self) -> CreatorInfo:
        return CreatorInfo.from_api(self._post("/v2/post/publish/creator_info/query/", {}))

    def init_post(self, post_info: dict[str, Any], plan: ChunkPlan) -> tuple[str, str]:
        """A Direct Post begun: (publish_id, upload_url)."""
        data = self._post(
            "/v2/post/publish/video/init/",
            {
                "post_info": post_info,
                "source_info": {
                    "source": "FILE_UPLOAD",
                    "video_size": plan.size,
                    "chunk_size": plan.chunk_size,
                    "total_chunk_count": plan.count,
                },
            },
        )
        return str(data["publish_id"]), str(data["upload_url"])

    def status(self, publish_id: str) -> PostStatus:
        data = self._post("/v2/post/publish/status/fetch/", {"publish_id": publish_id})
        return PostStatus(
            str(data.get("status") or ""),
            int(data.get("uploaded_bytes") or 0),
            str(data.get("fail_reason") or ""),
            tuple(str(i) for i in data.get("publicaly_available_post_id") or ()),
        )

    def put_chunk(self, upload_url: str, path: Path, plan: ChunkPlan, index: int) -> bool:
        """Chunk ``index`` of the file sent; True when TikTok has the whole video (201)."""
        start, length = plan.span(index)
        with path.open("rb") as file:
            file.seek(start)
            data = file.read(length)
        headers = {
            "Content-Type": MIME.get(path.suffix.lower(), "video/mp4"),
            "Content-Length": str(len(data)),
            "Content-Range": f"bytes {start}-{start + len(data) - 1}/{plan.size}",
        }
        try:
            response = self.http.put(upload_url, data=data, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise TikTokError(
                "transient", f"the upload to TikTok was cut off ({type(exc).__name__})"
            ) from None
        if response.status_code in (200, 201):
            return True
        if response.status_code == 206:
            return False
        if response.status_code in (404, 410):
            raise TikTokError("gone", "TikTok's upload address expired")
        if response.status_code >= 500 or response.status_code == 429:
            raise TikTokError("transient", f"TikTok answered {response.status_code} to a chunk")
        if response.status_code == 416:
            raise TikTokError("transient", "TikTok expected another chunk; asking where it stands")
        raise TikTokError("fatal", f"TikTok refused the upload ({response.status_code})")


def _answer(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    code = str((error or {}).get("code") or "")
    if response.status_code == 200 and code in ("", "ok"):
        data = body.get("data")
        return data if isinstance(data, dict) else {}
    message = str((error or {}).get("message") or f"HTTP {response.status_code}")
    kind = KINDS.get(code) or ("transient" if response.status_code >= 500 else "fatal")
    if response.status_code == 429:
        kind = "rate"
    return _raise(kind, code or str(response.status_code), message)


def _raise(kind: str, code: str, message: str) -> Any:
    raise TikTokError(kind, f"TikTok said {code}: {message}", code)
