"""A loopback OpenAI-compatible chat API: answers queued replies, records what it was asked."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest


class ChatServer(BaseHTTPRequestHandler):
    replies: ClassVar[list[tuple[int, dict[str, Any]]]] = []
    seen: ClassVar[list[dict[str, Any]]] = []
    url: ClassVar[str] = ""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        status, payload = type(self).replies.pop(0)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def chat_server() -> Iterator[type[ChatServer]]:
    ChatServer.replies, ChatServer.seen = [], []
    server = HTTPServer(("127.0.0.1", 0), ChatServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ChatServer.url = f"http://127.0.0.1:{server.server_port}/v1"
    yield ChatServer
    server.shutdown()
