"""The redirect of a desktop sign-in, received on 127.0.0.1: a one-page server on a free
port that takes the first request to its callback path and answers the browser."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAGE = (
    "<!doctype html><meta charset=utf-8><title>Cadence</title>"
    "<body style='font:16px sans-serif;margin:3em'><h2>{}</h2>You can close this tab.</body>"
)


class SignInError(Exception):
    pass


def receive_redirect(
    consent_url: Callable[[str], str],
    show: Callable[[str], None],
    *,
    path: str = "/callback/",
    timeout: float = 300.0,
    port: int = 0,
    host: str = "127.0.0.1",
) -> tuple[str, dict[str, str]]:
    """Listen on 127.0.0.1, hand ``show`` the consent address made for this redirect URI
    (``consent_url(redirect_uri)``), and wait for the browser to come back: returns the
    redirect URI and the query it carried. A `SignInError` after ``timeout`` seconds."""
    got: dict[str, str] = {}
    arrived = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != path:
                self.send_error(404)
                return
            got.update({k: v[0] for k, v in parse_qs(parts.query).items()})
            ok = "error" not in got
            page = PAGE.format("Cadence is signed in." if ok else "The sign-in did not finish.")
            raw = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
            arrived.set()

        def log_message(self, *args: Any) -> None:
            pass

    try:
        server = HTTPServer(("127.0.0.1", port), Handler)
    except OSError as exc:
        raise SignInError(f"port {port} on this computer is taken ({exc.strerror})") from None
    redirect_uri = f"http://{host}:{server.server_port}{path}"
    thread = threading.Thread(target=server.serve_forever, name="cadence-sign-in", daemon=True)
    thread.start()
    try:
        show(consent_url(redirect_uri))
        if not arrived.wait(timeout):
            raise SignInError(f"no answer from the browser within {timeout / 60:.0f} minutes")
    finally:
        server.shutdown()
        server.server_close()
    return redirect_uri, got


def sign_in(
    service: str,
    consent_url: Callable[[str, str], str],
    *,
    open_browser: bool,
    tell: Callable[[str], None],
    port: int = 0,
    host: str = "127.0.0.1",
) -> tuple[str, dict[str, str]]:
    """A desktop sign-in with ``service`` (its name, for messages): the consent address
    (``consent_url(redirect_uri, state)``) opened in the browser — or printed alone on its
    line —, the answer checked as ours and carrying a code. (redirect URI, the answer); a
    `UserError` in one line otherwise."""
    import secrets
    import webbrowser

    from app.domain.errors import UserError

    state = secrets.token_urlsafe(24)

    def show(url: str) -> None:
        if open_browser and webbrowser.open(url):
            tell(f"A browser opened to sign in to {service}; waiting for it…")
        else:
            tell(f"Open this address in a browser to sign in to {service}:\n{url}\n")

    failed = f"{service} sign-in did not complete"
    try:
        redirect, answer = receive_redirect(
            lambda uri: consent_url(uri, state), show, port=port, host=host
        )
    except SignInError as exc:
        raise UserError(f"{failed} ({exc}) — try again") from None
    if answer.get("state") != state:
        raise UserError(f"{failed} (the answer was not ours) — try again")
    if "code" not in answer:
        said = (
            answer.get("error_description")
            or answer.get("error_reason")
            or answer.get("error")
            or "no code"
        )
        raise UserError(f"{failed} ({said}) — try again")
    return redirect, answer
