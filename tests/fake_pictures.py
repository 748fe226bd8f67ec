"""Openverse, the Wikimedia Commons API and NASA's Image and Video Library on loopback,
answering as their documentation says: Openverse's `/v1/images/` with licence codes and
versions (and the `license_type` filter honoured), the MediaWiki API's search generator with
`imageinfo` and its `extmetadata` (licence short name, artist as HTML, NonFree), NASA's
`/search` collection with each item's asset list at its `href` — plus results that must never
be used (NonCommercial, NoDerivatives, GFDL-only, non-free, NASA's insignia), a 429 with
rate-limit headers, and the files themselves."""

from __future__ import annotations

import functools
import io
import json
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.loopback import running

COLOURS = ["teal", "salmon", "gold", "orchid", "steelblue", "olive", "coral", "slateblue"]


@functools.cache
def clip_bytes() -> bytes:
    """A two-second H.264 clip (made once, by the bundled ffmpeg)."""
    import subprocess
    import tempfile

    from imageio_ffmpeg import get_ffmpeg_exe

    with tempfile.TemporaryDirectory() as folder:
        out = f"{folder}/clip.mp4"
        subprocess.run(
            [get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
             "testsrc2=size=960x540:rate=25:duration=2", "-c:v", "libx264",
             "-pix_fmt", "yuv420p", out],
            check=True,
        )  # fmt: skip
        return Path(out).read_bytes()


def picture(name: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    colour = COLOURS[sum(map(ord, name)) % len(COLOURS)]
    Image.new("RGB", size, colour).save(out, "JPEG", quality=85)
    return out.getvalue()


@dataclass
class Pictures:
    base_url: str
    requests: list[str] = field(default_factory=list)
    down: set[str] = field(default_factory=set)  # providers answering 503
    over_limit: set[str] = field(default_factory=set)  # providers answering 429
    empty: set[str] = field(default_factory=set)  # queries with no result anywhere

    def env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for provider in ("openverse", "commons", "nasa"):
            monkeypatch.setenv(
                f"CADENCE_{provider.upper()}_ENDPOINT", f"{self.base_url}/{provider}"
            )

    def fetched(self) -> list[str]:
        return [r.split("/files/")[1] for r in self.requests if "/files/" in r]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)[:40]


