"""The API served by uvicorn on its own thread and event loop, beside the window or the
headless engine (the window's qasync loop is never asked to serve HTTP)."""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.api.events import EventHub, engine_event
from app.domain.errors import UserError
from app.paths import AppPaths

if TYPE_CHECKING:  # FastAPI is imported only when the API is served
    from app.api.context import Context

log = logging.getLogger(__name__)
LOCAL = ("127.0.0.1", "localhost", "::1")
HEADER_SECONDS = 10.0  # a request's headers must arrive within this long
MOST_CONNECTIONS = 200  # past this, requests are answered 503 at once


def _protocol() -> type:
    """uvicorn's HTTP/1.1 with a deadline for each request's headers. uvicorn has none: a
    client that connects and sends nothing (or a byte now and then) held its connection for
    good — 3,000 of them were once held open."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class Protocol(H11Protocol):
        _headers_due: Any = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._expect_headers()

        def _expect_headers(self) -> None:
            self._headers_due = self.loop.call_later(HEADER_SECONDS, self._headers_late)

        def _headers_late(self) -> None:
            waiting = self.cycle is None or self.cycle.response_complete
            if waiting and not self.transport.is_closing():
                self.transport.close()

        def _headers_came(self) -> None:
            if self._headers_due is not None:
                self._headers_due.cancel()
                self._headers_due = None

        def handle_events(self) -> None:
            before = self.cycle
            super().handle_events()
            if self.cycle is not before:  # a request's headers arrived
                self._headers_came()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._headers_came()
                self._expect_headers()  # the next request on this connection

        def connection_lost(self, exc: Exception | None) -> None:
            self._headers_came()
            super().connection_lost(exc)

    return Protocol


class ApiError(UserError):
    """The API could not start (the port is taken, the address is not this computer's)."""


class ApiServer:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        settings = ctx.workspace.settings
        self.host = settings.text("api.host") or "127.0.0.1"
        self.port = settings.integer("api.port")
        self.origins = [
            o.strip() for o in settings.text("api.cors_origins").split(",") if o.strip()
        ]
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> str:
        """Listen (the socket is bound here, so a taken port is said at once); returns the
        address. The token is made now if this install has none yet."""
        import uvicorn

        from app.api.app import create_app

        if self.host not in LOCAL:
            log.warning("the API listens on %s: other computers can reach it", self.host)
        self.ctx.workspace.settings.api_token()
        sock = self._bind()
        app = create_app(self.ctx, host=self.host, port=self.port, cors_origins=self.origins)
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,  # an access log could carry tokens someone put in a URL
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=3,
            http=_protocol(),
            limit_concurrency=MOST_CONNECTIONS,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="cadence-api", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                raise ApiError(f"the API did not start on {self.address} within {timeout:.0f} s")
            time.sleep(0.02)
        if not self._server.started:
            raise ApiError(f"the API could not start on {self.address} — see the log")
        log.info("API listening on %s", self.address)
        return self.address

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on connections of a socket that
        # says it is TCP; without it every small answer waited 40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                raise ApiError(
                    f"port {self.port} is in use — another program (or another Cadence) has "
                    "it; choose another with `settings set api.port N`"
                ) from None
            raise ApiError(
                f"the API cannot listen on {self.host}:{self.port} ({exc.strerror})"
            ) from None
        sock.listen(64)
        return sock

    def stop(self, timeout: float = 5.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._server = self._thread = None


class LocalApi:
    """The API as the window and ``run --headless --api`` run it: its own workspace (so its
    writes are audited as the API's), the hub engine events go to, and the server."""

    def __init__(
        self,
        paths: AppPaths,
        *,
        wake: Callable[[], None] = lambda: None,
        engine_running: Callable[[], bool] = lambda: False,
    ) -> None:
        self.paths = paths
        self.hub = EventHub()
        self.wake, self.engine_running = wake, engine_running
        self.server: ApiServer | None = None

    def start(self) -> str:
        """Off the GUI thread: open, listen; returns the address (an `ApiError` says why not)."""
        from app.api.context import Context
        from app.services import Services

        self.stop()
        workspace = Services(self.paths, front_end="api")
        ctx = Context(workspace, self.hub, self.wake, self.engine_running)
        server = ApiServer(ctx)
        try:
            address = server.start()
        except BaseException:
            workspace.close()
            raise
        self.server = server
        return address

    def apply(self, settings: Any) -> str | None:
        """As the settings say: serving (its address; restarted only when the port or the
        interface changed) or not (None)."""
        if not settings.flag("api.enabled"):
            self.stop()
            return None
        host, port = settings.text("api.host") or "127.0.0.1", settings.integer("api.port")
        server = self.server
        if server is not None and server.running and (server.host, server.port) == (host, port):
            return server.address
        return self.start()

    def stop(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.stop()
            server.ctx.workspace.close()

    @property
    def address(self) -> str | None:
        return self.server.address if self.server is not None and self.server.running else None

    def engine_event(self, event: Any) -> None:
        if self.hub.subscribers:
            engine_event(self.hub, event)
