"""Meta's Graph API on loopback: Facebook Login, Pages with their linked Instagram professional
accounts, Instagram Reels containers with the resumable upload, their status and
``media_publish``, the content publishing limit, and Facebook Reels (start, upload, finish).

Written from Meta's documentation and as strict as it reads: the login dialog checks the app,
a loopback redirect URI with a port, ``response_type=code``, a ``state`` and the scopes; codes
are used once and only with the same redirect URI; graph calls need a valid ``access_token``
(user tokens for ``me``, the Page's token for its Page and Instagram account); uploads to
rupload need ``Authorization: OAuth``, ``offset`` and ``file_size`` headers and start where the
last bytes ended; ``media_publish`` takes only a FINISHED container, once; a Reel is finished
only when its upload is whole, scheduled 10 minutes to 30 days ahead. Errors come in Graph's
envelope (``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``). Failures
are scripted per test: a dropped upload, 5xx, a ``media_publish`` that answers 500 after the
post went live, a container that fails processing.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

V = "v21.0"
SCOPES = {
    "instagram_basic",
    "instagram_content_publish",
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
}


@dataclass
class Container:
    id: str
    ig: str
    caption: str
    size: int = 0
    data: bytearray = field(default_factory=bytearray)
    status: str = "IN_PROGRESS"
    polls: int = 0
    media: str = ""


@dataclass
class Reel:
    id: str
    page: str
    size: int = 0
    data: bytearray = field(default_factory=bytearray)
    published: str = ""  # "", published, scheduled
    when: int = 0
    description: str = ""


class Meta:
    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.apps: dict[str, str] = {}
        self.user_id, self.user_name = "10158000000000001", "Ada Creator"
        self.pages: dict[str, dict[str, str]] = {}  # page id → name, token, ig, ig_username
        self.codes: dict[str, tuple[str, str]] = {}
        self.user_tokens: set[str] = set()
        self.containers: dict[str, Container] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.reels: dict[str, Reel] = {}
        self.quota_total = 50
        self.processing_polls = 1
        self.failures: list[str] = []
        self.upload_delay = 0.0  # seconds an upload takes to arrive (a slow line)
        self.uploads_started = 0
        self.publish_calls = 0
        self.lock = threading.Lock()
        self.base = ""

    def app(self, app_id: str = "1234567890", secret: str = "meta-s3cret") -> tuple[str, str]:
        self.apps[app_id] = secret
        return app_id, secret

    def page(
        self,
        page_id: str = "102030405060708",
        name: str = "Sky Facts",
        ig: str = "17841400000000001",
        username: str = "skyfacts.ig",
    ) -> str:
        self.pages[page_id] = {
            "name": name,
            "token": "EAAP" + secrets.token_hex(12),
            "ig": ig,
            "ig_username": username,
        }
        return page_id

    def fail(self, *what: str) -> None:
        """``drop`` (an upload cut halfway), ``upload_5xx``, ``publish_500_after`` (the post
        goes live, the answer is a 500), ``processing_error``, ``graph_5xx``."""
        self.failures.extend(what)

    def _failure(self, *kinds: str) -> str | None:
        with self.lock:
            for n, kind in enumerate(self.failures):
                if kind in kinds:
                    return self.failures.pop(n)
        return None

    def published(self) -> list[dict[str, Any]]:
        return list(self.media.values())

    # Requests

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if method == "POST" and parts.path.startswith(("/ig-api-upload/", "/video-upload/")):
            return self._upload(h, parts.path)
        body = _drain(h)
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()} if body else {}
        params = {**query, **form}
        path = parts.path.removeprefix(f"/{V}/")
        if method == "GET" and path == "dialog/oauth":
            return self._dialog(h, params)
        if method == "GET" and path == "oauth/access_token":
            return self._token(h, params)
        if self._failure("graph_5xx"):
            return _error(h, 500, "An unexpected error has occurred.", 2, transient=True)
        token = params.get("access_token", "")
        if path in ("me", "me/accounts"):
            if token not in self.user_tokens:
                return _error(h, 400, "Error validating access token.", 190)
            if path == "me":
                return _send(h, 200, {"id": self.user_id, "name": self.user_name})
            data = []
            for page_id, page in self.pages.items():
                entry: dict[str, Any] = {
                    "id": page_id,
                    "name": page["name"],
                    "access_token": page["token"],
                }
                if page["ig"]:
                    entry["instagram_business_account"] = {
                        "id": page["ig"],
                        "username": page["ig_username"],
                    }
                data.append(entry)
            return _send(h, 200, {"data": data})
        owner = self._owner(token)
        if owner is None:
            return _error(h, 400, "Error validating access token: the session is invalid.", 190)
        page_id, page = owner
        head, _, tail = path.partition("/")
        if head == page["ig"] and method == "POST" and tail == "media":
            return self._container(h, page["ig"], params)
        if head == page["ig"] and method == "POST" and tail == "media_publish":
            return self._publish(h, page["ig"], params)
        if head == page["ig"] and method == "GET" and tail == "media":
            mine = [m for m in self.media.values() if m["ig"] == page["ig"]]
            return _send(
                h,
                200,
                {
                    "data": [
                        {k: m[k] for k in ("id", "caption", "timestamp", "permalink")} for m in mine
                    ]
                },
            )
        if head == page["ig"] and tail == "content_publishing_limit":
            used = len([m for m in self.media.values() if m["ig"] == page["ig"]])
            return _send(
                h,
                200,
                {
                    "data": [
                        {
                            "quota_usage": used,
                            "config": {"quota_total": self.quota_total, "quota_duration": 86400},
                        }
                    ]
                },
            )
        if head == page_id and method == "POST" and tail == "video_reels":
            return self._reel(h, page_id, params)
        if not tail and head in self.containers and self.containers[head].ig == page["ig"]:
            return self._container_status(h, self.containers[head])
        if not tail and head in self.media:
            return _send(h, 200, {"id": head, "permalink": self.media[head]["permalink"]})
        if not tail and head in self.reels and self.reels[head].page == page_id:
            return self._reel_status(h, self.reels[head])
        return _error(
            h,
            400,
            f"Unsupported {method} request. Object with ID '{head}' does "
            "not exist or cannot be loaded",
            100,
            33,
        )

    def _owner(self, token: str) -> tuple[str, dict[str, str]] | None:
        for page_id, page in self.pages.items():
            if page["token"] == token:
                return page_id, page
        return None

    def _dialog(self, h: BaseHTTPRequestHandler, q: dict[str, str]) -> None:
        redirect = urlsplit(q.get("redirect_uri", ""))
        ok = (
            q.get("client_id") in self.apps
            and redirect.scheme == "http"
            and redirect.hostname in ("localhost", "127.0.0.1")
            and redirect.port
            and q.get("response_type") == "code"
            and q.get("state")
            and set(q.get("scope", "").split(",")) >= SCOPES
        )
        if not ok:
            return _error(h, 400, "Invalid login request: app, redirect_uri, state or scope", 191)
        code = secrets.token_urlsafe(16)
        self.codes[code] = (q["client_id"], q["redirect_uri"])
        h.send_response(302)
        h.send_header(
            "Location", q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
        )
        h.send_header("Content-Length", "0")
        h.end_headers()
        return None

    def _token(self, h: BaseHTTPRequestHandler, q: dict[str, str]) -> None:
        if self.apps.get(q.get("client_id", "")) != q.get("client_secret"):
            return _error(h, 400, "Error validating client secret.", 1)
        if q.get("grant_type") == "fb_exchange_token":
            if q.get("fb_exchange_token") not in self.user_tokens:
                return _error(h, 400, "Error validating access token.", 190)
        else:
            found = self.codes.pop(q.get("code", ""), None)
            if found is None or found != (q.get("client_id"), q.get("redirect_uri")):
                return _error(h, 400, "This authorization code has been used.", 100, 36009)
        token = "EAAU" + secrets.token_hex(16)
        self.user_tokens.add(token)
        long = q.get("grant_type") == "fb_exchange_token"
        _send(
            h,
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": 5184000 if long else 5400,
            },
        )
        return None

    def _container(self, h: BaseHTTPRequestHandler, ig: str, q: dict[str, str]) -> None:
        if q.get("media_type") != "REELS" or q.get("upload_type") != "resumable":
            return _error(h, 400, "media_type REELS with upload_type resumable is expected", 100)
        caption = q.get("caption", "")
        if (
            len(caption) > 2200
            or len(re.findall(r"(?<!\w)#\w+", caption)) > 30
            or len(re.findall(r"(?<!\w)@[\w.]+", caption)) > 20
        ):
            return _error(
                h, 400, "The caption is too long or has too many hashtags or mentions", 100, 2207028
            )
        container = Container(str(17_900_000_000_000_000 + len(self.containers)), ig, caption)
        self.containers[container.id] = container
        _send(h, 200, {"id": container.id, "uri": f"{self.base}/ig-api-upload/{V}/{container.id}"})
        return None

    def _upload(self, h: BaseHTTPRequestHandler, path: str) -> None:
        kind, _, rest = path.strip("/").partition("/")
        target_id = rest.removeprefix(f"{V}/")
        auth = h.headers.get("Authorization", "")
        target: Container | Reel | None = (
            self.containers.get(target_id) if kind == "ig-api-upload" else self.reels.get(target_id)
        )
        owner = self._owner(auth.removeprefix("OAuth ")) if auth.startswith("OAuth ") else None
        try:
            offset, size = int(h.headers["offset"]), int(h.headers["file_size"])
        except (KeyError, ValueError):
            _drain(h)
            return _send(
                h,
                400,
                {
                    "debug_info": {
                        "type": "ParameterValidationError",
                        "message": "HeaderValuePredicate: Header Offset not convertable to "
                        "unsigned long",
                    }
                },
            )
        length = int(h.headers.get("Content-Length") or 0)
        if target is None or owner is None:
            _drain(h)
            return _error(h, 400, "Invalid OAuth access token or upload target.", 190)
        if (
            offset != len(target.data)
            or length != size - offset
            or (target.size and size != target.size)
        ):
            _drain(h)
            return _send(
                h,
                400,
                {
                    "debug_info": {
                        "type": "OffsetInvalidError",
                        "message": f"expected offset {len(target.data)}",
                    }
                },
            )
        target.size = size
        if self._failure("upload_5xx"):
            _drain(h)
            return _send(
                h, 500, {"debug_info": {"type": "ProcessingFailedError", "message": "retry"}}
            )
        self.uploads_started += 1
        if self.upload_delay:
            import time

            time.sleep(self.upload_delay)
        if self._failure("drop"):
            target.data += h.rfile.read(length // 2)
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return None
        target.data += h.rfile.read(length)
        whole = isinstance(target, Container) and len(target.data) == size
        if whole and (bytes(target.data[4:8]) != b"ftyp" or self._failure("processing_error")):
            assert isinstance(target, Container)
            target.status = "ERROR"
        _send(h, 200, {"success": True, "message": "Upload successful."})
        return None

    def _container_status(self, h: BaseHTTPRequestHandler, c: Container) -> None:
        if c.status == "IN_PROGRESS" and c.size and len(c.data) == c.size:
            c.polls += 1
            if c.polls > self.processing_polls:
                c.status = "FINISHED"
        _send(h, 200, {"status_code": c.status, "id": c.id})

    def _publish(self, h: BaseHTTPRequestHandler, ig: str, q: dict[str, str]) -> None:
        self.publish_calls += 1
        c = self.containers.get(q.get("creation_id", ""))
        if c is None or c.ig != ig:
            return _error(h, 400, "The media could not be found.", 100, 2207027)
        if len([m for m in self.media.values() if m["ig"] == ig]) >= self.quota_total:
            return _error(h, 400, "The app has reached the maximum number of posts.", 9, 2207042)
        if c.status == "PUBLISHED":
            return _error(h, 400, "The media has already been published.", 100, 2207006)
        if c.status != "FINISHED":
            return _error(
                h, 400, "The media is not ready for publishing, please wait.", 9007, 2207027
            )
        media_id = str(18_000_000_000_000_000 + len(self.media))
        self.media[media_id] = {
            "id": media_id,
            "ig": ig,
            "caption": c.caption,
            "timestamp": self.clock().strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "permalink": f"https://www.instagram.com/reel/C{media_id[-8:]}/",
            "data": bytes(c.data),
        }
        c.status, c.media = "PUBLISHED", media_id
        if self._failure("publish_500_after"):
            return _error(h, 500, "An unexpected error has occurred.", 2, transient=True)
        _send(h, 200, {"id": media_id})
        return None

    def _reel(self, h: BaseHTTPRequestHandler, page_id: str, q: dict[str, str]) -> None:
        phase = q.get("upload_phase")
        if phase == "start":
            reel = Reel(str(900_000_000_000 + len(self.reels)), page_id)
            self.reels[reel.id] = reel
            return _send(
                h,
                200,
                {"video_id": reel.id, "upload_url": f"{self.base}/video-upload/{V}/{reel.id}"},
            )
        reel = self.reels.get(q.get("video_id", ""))
        if phase != "finish" or reel is None or reel.page != page_id:
            return _error(h, 400, "upload_phase start or finish with a video_id is expected", 100)
        if not reel.size or len(reel.data) != reel.size:
            return _error(
                h, 400, "Video Upload Is Missing: the upload is not complete.", 6000, 1363130
            )
        if reel.published:
            return _error(h, 400, "The video has already been published.", 100)
        state = q.get("video_state")
        if state == "SCHEDULED":
            when = int(q.get("scheduled_publish_time") or 0)
            now = int(self.clock().timestamp())
            if not now + 600 <= when <= now + 30 * 86400:
                return _error(
                    h, 400, "The specified scheduled publish time is invalid.", 100, 1363168
                )
            reel.published, reel.when = "scheduled", when
        elif state == "PUBLISHED":
            reel.published = "published"
        else:
            return _error(h, 400, "video_state must be PUBLISHED, SCHEDULED or DRAFT", 100)
        reel.description = q.get("description", "")
        _send(h, 200, {"success": True})
        return None

    def _reel_status(self, h: BaseHTTPRequestHandler, reel: Reel) -> None:
        whole = bool(reel.size) and len(reel.data) == reel.size
        _send(
            h,
            200,
            {
                "id": reel.id,
                "status": {
                    "video_status": "ready" if whole else "upload_in_progress",
                    "uploading_phase": {
                        "status": "complete" if whole else "in_progress",
                        "bytes_transferred": len(reel.data),
                    },
                    "processing_phase": {"status": "complete" if whole else "not_started"},
                    "publishing_phase": {
                        "status": "complete" if reel.published else "not_started",
                        **({"publish_status": reel.published} if reel.published else {}),
                    },
                },
            },
        )


def _drain(h: BaseHTTPRequestHandler) -> bytes:
    length = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(length) if length > 0 else b""


def _send(h: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    raw = json.dumps(body).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json; charset=UTF-8")
    h.send_header("Content-Length", str(len(raw)))
    h.end_headers()
    h.wfile.write(raw)


def _error(
    h: BaseHTTPRequestHandler,
    status: int,
    message: str,
    code: int,
    subcode: int = 0,
    transient: bool = False,
) -> None:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": secrets.token_hex(6),
    }
    if subcode:
        error["error_subcode"] = subcode
    if transient:
        error["is_transient"] = True
    _send(h, status, {"error": error})


def handler_for(meta: Meta) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            meta.handle(self, "GET")

        def do_POST(self) -> None:
            meta.handle(self, "POST")

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


_ = timedelta  # (kept for tests that move the clock)