class _Handler(BaseHTTPRequestHandler):
    fake: Pictures

    def log_message(self, *_args: Any) -> None:
        pass

    def _send(self, body: bytes, kind: str, status: int = 200, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, body: Any, status: int = 200, **headers: str) -> None:
        self._send(json.dumps(body).encode(), "application/json", status, **headers)

    def do_GET(self) -> None:
        fake = self.fake
        fake.requests.append(f"GET {self.path}")
        url = urllib.parse.urlparse(self.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        provider, _, rest = url.path.lstrip("/").partition("/")
        if rest.startswith("files/") and rest.endswith(".mp4"):
            self._send(clip_bytes(), "video/mp4")
            return
        if rest.startswith("files/"):
            name = rest.removeprefix("files/")
            wide = "tall" not in name
            self._send(picture(name, (1600, 900) if wide else (900, 1600)), "image/jpeg")
            return
        if provider in fake.down:
            self._json({"error": "Service Unavailable"}, 503)
            return
        if provider in fake.over_limit:
            self._json({"detail": "Request was throttled."}, 429, X_RateLimit_Remaining="0",
                       X_RateLimit_Reset="3600")  # fmt: skip
            return
        if provider == "openverse" and rest == "v1/images/":
            self._openverse(query)
        elif provider == "commons" and rest == "w/api.php":
            self._commons(query)
        elif provider == "nasa" and rest == "search":
            self._nasa(query)
        elif provider == "nasa" and rest.endswith("/collection.json"):
            nasa_id = rest.split("/")[1]
            base = f"{self.fake.base_url}/nasa/files/{nasa_id}"
            if nasa_id.endswith("v"):  # a video's renditions, captions and stills
                names = ("~orig.mp4", "~medium.mp4", "~mobile.mp4", "~thumb.jpg", ".srt")
                self._json([f"{base}{name}" for name in names])
                return
            self._json([f"{base}~orig.jpg", f"{base}~large.jpg", f"{base}~thumb.jpg",
                        f"{self.fake.base_url}/nasa/files/{nasa_id}~metadata.json"])  # fmt: skip
        else:
            self._json({"detail": "Not found."}, 404)

    def _files(self, provider: str, name: str, tall: bool) -> str:
        return f"{self.fake.base_url}/{provider}/files/{name}{'-tall' if tall else ''}.jpg"

    def _openverse(self, query: dict[str, str]) -> None:
        words = query.get("q", "")
        if words in self.fake.empty:
            self._json({"result_count": 0, "page_count": 0, "page_size": 20, "page": 1,
                        "results": []})  # fmt: skip
            return
        tall = query.get("aspect_ratio") == "tall"
        commercial = "commercial" in query.get("license_type", "")
        licences = [("by", "4.0"), ("by-nc", "2.0"), ("cc0", "1.0"), ("by-nd", "3.0"),
                    ("by-sa", "2.0"), ("pdm", "1.0")]  # fmt: skip
        results = []
        for n, (code, version) in enumerate(licences):
            if commercial and ("nc" in code or "nd" in code) and n % 2 == 0:
                continue  # the filter is honoured — mostly: the client must check too
            name = f"ov-{_slug(words)}-{n}"
            results.append({
                "id": f"0000-{n}-{_slug(words)}", "title": f"{words} {n}",
                "foreign_landing_url": f"https://www.flickr.com/photos/someone/{n}",
                "url": self._files("openverse", name, tall),
                "creator": f"Photographer {n}", "creator_url": f"https://example.org/p{n}",
                "license": code, "license_version": version,
                "license_url": f"https://creativecommons.org/licenses/{code}/{version}/",
                "provider": "flickr", "source": "flickr", "category": "photograph",
                "filesize": None, "filetype": "jpg", "tags": [],
                "attribution": f'"{words} {n}" by Photographer {n} is licensed under CC …',
                "width": 900 if tall else 1600, "height": 1600 if tall else 900,
                "thumbnail": f"{self.fake.base_url}/openverse/thumb/{n}", "mature": False,
            })  # fmt: skip
        self._json({"result_count": len(results), "page_count": 1, "page_size": 20, "page": 1,
                    "results": results, "warnings": []}, X_RateLimit_Remaining="99",
                   X_RateLimit_Reset="60")  # fmt: skip

    def _commons(self, query: dict[str, str]) -> None:
        if query.get("action") != "query" or query.get("generator") != "search":
            self._json({"error": {"code": "badvalue", "info": "Unrecognized value"}})
            return
        words = query.get("gsrsearch", "").removesuffix(" filetype:bitmap")
        if words in self.fake.empty:
            self._json({"batchcomplete": True})  # no "query" at all, as the API answers
            return
        licences = [
            ("CC BY-SA 4.0", "cc-by-sa-4.0", "false"), ("CC BY-NC 2.0", "cc-by-nc-2.0", "false"),
            ("GFDL", "gfdl", "false"), ("Public domain", "pd", "false"),
            ("CC BY 3.0", "cc-by-3.0", "true"),
        ]  # fmt: skip
        pages = []
        for n, (short, code, nonfree) in enumerate(licences):
            name = f"cm-{_slug(words)}-{n}"
            pages.append({
                "pageid": 1000 + n, "ns": 6, "title": f"File:{name}.jpg", "index": n + 1,
                "imagerepository": "local",
                "imageinfo": [{
                    "size": 2400000, "width": 3200, "height": 1800,
                    "thumburl": self._files("commons", name, False),
                    "thumbwidth": 1920, "thumbheight": 1080,
                    "url": f"{self.fake.base_url}/commons/files/{name}-orig.jpg",
                    "descriptionurl": f"https://commons.wikimedia.org/wiki/File:{name}.jpg",
                    "mime": "image/jpeg",
                    "extmetadata": {
                        "LicenseShortName": {"value": short, "source": "commons-desc-page"},
                        "License": {"value": code, "source": "commons-templates"},
                        "LicenseUrl": {"value": f"https://creativecommons.org/{code}"},
                        "Artist": {"value": f'<a href="//commons.org/wiki/A{n}">A&amp;{n}</a>'},
                        "NonFree": {"value": nonfree},
                        "AttributionRequired": {"value": "true"},
                    },
                }],
            })  # fmt: skip
        self._json({"batchcomplete": True, "query": {"pages": pages}})

    def _nasa(self, query: dict[str, str]) -> None:
        words = query.get("q", "")
        items = []
        if words not in self.fake.empty:
            for n, title in enumerate([f"{words} over the Pacific", "NASA insignia",
                                       f"{words} from orbit"]):  # fmt: skip
                nasa_id = f"PIA{_slug(words)}{n}"
                items.append({
                    "href": f"{self.fake.base_url}/nasa/asset/{nasa_id}/collection.json",
                    "data": [{"nasa_id": nasa_id, "title": title, "media_type": "image",
                              "center": "JPL", "date_created": "2020-01-01T00:00:00Z",
                              "description": "An image.", "keywords": [words]}],
                    "links": [{"href": f"{self.fake.base_url}/nasa/files/{nasa_id}~thumb.jpg",
                               "rel": "preview", "render": "image"}],
                })  # fmt: skip
            if "video" in query.get("media_type", "").split(","):
                nasa_id = f"JSC{_slug(words)}v"
                items.insert(1, {
                    "href": f"{self.fake.base_url}/nasa/asset/{nasa_id}/collection.json",
                    "data": [{"nasa_id": nasa_id, "title": f"{words} in motion",
                              "media_type": "video", "center": "JSC",
                              "date_created": "2021-01-01T00:00:00Z", "keywords": [words]}],
                })  # fmt: skip
        collection = {"version": "1.0", "href": self.path, "items": items,
                      "metadata": {"total_hits": len(items)}, "links": []}  # fmt: skip
        self._json({"collection": collection})


@contextmanager
def serve() -> Iterator[Pictures]:
    with running(_Handler) as server:
        fake = Pictures(f"http://127.0.0.1:{server.server_port}")
        _Handler.fake = fake
        yield fake
