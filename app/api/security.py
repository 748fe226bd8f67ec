"""What stands between the API and a web page the user happens to visit.

One ASGI middleware, in front of everything (404s too): the ``Host`` must be this computer
(DNS rebinding), the bearer token must match (compared in constant time, never logged),
each token gets 120 requests a minute, and a body may not exceed 1 MB.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from app.api.problems import problem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOCAL_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
OPEN_PATHS = frozenset({"/api/v1/health", "/openapi.json", "/docs", "/docs/oauth2-redirect"})
OPEN_PREFIXES = ("/docs/assets/",)
BODY_LIMIT = 1024 * 1024
REQUESTS_PER_MINUTE = 120
TOKEN_TTL = 2.0  # seconds a read token is trusted before the keyring is asked again (rotation)


@dataclass
class RateLimit:
    """A sliding minute per key; ``clock`` is injectable for tests."""

    per_minute: int = REQUESTS_PER_MINUTE
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, key: str) -> float:
        """0 when the request may go ahead (and counts), else the seconds until it may."""
        now = self.clock()
        with self._lock:
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - 60.0:
                times.popleft()
            if len(times) >= self.per_minute:
                return max(times[0] + 60.0 - now, 0.001)
            times.append(now)
            return 0.0


class TokenCache:
    """The current token, re-read now and then so that `api rotate-token` takes effect."""

    def __init__(self, read: Callable[[], str], clock: Callable[[], float] = time.monotonic):
        self._read, self._clock = read, clock
        self._token: str | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._clock() - self._at > TOKEN_TTL:
                self._token, self._at = self._read(), self._clock()
            return self._token

    def matches(self, presented: str) -> bool:
        expected = self.get()
        return bool(expected) and hmac.compare_digest(presented.encode(), expected.encode())


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """``Host`` headers this server answers: this computer's names, with the port."""
    names = set(LOCAL_NAMES)
    if host not in ("127.0.0.1", "0.0.0.0", "::", "localhost", "::1"):
        names.add(f"[{host}]" if ":" in host else host)  # the interface the user chose
    return frozenset(f"{name}:{port}" for name in names) | frozenset(names)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: TokenCache,
        hosts: frozenset[str],
        limit: RateLimit,
        body_limit: int = BODY_LIMIT,
    ) -> None:
        self.app, self.tokens, self.hosts, self.limit = app, tokens, hosts, limit
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._check(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            body = await self._read_body(scope, receive)
            if body is None:
                too_big = problem(413, f"the request body is over {self.body_limit // 1024} KB")
                await too_big(scope, receive, send)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    def _check(self, scope: Scope) -> Any:
        host = _header(scope, b"host").lower()
        if host not in self.hosts:
            return problem(
                403,
                "this API answers only requests addressed to this computer "
                "(Host 127.0.0.1, localhost or [::1] with its port)",
            )
        path = scope.get("path", "")
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES) or scope["method"] == "OPTIONS":
            return None
        scheme, _, presented = _header(scope, b"authorization").partition(" ")
        if scheme.lower() != "bearer" or not self.tokens.matches(presented.strip()):
            return problem(
                401,
                "a valid bearer token is needed — `cadence settings reveal api.token` shows it",
                headers={"WWW-Authenticate": 'Bearer realm="cadence"'},
            )
        wait = self.limit.wait("token")
        if wait:
            return problem(
                429,
                f"more than {self.limit.per_minute} requests a minute — try again in {wait:.0f} s",
                headers={"Retry-After": str(max(int(wait + 0.999), 1))},
            )
        return None

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None when it is over ``body_limit`` bytes."""
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.body_limit:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.body_limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the app the body already read, then the real channel."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
