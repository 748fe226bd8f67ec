"""A real S3-compatible server on loopback (moto's server mode) behind a proxy that can break
uploads half-way — the storage tests' outside world."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import boto3

REGION = "us-east-1"


class FlakyProxy:
    """Forwards TCP to ``upstream``. While ``cuts_left`` is not 0, a connection that has sent
    more than ``cut_after`` bytes towards the server is closed there, half-way through its
    request (negative: every time). ``cuts`` counts them; ``puts`` the PUT requests seen."""

    def __init__(self, upstream: tuple[str, int], cut_after: int = 60_000) -> None:
        self.upstream = upstream
        self.cut_after = cut_after
        self.cuts_left = 0
        self.cuts = 0
        self.puts = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._up, args=(client, server), daemon=True).start()
            threading.Thread(target=self._down, args=(server, client), daemon=True).start()

    def _up(self, client: socket.socket, server: socket.socket) -> None:
        sent = 0
        try:
            while data := client.recv(65536):
                with self._lock:
                    self.puts += data.count(b"PUT /")
                    if self.cuts_left and sent + len(data) > self.cut_after:
                        self.cuts_left -= 1
                        self.cuts += 1
                        server.sendall(data[: max(0, self.cut_after - sent)])
                        break
                server.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for sock in (client, server):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    @staticmethod
    def _down(server: socket.socket, client: socket.socket) -> None:
        try:
            while data := server.recv(65536):
                client.sendall(data)
        except OSError:
            pass

    def close(self) -> None:
        self._closed = True
        self._server.close()


@dataclass
class S3:
    endpoint: str  # through the proxy
    direct: str  # straight to the server
    proxy: FlakyProxy
    buckets: list[str] = field(default_factory=list)

    def client(self) -> object:
        return boto3.client(
            "s3",
            endpoint_url=self.direct,
            aws_access_key_id="test-key",
            aws_secret_access_key="test-secret",
            region_name=REGION,
        )

    def make_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)  # type: ignore[attr-defined]
        return name

    def get(self, bucket: str, key: str) -> bytes:
        answer = self.client().get_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
        return bytes(answer["Body"].read())

    def keys(self, bucket: str) -> list[str]:
        answer = self.client().list_objects_v2(Bucket=bucket)  # type: ignore[attr-defined]
        return sorted(o["Key"] for o in answer.get("Contents", []))

    def unfinished_uploads(self, bucket: str) -> list[str]:
        answer = self.client().list_multipart_uploads(Bucket=bucket)  # type: ignore[attr-defined]
        return [u["Key"] for u in answer.get("Uploads", [])]


@contextmanager
def s3_server() -> Iterator[S3]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    proxy = FlakyProxy((host, port))
    try:
        yield S3(f"http://127.0.0.1:{proxy.port}", f"http://{host}:{port}", proxy)
    finally:
        proxy.close()
        server.stop()
