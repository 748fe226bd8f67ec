"""A Google Cloud Storage JSON API on loopback: the OAuth token exchange of a service account
(JWT bearer grant), object get/list/delete, media download, and multipart and resumable
uploads — the requests gcsfs makes, answered in Google's formats (objects resource, error
envelope, 308 with Range for a resumable session)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "ya29.fake-gcs-token"


@dataclass
class Stored:
    data: bytes
    metadata: dict[str, str]
    generation: int
    content_type: str


@dataclass
class FakeGcs:
    buckets: set[str] = field(default_factory=set)
    objects: dict[tuple[str, str], Stored] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens_issued: int = 0
    uploads: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def resource(self, bucket: str, name: str) -> dict[str, Any]:
        stored = self.objects[(bucket, name)]
        return {
            "kind": "storage#object",
            "id": f"{bucket}/{name}/{stored.generation}",
            "name": name,
            "bucket": bucket,
            "generation": str(stored.generation),
            "metageneration": "1",
            "contentType": stored.content_type,
            "size": str(len(stored.data)),
            "md5Hash": base64.b64encode(hashlib.md5(stored.data).digest()).decode(),
            "crc32c": "AAAAAA==",
            "metadata": stored.metadata,
            "timeCreated": "2026-12-03T07:00:00.000Z",
            "updated": "2026-12-03T07:00:00.000Z",
        }

    def store(self, bucket: str, meta: dict[str, Any], data: bytes, content_type: str) -> Any:
        with self.lock:
            self.uploads += 1
            self.objects[(bucket, meta["name"])] = Stored(
                data, dict(meta.get("metadata") or {}), self.uploads, content_type
            )
        return self.resource(bucket, meta["name"])


def _error(code: int, message: str, reason: str) -> bytes:
    body = {"error": {"code": code, "message": message, "errors": [
        {"message": message, "domain": "global", "reason": reason}
    ]}}  # fmt: skip
    return json.dumps(body).encode()


def handler(fake: FakeGcs) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: object) -> None:
            pass

        def _send(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None,
                  content_type: str = "application/json; charset=UTF-8") -> None:  # fmt: skip
            self.send_response(code)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if body or code not in (204, 308):
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # gcsfs dropped a request it raced
                self.close_connection = True

        def _json(self, code: int, value: Any) -> None:
            self._send(code, json.dumps(value).encode())

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                return True
            self._send(401, _error(401, "Invalid Credentials", "authError"))
            return False

        def _route(self) -> tuple[str, dict[str, list[str]]]:
            parts = urlsplit(self.path)
            return parts.path, parse_qs(parts.query)

        def do_POST(self) -> None:
            path, query = self._route()
            body = self._body()
            if path == "/token":
                form = parse_qs(body.decode())
                if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
                    self._json(400, {"error": "unsupported_grant_type"})
                    return
                fake.tokens_issued += 1
                self._json(200, {"access_token": TOKEN, "expires_in": 3599,
                                 "token_type": "Bearer"})  # fmt: skip
                return
            if not self._authorised():
                return
            if path.startswith("/resumable/"):
                self._chunk(path.rsplit("/", 1)[1], body)
                return
            found = re.fullmatch(r"/upload/storage/v1/b/([^/]+)/o", path)
            if found is None:
                self._send(404, _error(404, "Not Found", "notFound"))
                return
            bucket = unquote(found.group(1))
            if bucket not in fake.buckets:
                self._send(404, _error(404, "The specified bucket does not exist.", "notFound"))
                return
            kind = query.get("uploadType", [""])[0]
            if kind == "multipart":
                self._json(200, self._multipart(bucket, body))
            elif kind == "resumable":
                meta = json.loads(body or b"{}")
                meta.setdefault("name", unquote(query.get("name", [""])[0]))
                session = uuid.uuid4().hex
                fake.sessions[session] = {
                    "bucket": bucket, "meta": meta, "data": bytearray(),
                    "type": self.headers.get("X-Upload-Content-Type", "application/octet-stream"),
                }  # fmt: skip
                host = self.headers.get("Host")
                self._send(200, b"", {"Location": f"http://{host}/resumable/{session}"})
            else:
                self._send(400, _error(400, f"Invalid uploadType {kind!r}", "invalid"))

        def _multipart(self, bucket: str, body: bytes) -> Any:
            boundary = re.search(r'boundary="?([^";]+)"?', self.headers["Content-Type"])
            assert boundary is not None
            mark = b"--" + boundary.group(1).encode()
            parts = body.split(mark)
            meta_part, data_part = parts[1], parts[2]
            meta = json.loads(meta_part.split(b"\n\n", 1)[1])
            head, data = data_part.split(b"\n\n", 1)
            content_type = head.decode().split("Content-Type:", 1)[1].strip()
            return fake.store(bucket, meta, data[: -1 if data.endswith(b"\n") else None],
                              content_type)  # fmt: skip

        def _chunk(self, session_id: str, body: bytes) -> None:
            session = fake.sessions.get(session_id)
            if session is None:
                self._send(404, _error(404, "No such upload session", "notFound"))
                return
            found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", self.headers["Content-Range"])
            assert found is not None
            start, total = int(found.group(1)), found.group(3)
            data: bytearray = session["data"]
            if start != len(data):
                self._send(308, b"", {"Range": f"bytes=0-{len(data) - 1}"})
                return
            data.extend(body)
            if total != "*" and len(data) == int(total):
                del fake.sessions[session_id]
                self._json(200, fake.store(session["bucket"], session["meta"], bytes(data),
                                           session["type"]))  # fmt: skip
            else:
                self._send(308, b"", {"Range": f"bytes=0-{len(data) - 1}"})

        def do_GET(self) -> None:
            if not self._authorised():
                return
            path, query = self._route()
            media = re.fullmatch(r"/download/storage/v1/b/([^/]+)/o/(.+)", path)
            one = re.fullmatch(r"/storage/v1/b/([^/]+)/o/(.+)", path)
            listing = re.fullmatch(r"/storage/v1/b/([^/]+)/o", path)
            bucket_only = re.fullmatch(r"/storage/v1/b/([^/]+)", path)
            if media or one:
                found = media or one
                assert found is not None
                key = (unquote(found.group(1)), unquote(found.group(2)))
                if key not in fake.objects:
                    self._send(404, _error(404, f"No such object: {'/'.join(key)}", "notFound"))
                elif media or query.get("alt") == ["media"]:
                    self._send(200, fake.objects[key].data, content_type="application/octet-stream")
                else:
                    self._json(200, fake.resource(*key))
            elif listing:
                self._list(unquote(listing.group(1)), query)
            elif bucket_only and unquote(bucket_only.group(1)) in fake.buckets:
                self._json(200, {"kind": "storage#bucket", "name": unquote(bucket_only.group(1))})
            else:
                self._send(404, _error(404, "The specified bucket does not exist.", "notFound"))

        def _list(self, bucket: str, query: dict[str, list[str]]) -> None:
            if bucket not in fake.buckets:
                self._send(404, _error(404, "The specified bucket does not exist.", "notFound"))
                return
            prefix = query.get("prefix", [""])[0]
            delimiter = query.get("delimiter", [""])[0]
            items, prefixes = [], set()
            for b, name in sorted(fake.objects):
                if b != bucket or not name.startswith(prefix):
                    continue
                rest = name[len(prefix) :]
                if delimiter and delimiter in rest:
                    prefixes.add(prefix + rest.split(delimiter, 1)[0] + delimiter)
                else:
                    items.append(fake.resource(b, name))
            answer: dict[str, Any] = {"kind": "storage#objects", "items": items}
            if prefixes:
                answer["prefixes"] = sorted(prefixes)
            self._json(200, answer)

        def do_DELETE(self) -> None:
            if not self._authorised():
                return
            path, _ = self._route()
            found = re.fullmatch(r"/storage/v1/b/([^/]+)/o/(.+)", path)
            key = (unquote(found.group(1)), unquote(found.group(2))) if found else None
            if key is None or fake.objects.pop(key, None) is None:
                self._send(404, _error(404, "No such object", "notFound"))
            else:
                self._send(204)

    return Handler


@contextmanager
def gcs_server() -> Iterator[tuple[FakeGcs, str]]:
    """The fake and its address (http://127.0.0.1:PORT)."""
    fake = FakeGcs()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(fake))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def service_account_key(token_uri: str) -> str:
    """A service account's JSON key with a real RSA key (the token request is signed)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return json.dumps({
        "type": "service_account", "project_id": "cadence-test",
        "private_key_id": "0123456789abcdef", "private_key": pem,
        "client_email": "cadence@cadence-test.iam.gserviceaccount.com",
        "client_id": "1234567890", "token_uri": token_uri,
    })  # fmt: skip
