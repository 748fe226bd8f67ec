"""TikTok's Login Kit for Desktop and Content Posting API (Direct Post) on loopback.

Written from TikTok's developer documentation and as strict as it reads:

- ``GET /v2/auth/authorize/`` checks the client key, ``response_type=code``, the scopes, a
  loopback ``redirect_uri`` with a port, a ``state``, and a PKCE challenge with
  ``code_challenge_method=S256`` — then, standing in for the user's consent, redirects to
  the app with ``code``, ``scopes`` and ``state``.
- ``POST /v2/oauth/token/`` (form-encoded) exchanges a code once, checking the client secret,
  the same redirect URI and the verifier: TikTok's desktop PKCE challenge is the verifier's
  SHA-256 as **hex**, so the base64url form of RFC 7636 is refused. Refreshing rotates the
  refresh token (the old one stops working). Access tokens expire (an injectable clock).
- ``creator_info/query``, ``video/init`` (chunk rules: 5–64 MB chunks, the count the size
  divided by the chunk size rounded down, the last chunk up to 128 MB, a video under 5 MB
  whole; six inits a minute per token; a daily posting cap; an unaudited client posts only
  SELF_ONLY to a private account; the privacy level must be one the creator is offered),
  ``PUT`` chunks to the returned upload URL in order with ``Content-Range`` and
  ``Content-Length`` (206, 201 for the last), and ``status/fetch``.
- Errors come in TikTok's envelope: ``{"data": {}, "error": {"code", "message", "log_id"}}``.
Failures are scripted per test (``fail``): a connection dropped in the middle of a chunk, a
5xx, a lost answer after the post was made.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

MB = 1024 * 1024
SCOPES_NEEDED = {"user.info.basic", "video.publish", "video.upload"}
STATUS = {
    "ok": 200,
    "invalid_params": 400,
    "access_token_invalid": 401,
    "scope_not_authorized": 401,
    "spam_risk_too_many_posts": 403,
    "spam_risk_user_banned_from_posting": 403,
    "reached_active_user_cap": 403,
    "unaudited_client_can_only_post_to_private_accounts": 403,
    "privacy_level_option_mismatch": 400,
    "rate_limit_exceeded": 429,
    "internal_error": 500,
}


@dataclass
class User:
    open_id: str
    username: str
    nickname: str
    privacy_options: list[str] = field(
        default_factory=lambda: ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    )
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = True
    max_duration: int = 600
    private_account: bool = False


@dataclass
class Post:
    publish_id: str
    open_id: str
    size: int
    chunk_size: int
    count: int
    info: dict[str, Any]
    upload_token: str
    data: bytearray = field(default_factory=bytearray)
    status: str = "PROCESSING_UPLOAD"
    fail_reason: str = ""
    polls: int = 0
    post_id: int | None = None


class TikTok:
    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.apps: dict[str, str] = {}  # client key → secret
        self.audited = True
        self.users: dict[str, User] = {}
        self.consenting = ""  # the open_id that signs in next
        self.codes: dict[str, dict[str, Any]] = {}
        self.access: dict[str, tuple[str, datetime]] = {}
        self.refresh: dict[str, str] = {}
        self.revoked: list[str] = []
        self.posts: dict[str, Post] = {}
        self.inits: dict[str, list[datetime]] = {}  # per access token
        self.daily_cap = 15
        self.processing_polls = 1  # status fetches that still say processing after the upload
        self.failures: list[str] = []
        self.put_delay = 0.0  # seconds each chunk takes to arrive (a slow line)
        self.puts_started = 0
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.base = ""

    # Set-up

    def app(self, key: str = "awkey123", secret: str = "s3cret-client") -> tuple[str, str]:
        self.apps[key] = secret
        return key, secret

    def user(self, open_id: str = "open-abc", **kwargs: Any) -> User:
        user = User(
            open_id,
            kwargs.pop("username", "tinycreator"),
            kwargs.pop("nickname", "Tiny Creator"),
            **kwargs,
        )
        self.users[open_id] = user
        self.consenting = self.consenting or open_id
        return user

    def fail(self, *what: str) -> None:
        """Script what goes wrong next: ``drop`` (a chunk's connection cut halfway),
        ``init_5xx``, ``put_5xx``, ``status_5xx``, ``lost_answer`` (the last chunk lands but
        its answer never comes), ``expire`` (every access token expires now)."""
        self.failures.extend(what)

    def _failure(self, *kinds: str) -> str | None:
        with self.lock:
            for n, kind in enumerate(self.failures):
                if kind in kinds:
                    return self.failures.pop(n)
        return None

    def published(self) -> list[Post]:
        return [p for p in self.posts.values() if p.status == "PUBLISH_COMPLETE"]

    # Requests

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        self.requests.append((method, parts.path))
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if self._failure("expire"):
            self.access = {
                t: (o, self.clock() - timedelta(seconds=1)) for t, (o, _) in self.access.items()
            }
        if method == "GET" and parts.path == "/v2/auth/authorize/":
            return self._authorize(h, query)
        if method == "POST" and parts.path == "/v2/oauth/token/":
            return self._token(h)
        if method == "POST" and parts.path == "/v2/oauth/revoke/":
            form = _form(h)
            self.revoked.append(form.get("token", ""))
            return _send(h, 200, {})
        if method == "PUT" and parts.path == "/upload/":
            return self._put(h, query)
        if method == "POST" and parts.path.startswith("/v2/post/publish/"):
            user = self._bearer(h)
            if user is None:
                return None
            body = _json_body(h)
            if body is None:
                return _error(
                    h,
                    "invalid_params",
                    "The body must be JSON, Content-Type application/json; charset=UTF-8",
                )
            if parts.path == "/v2/post/publish/creator_info/query/":
                return _ok(h, self._creator(user))
            if parts.path == "/v2/post/publish/video/init/":
                return self._init(h, user, body)
            if parts.path == "/v2/post/publish/status/fetch/":
                return self._status(h, user, body)
        if method == "GET" and parts.path == "/v2/user/info/":
            user = self._bearer(h)
            if user is not None:
                return _ok(h, {"user": {"open_id": user.open_id, "display_name": user.nickname}})
            return None
        _error(h, "invalid_params", f"no such endpoint {method} {parts.path}", 404)
        return None

    def _authorize(self, h: BaseHTTPRequestHandler, q: dict[str, str]) -> None:
        problems = []
        if q.get("client_key") not in self.apps:
            problems.append("client_key")
        if q.get("response_type") != "code":
            problems.append("response_type")
        if not set(q.get("scope", "").split(",")) >= SCOPES_NEEDED:
            problems.append("scope")
        redirect = urlsplit(q.get("redirect_uri", ""))
        if (
            redirect.scheme not in ("http", "https")
            or redirect.hostname not in ("127.0.0.1", "localhost")
            or not redirect.port
            or redirect.query
            or redirect.fragment
        ):
            problems.append("redirect_uri")
        if (
            not q.get("state")
            or not re.fullmatch(r"[0-9a-f]{64}", q.get("code_challenge", ""))
            or q.get("code_challenge_method") != "S256"
        ):
            problems.append("code_challenge")
        if problems:
            return _send(
                h,
                400,
                {"error": "invalid_request", "error_description": "bad " + ", ".join(problems)},
            )
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "key": q["client_key"],
            "redirect": q["redirect_uri"],
            "challenge": q["code_challenge"],
            "open_id": self.consenting,
            "scope": q["scope"],
        }
        target = (
            q["redirect_uri"]
            + "?"
            + urlencode({"code": code, "scopes": q["scope"], "state": q["state"]})
        )
        h.send_response(302)
        h.send_header("Location", target)
        h.send_header("Content-Length", "0")
        h.end_headers()
        return None

    def _token(self, h: BaseHTTPRequestHandler) -> None:
        if not h.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return _send(
                h,
                400,
                {
                    "error": "invalid_request",
                    "error_description": "Content-Type must be application/x-www-form-urlencoded",
                },
            )
        form = _form(h)
        if self.apps.get(form.get("client_key", "")) != form.get("client_secret"):
            return _send(
                h,
                401,
                {
                    "error": "invalid_client",
                    "error_description": "Client key or secret is incorrect.",
                },
            )
        if form.get("grant_type") == "authorization_code":
            found = self.codes.pop(form.get("code", ""), None)
            if found is None or found["key"] != form["client_key"]:
                return _send(
                    h,
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Authorization code is expired.",
                    },
                )
            if form.get("redirect_uri") != found["redirect"]:
                return _send(
                    h,
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "redirect_uri does not match.",
                    },
                )
            verifier = form.get("code_verifier", "")
            if hashlib.sha256(verifier.encode()).hexdigest() != found["challenge"]:
                return _send(
                    h,
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "Code verifier or code challenge is invalid.",
                    },
                )
            return self._tokens(h, found["open_id"], found["scope"])
        if form.get("grant_type") == "refresh_token":
            open_id = self.refresh.pop(form.get("refresh_token", ""), None)
            if open_id is None:
                return _send(
                    h,
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Refresh token is invalid or expired.",
                    },
                )
            return self._tokens(h, open_id, ",".join(sorted(SCOPES_NEEDED)))
        _send(h, 400, {"error": "unsupported_grant_type", "error_description": "grant_type"})
        return None

    def _tokens(self, h: BaseHTTPRequestHandler, open_id: str, scope: str) -> None:
        access, refresh = "act." + secrets.token_urlsafe(24), "rft." + secrets.token_urlsafe(24)
        self.access[access] = (open_id, self.clock() + timedelta(seconds=86400))
        self.refresh[refresh] = open_id
        _send(
            h,
            200,
            {
                "access_token": access,
                "expires_in": 86400,
                "open_id": open_id,
                "refresh_expires_in": 31536000,
                "refresh_token": refresh,
                "scope": scope,
                "token_type": "Bearer",
            },
        )

    def _bearer(self, h: BaseHTTPRequestHandler) -> User | None:
        auth = h.headers.get("Authorization", "")
        found = (
            self.access.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        )
        if found is None or found[1] <= self.clock():
            _drain(h)
            _error(
                h,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
            return None
        return self.users[found[0]]

    def _creator(self, user: User) -> dict[str, Any]:
        options = ["SELF_ONLY"] if not self.audited else user.privacy_options
        return {
            "creator_avatar_url": "",
            "creator_username": user.username,
            "creator_nickname": user.nickname,
            "privacy_level_options": options,
            "comment_disabled": user.comment_disabled,
            "duet_disabled": user.duet_disabled,
            "stitch_disabled": user.stitch_disabled,
            "max_video_post_duration_sec": user.max_duration,
        }

    def _init(self, h: BaseHTTPRequestHandler, user: User, body: dict[str, Any]) -> None:
        token = h.headers["Authorization"].removeprefix("Bearer ")
        now = self.clock()
        recent = [t for t in self.inits.get(token, []) if now - t < timedelta(minutes=1)]
        if len(recent) >= 6:
            return _error(
                h,
                "rate_limit_exceeded",
                "API rate limit was exceeded, only 6 requests per minute are allowed.",
            )
        self.inits[token] = [*recent, now]
        if self._failure("init_5xx"):
            return _error(h, "internal_error", "Something went wrong. Please try again later.")
        info, source = body.get("post_info") or {}, body.get("source_info") or {}
        today = [
            p
            for p in self.posts.values()
            if p.open_id == user.open_id and p.status == "PUBLISH_COMPLETE"
        ]
        if len(today) >= self.daily_cap:
            return _error(
                h,
                "spam_risk_too_many_posts",
                "The daily post cap from the current user has been reached.",
            )
        privacy = info.get("privacy_level")
        if not self.audited and (privacy != "SELF_ONLY" or not user.private_account):
            return _error(
                h,
                "unaudited_client_can_only_post_to_private_accounts",
                "Please review our integration guidelines at https://developers.tiktok.com/doc/content-sharing-guidelines/",
            )
        if privacy not in self._creator(user)["privacy_level_options"]:
            return _error(
                h,
                "privacy_level_option_mismatch",
                "privacy_level is not among the creator's options.",
            )
        title = info.get("title", "")
        if not isinstance(title, str) or len(title.encode("utf-16-le")) // 2 > 2200:
            return _error(h, "invalid_params", "title is longer than 2200 UTF-16 runes.")
        for key in (
            "disable_comment",
            "disable_duet",
            "disable_stitch",
            "brand_content_toggle",
            "brand_organic_toggle",
            "is_aigc",
        ):
            if key in info and not isinstance(info[key], bool):
                return _error(h, "invalid_params", f"{key} must be a boolean.")
        if "brand_content_toggle" not in info:
            return _error(h, "invalid_params", "brand_content_toggle is required.")
        if info.get("brand_content_toggle") and privacy == "SELF_ONLY":
            return _error(h, "invalid_params", "Branded content cannot be private.")
        problem = _chunk_problem(source)
        if problem:
            return _error(h, "invalid_params", problem)
        publish_id = f"v_pub_file~v2-1.{secrets.randbelow(10**18)}"
        token_ = secrets.token_hex(8)
        self.posts[publish_id] = Post(
            publish_id,
            user.open_id,
            int(source["video_size"]),
            int(source["chunk_size"]),
            int(source["total_chunk_count"]),
            info,
            token_,
        )
        url = f"{self.base}/upload/?" + urlencode({"upload_id": publish_id, "upload_token": token_})
        _ok(h, {"publish_id": publish_id, "upload_url": url})
        return None

    def _put(self, h: BaseHTTPRequestHandler, q: dict[str, str]) -> None:
        post = self.posts.get(q.get("upload_id", ""))
        if post is None or q.get("upload_token") != post.upload_token:
            _drain(h)
            return _send(
                h, 404, {"error": {"code": "invalid_params", "message": "upload not found"}}
            )
        if h.headers.get("Content-Type") not in ("video/mp4", "video/quicktime", "video/webm"):
            _drain(h)
            return _send(
                h,
                400,
                {
                    "error": {
                        "code": "invalid_params",
                        "message": "Content-Type must be the video's MIME type",
                    }
                },
            )
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", h.headers.get("Content-Range", ""))
        length = int(h.headers.get("Content-Length", "-1"))
        if match is None or length < 0:
            _drain(h)
            return _send(
                h,
                400,
                {
                    "error": {
                        "code": "invalid_params",
                        "message": "Content-Range and Content-Length are required",
                    }
                },
            )
        first, last, total = map(int, match.groups())
        index = first // post.chunk_size if post.chunk_size else 0
        expected = (
            post.size - index * post.chunk_size if index == post.count - 1 else post.chunk_size
        )
        if (
            total != post.size
            or first != len(post.data)
            or first % post.chunk_size
            or last - first + 1 != length
            or length != expected
        ):
            _drain(h)
            return _send(
                h,
                416 if first != len(post.data) else 400,
                {
                    "error": {
                        "code": "invalid_params",
                        "message": f"chunk {first}-{last}/{total} refused: "
                        f"{len(post.data)} bytes received so far",
                    }
                },
            )
        if self._failure("put_5xx"):
            _drain(h)
            return _send(h, 500, {"error": {"code": "internal_error", "message": "try again"}})
        if self._failure("drop"):
            h.rfile.read(length // 2)
            h.close_connection = True
            import socket

            h.connection.shutdown(socket.SHUT_RDWR)
            return None
        self.puts_started += 1
        if self.put_delay:
            time.sleep(self.put_delay)
        data = h.rfile.read(length)
        if len(data) != length:
            return None
        post.data += data
        if len(post.data) < post.size:
            return _send(h, 206, b"")
        post.status = "PROCESSING_DOWNLOAD"
        if bytes(post.data[4:8]) != b"ftyp":
            post.status, post.fail_reason = "FAILED", "file_format_check_failed"
        if self._failure("lost_answer"):
            h.close_connection = True
            import socket

            h.connection.shutdown(socket.SHUT_RDWR)
            return None
        _send(h, 201, b"")
        return None

    def _status(self, h: BaseHTTPRequestHandler, user: User, body: dict[str, Any]) -> None:
        if self._failure("status_5xx"):
            return _error(h, "internal_error", "Something went wrong. Please try again later.")
        post = self.posts.get(str(body.get("publish_id", "")))
        if post is None or post.open_id != user.open_id:
            return _error(h, "invalid_params", "publish_id does not exist.")
        if post.status == "PROCESSING_DOWNLOAD":
            post.polls += 1
            if post.polls > self.processing_polls:
                post.status = "PUBLISH_COMPLETE"
                if post.info.get("privacy_level") != "SELF_ONLY":
                    post.post_id = 7_300_000_000_000_000_000 + len(self.posts)
        data: dict[str, Any] = {"status": post.status, "uploaded_bytes": len(post.data)}
        if post.fail_reason:
            data["fail_reason"] = post.fail_reason
        if post.post_id is not None:
            data["publicaly_available_post_id"] = [post.post_id]
        _ok(h, data)
        return None


def _chunk_problem(source: dict[str, Any]) -> str | None:
    if source.get("source") != "FILE_UPLOAD":
        return "source must be FILE_UPLOAD or PULL_FROM_URL"
    try:
        size, chunk, count = (
            int(source[k]) for k in ("video_size", "chunk_size", "total_chunk_count")
        )
    except (KeyError, TypeError, ValueError):
        return "video_size, chunk_size and total_chunk_count are required for FILE_UPLOAD"
    if size <= 0 or chunk <= 0:
        return "video_size and chunk_size must be positive"
    if size < 5 * MB and (chunk != size or count != 1):
        return "a video under 5 MB is uploaded whole: chunk_size = video_size, one chunk"
    if size >= 5 * MB and not 5 * MB <= chunk <= 64 * MB:
        return "chunk_size must be between 5 MB and 64 MB"
    if size > 64 * MB and count < 2:
        return "a video over 64 MB must be uploaded in several chunks"
    if count != size // chunk or not 1 <= count <= 1000:
        return "total_chunk_count must be video_size / chunk_size rounded down (1 to 1000)"
    if size - (count - 1) * chunk > 128 * MB:
        return "the last chunk may be at most 128 MB"
    return None


def _drain(h: BaseHTTPRequestHandler) -> bytes:
    length = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(length) if length > 0 else b""


def _form(h: BaseHTTPRequestHandler) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(_drain(h).decode()).items()}


def _json_body(h: BaseHTTPRequestHandler) -> dict[str, Any] | None:
    raw = _drain(h)
    if (
        h.headers.get("Content-Type", "").replace(" ", "").lower()
        != "application/json;charset=utf-8"
    ):
        return None
    try:
        found = json.loads(raw or b"{}")
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _send(h: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json; charset=UTF-8")
    h.send_header("Content-Length", str(len(raw)))
    h.end_headers()
    h.wfile.write(raw)


def _ok(h: BaseHTTPRequestHandler, data: dict[str, Any]) -> None:
    _send(
        h,
        200,
        {"data": data, "error": {"code": "ok", "message": "", "log_id": secrets.token_hex(8)}},
    )


def _error(h: BaseHTTPRequestHandler, code: str, message: str, status: int | None = None) -> None:
    _send(
        h,
        status or STATUS[code],
        {"data": {}, "error": {"code": code, "message": message, "log_id": secrets.token_hex(8)}},
    )


def handler_for(tiktok: TikTok) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            tiktok.handle(self, "GET")

        def do_POST(self) -> None:
            tiktok.handle(self, "POST")

        def do_PUT(self) -> None:
            tiktok.handle(self, "PUT")

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
