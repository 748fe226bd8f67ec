"""Pexels and Pixabay on loopback, speaking their published JSON: video and photo searches
with several renditions each, an empty result, a refused key, 429 with rate-limit headers,
and file downloads with Range support — one of which can be cut off half-way."""

from __future__ import annotations

import io
import json
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from PIL import Image

KEY = "test-key-0123456789"
COLOURS = ["red", "green", "blue", "yellow", "cyan", "magenta", "orange", "purple"]


def make_clip(path: Path, colour: str, size: tuple[int, int], seconds: float = 3.0) -> None:
    width, height = size
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
         f"color=c={colour}:s={width}x{height}:r=25:d={seconds}", "-c:v", "libx264",
         "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip


def make_photo(colour: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


@dataclass
class Stock:
    base_url: str
    folder: Path
    requests: list[str] = field(default_factory=list)  # "GET /path?query" in order
    ranges: list[str] = field(default_factory=list)  # Range headers of file downloads
    over_limit: bool = False  # every search answers 429
    cut_once: set[str] = field(default_factory=set)  # files whose next download is cut
    empty: set[str] = field(default_factory=lambda: {"nothing"})  # queries with no result
    photos_only: set[str] = field(default_factory=set)  # queries with photos but no video
    files: dict[str, bytes] = field(default_factory=dict)

    def searches(self) -> list[str]:
        return [r for r in self.requests if "/files/" not in r]


def _catalogue(stock: Stock, query: str, portrait: bool) -> list[dict[str, Any]]:
    """Three videos per query, each in an HD and an SD rendition of the asked shape."""
    if query in stock.empty or query in stock.photos_only:
        return []
    videos = []
    for n in range(3):
        colour = COLOURS[(hash(query) + n) % len(COLOURS)]
        name = f"{query.replace(' ', '_')}-{n}-{'p' if portrait else 'l'}"
        renditions = []
        for quality, (w, h) in (("hd", (1280, 720)), ("sd", (640, 360))):
            if portrait:
                w, h = h, w
            file = f"{name}-{quality}.mp4"
            if file not in stock.files:
                target = stock.folder / file
                make_clip(target, colour, (w // 4, h // 4))  # small, but announced as (w, h)
                stock.files[file] = target.read_bytes()
            renditions.append((quality, w, h, f"{stock.base_url}/files/{file}"))
        videos.append((f"{abs(hash(name)) % 10**7}", name, renditions))
    return videos


class _Handler(BaseHTTPRequestHandler):
    stock: Stock

    def log_message(self, *_args: Any) -> None:
        pass

    def _json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        stock = self.stock
        stock.requests.append(f"GET {self.path}")
        url = urllib.parse.urlparse(self.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        if url.path.startswith("/files/"):
            self._file(url.path.removeprefix("/files/"))
            return
        if stock.over_limit:
            reset = int(time.time()) + 3600 if url.path.startswith("/v1/") else 3600
            self._json(
                {"error": "Rate limit exceeded"},
                429,
                {"X-Ratelimit-Limit": "200", "X-Ratelimit-Remaining": "0",
                 "X-Ratelimit-Reset": str(reset)},
            )  # fmt: skip
            return
        if url.path.startswith("/v1/"):
            self._pexels(url.path, query)
        elif url.path.startswith("/api/"):
            self._pixabay(url.path, query)
        else:
            self._json({"error": "not found"}, 404)

    def _pexels(self, path: str, query: dict[str, str]) -> None:
        if self.headers.get("Authorization") != KEY:
            self._json({"error": "Authorization field missing or wrong"}, 401)
            return
        words = query.get("query", "")
        portrait = query.get("orientation") == "portrait"
        limits = {"X-Ratelimit-Limit": "20000", "X-Ratelimit-Remaining": "19999",
                  "X-Ratelimit-Reset": str(int(time.time()) + 3600)}  # fmt: skip
        if path == "/v1/videos/search":
            videos = [
                {"id": int(vid), "width": r[0][1], "height": r[0][2],
                 "url": f"https://www.pexels.com/video/{name}-{vid}/", "duration": 3,
                 "image": f"{self.stock.base_url}/files/{name}.jpg",
                 "user": {"id": 7, "name": f"Author {name[:8]}",
                          "url": "https://www.pexels.com/@author"},
                 "video_files": [
                     {"id": n, "quality": q, "file_type": "video/mp4", "width": w, "height": h,
                      "fps": 25, "link": link}
                     for n, (q, w, h, link) in enumerate(r)
                 ],
                 "video_pictures": []}
                for vid, name, r in _catalogue(self.stock, words, portrait)
            ]  # fmt: skip
            self._json({"page": 1, "per_page": 15, "total_results": len(videos),
                        "url": "https://www.pexels.com/search/videos/", "videos": videos},
                       headers=limits)  # fmt: skip
        elif path == "/v1/search":
            photos = []
            if words not in self.stock.empty:
                name = f"{words.replace(' ', '_')}-photo"
                self.stock.files[f"{name}.jpg"] = make_photo("teal", (1600, 900))
                photos.append(
                    {"id": 4242, "width": 1600, "height": 900,
                     "url": f"https://www.pexels.com/photo/{name}-4242/",
                     "photographer": "Photo Person",
                     "photographer_url": "https://www.pexels.com/@photo",
                     "src": {"original": f"{self.stock.base_url}/files/{name}.jpg",
                             "large2x": f"{self.stock.base_url}/files/{name}.jpg"}}
                )  # fmt: skip
            self._json({"page": 1, "per_page": 15, "total_results": len(photos),
                        "photos": photos}, headers=limits)  # fmt: skip
        else:
            self._json({"error": "not found"}, 404)

    def _pixabay(self, path: str, query: dict[str, str]) -> None:
        if query.get("key") != KEY:
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b"[ERROR 400] Invalid or missing API key")
            return
        words = query.get("q", "")
        limits = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "99",
                  "X-RateLimit-Reset": "60"}  # fmt: skip
        if path == "/api/videos/":
            hits = []
            for portrait in (False, True):  # both shapes come back: no orientation filter
                for vid, name, renditions in _catalogue(self.stock, words, portrait):
                    videos = {
                        {"hd": "large", "sd": "medium"}[q]: {
                            "url": link, "width": w, "height": h, "size": 1000,
                            "thumbnail": f"{self.stock.base_url}/files/{name}.jpg"}
                        for q, w, h, link in renditions
                    }  # fmt: skip
                    hits.append({"id": int(vid), "pageURL": f"https://pixabay.com/videos/{vid}/",
                                 "type": "film", "tags": words, "duration": 3, "videos": videos,
                                 "user_id": 99, "user": "Pix Author"})  # fmt: skip
            self._json({"total": len(hits), "totalHits": len(hits), "hits": hits}, headers=limits)
        else:
            self._json({"total": 0, "totalHits": 0, "hits": []}, headers=limits)

    def _file(self, name: str) -> None:
        data = self.stock.files.get(name)
        if data is None:
            self.send_response(404)
            self.end_headers()
            return
        wanted = self.headers.get("Range")
        start = 0
        if wanted:
            self.stock.ranges.append(wanted)
            start = int(wanted.removeprefix("bytes=").split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Type", "video/mp4" if name.endswith(".mp4") else "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if name in self.stock.cut_once:
            self.stock.cut_once.discard(name)
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@contextmanager
def serve(folder: Path) -> Iterator[Stock]:
    folder.mkdir(parents=True, exist_ok=True)
    handler = type("Handler", (_Handler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    stock = Stock(f"http://127.0.0.1:{server.server_address[1]}", folder)
    handler.stock = stock  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stock
    finally:
        server.shutdown()
        server.server_close()
