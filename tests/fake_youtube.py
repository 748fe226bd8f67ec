"""The YouTube Data API v3 on loopback, for google-api-python-client's real HTTP code.

Written from the protocol (see the README's testing notes): a resumable ``videos.insert``
whose session answers ``200`` + ``Location``, takes chunks with ``Content-Range``, answers
``308`` + ``Range`` until the last one and a video resource then; a status query
(``Content-Range: bytes */TOTAL``); expired sessions (404); ``videos.list`` with status,
processing and file details; ``videos.update`` of the status; ``thumbnails.set``;
``playlistItems.insert`` and ``list`` (a channel's uploads playlist); ``channels.list?mine``.
Errors come with Google's JSON bodies: 401, 403 quotaExceeded, 400 uploadLimitExceeded,
429 rateLimitExceeded, 5xx. Failures are scripted per test, including a connection dropped
in the middle of a chunk.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

UNIT = 256 * 1024
ERRORS: dict[str, tuple[int, dict[str, Any]]] = {
    "quotaExceeded": (
        403,
        {
            "code": 403,
            "message": "The request cannot be completed because you have exceeded your "
            '<a href="/youtube/v3/getting-started#quota">quota</a>.',
            "errors": [
                {
                    "message": "The request cannot be completed because you have exceeded "
                    'your <a href="/youtube/v3/getting-started#quota">quota</a>.',
                    "domain": "youtube.quota",
                    "reason": "quotaExceeded",
                }
            ],
        },
    ),
    "uploadLimitExceeded": (
        400,
        {
            "code": 400,
            "message": "The user has exceeded the number of videos they may upload.",
            "errors": [
                {
                    "message": "The user has exceeded the number of videos they may upload.",
                    "domain": "youtube.video",
                    "reason": "uploadLimitExceeded",
                }
            ],
        },
    ),
    "rateLimitExceeded": (
        429,
        {
            "code": 429,
            "message": "Too many requests; try again later.",
            "errors": [
                {"message": "Too many requests", "domain": "global", "reason": "rateLimitExceeded"}
            ],
            "status": "RESOURCE_EXHAUSTED",
        },
    ),
    "backendError": (
        503,
        {
            "code": 503,
            "message": "The service is currently unavailable.",
            "errors": [{"message": "Backend Error", "domain": "global", "reason": "backendError"}],
            "status": "UNAVAILABLE",
        },
    ),
    "unauthorized": (
        401,
        {
            "code": 401,
            "message": "Request had invalid authentication credentials.",
            "errors": [
                {
                    "message": "Invalid Credentials",
                    "domain": "global",
                    "reason": "authError",
                    "location": "Authorization",
                }
            ],
            "status": "UNAUTHENTICATED",
        },
    ),
    "notFound": (
        404,
        {
            "code": 404,
            "message": "Not Found",
            "errors": [{"message": "Not Found", "domain": "global", "reason": "notFound"}],
        },
    ),
    "forbidden": (
        403,
        {
            "code": 403,
            "message": "The authenticated user doesn't have permissions to upload and set "
            "custom video thumbnails.",
            "errors": [
                {"message": "forbidden", "domain": "youtube.thumbnail", "reason": "forbidden"}
            ],
        },
    ),
}


@dataclass
class Channel:
    id: str
    title: str
    handle: str

    @property
    def uploads(self) -> str:
        return "UU" + self.id[2:]


@dataclass
class Video:
    id: str
    channel: str
    snippet: dict[str, Any]
    status: dict[str, Any]
    data: bytes
    uploaded_at: datetime
    thumbnail: bytes | None = None
    # As YouTube sends them (strings); a hidden like count or disabled comments: key absent.
    stats: dict[str, str] = field(
        default_factory=lambda: {"viewCount": "0", "likeCount": "0", "favoriteCount": "0",
                                 "commentCount": "0"}
    )  # fmt: skip


@dataclass
class Session:
    id: str
    channel: str
    resource: dict[str, Any]
    total: int
    received: bytearray = field(default_factory=bytearray)
    expired: bool = False
    video: str | None = None


class YouTube:
    """The state behind the fake: channels, videos, sessions, scripted failures."""

    def __init__(self) -> None:
        self.channels: list[Channel] = [
            Channel("UC_x5XG1OV2P6uZZ5FSM9Ttw", "Cadence Test Channel", "@cadencetest")
        ]
        self.token_channel: dict[str, str] = {}  # access token → channel id (default: first)
        self.videos: dict[str, Video] = {}
        self.sessions: dict[str, Session] = {}
        self.playlist_items: list[dict[str, Any]] = []
        self.script: list[str] = []  # failures to play, one per matching request, in order
        self.inserts = 0  # videos.insert sessions opened
        self.locked_private = False  # an unverified project: every upload stays private
        self.chunks: list[tuple[int, int]] = []  # (start, end) of every chunk received
        self.lock = threading.Lock()
        self.status_queries = 0
        self.stat_queries: list[int] = []  # ids named by each videos.list?part=statistics
        self.chunk_delay = 0.0  # seconds each chunk waits before its answer (a slow line)

    # Scripting

    def fail(self, *what: str) -> None:
        """Queue failures: an error name from ERRORS (answered to the next upload request),
        ``drop`` (the next chunk's connection closes halfway), ``hangup`` (the next chunk is
        stored but no answer comes: clients resend it), ``expire`` (the session is
        gone at the next request), ``finish-then-expire`` (the next chunk completes the
        video, but the answer is lost and the session expires)."""
        with self.lock:
            self.script += list(what)

    def _next_failure(self, kinds: set[str]) -> str | None:
        with self.lock:
            if self.script and self.script[0] in kinds:
                return self.script.pop(0)
        return None

    def channel_for(self, token: str) -> Channel:
        wanted = self.token_channel.get(token, self.channels[0].id)
        return next(c for c in self.channels if c.id == wanted)

    def videos_of(self, channel: str) -> list[Video]:
        return [v for v in self.videos.values() if v.channel == channel]

    # The API

    def handle(self, handler: Any, method: str, token_ok: bool, token: str) -> None:
        url = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if not token_ok:
            _drain(handler)
            _error(handler, "unauthorized")
            return
        channel = self.channel_for(token)
        path = url.path
        if path == "/upload/youtube/v3/videos" and method == "PUT":
            self._chunk(handler, query)
            return
        body = _drain(handler)
        if path == "/upload/youtube/v3/videos" and method == "POST":
            failure = self._next_failure(set(ERRORS) - {"forbidden", "notFound"})
            if failure:
                _error(handler, failure)
                return
            resource = json.loads(body or b"{}")
            session = Session(
                f"up{len(self.sessions) + 1}",
                channel.id,
                resource,
                int(handler.headers.get("X-Upload-Content-Length", "0")),
            )
            self.sessions[session.id] = session
            self.inserts += 1
            location = (
                "https://youtube.googleapis.com/upload/youtube/v3/videos?uploadType=resumable"
                f"&part=snippet%2Cstatus&upload_id={session.id}"
            )
            _send(handler, 200, {}, {"Location": location})
        elif path == "/youtube/v3/channels" and method == "GET":
            _send(handler, 200, self._channels(channel, query))
        elif path == "/youtube/v3/videos" and method == "GET":
            ids = query.get("id", "").split(",")
            if len(ids) > 50:  # as YouTube answers a list of more than 50 ids
                self.stat_queries.append(len(ids))
                reason = {"reason": "badRequest", "domain": "youtube.parameter"}
                body = {"error": {"code": 400, "message": "Invalid id.", "errors": [reason]}}
                _send(handler, 400, body)
                return
            if "statistics" in query.get("part", ""):
                self.stat_queries.append(len(ids))
            items = [self._resource(self.videos[i], query["part"]) for i in ids if i in self.videos]
            _send(handler, 200, {"kind": "youtube#videoListResponse", "items": items})
        elif path == "/youtube/v3/videos" and method == "PUT":
            self._update(handler, json.loads(body))
        elif path == "/upload/youtube/v3/thumbnails/set" and method == "POST":
            failure = self._next_failure({"forbidden", "backendError", "quotaExceeded"})
            if failure:
                _error(handler, failure)
                return
            video = self.videos.get(query.get("videoId", ""))
            if video is None:
                _error(handler, "notFound")
                return
            video.thumbnail = body
            _send(
                handler,
                200,
                {
                    "kind": "youtube#thumbnailSetResponse",
                    "items": [
                        {"default": {"url": f"https://i.ytimg.com/vi/{video.id}/default.jpg"}}
                    ],
                },
            )
        elif path == "/youtube/v3/playlistItems" and method == "POST":
            snippet = json.loads(body)["snippet"]
            entry = {
                "kind": "youtube#playlistItem",
                "id": f"PLI{len(self.playlist_items) + 1}",
                "snippet": {**snippet, "position": len(self.playlist_items)},
            }
            self.playlist_items.append(entry)
            _send(handler, 200, entry)
        elif path == "/youtube/v3/playlistItems" and method == "GET":
            self._uploads_playlist(handler, channel, query)
        else:
            _error(handler, "notFound")

    def _channels(self, channel: Channel, query: dict[str, str]) -> dict[str, Any]:
        item: dict[str, Any] = {"kind": "youtube#channel", "etag": "x", "id": channel.id}
        if "snippet" in query.get("part", ""):
            item["snippet"] = {
                "title": channel.title,
                "description": "",
                "customUrl": channel.handle,
                "publishedAt": "2020-01-01T00:00:00Z",
            }
        if "contentDetails" in query.get("part", ""):
            item["contentDetails"] = {"relatedPlaylists": {"likes": "", "uploads": channel.uploads}}
        return {
            "kind": "youtube#channelListResponse",
            "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
            "items": [item],
        }

    def _uploads_playlist(self, handler: Any, channel: Channel, query: dict[str, str]) -> None:
        if query.get("playlistId") != channel.uploads:
            _error(handler, "notFound")
            return
        videos = sorted(self.videos_of(channel.id), key=lambda v: v.uploaded_at, reverse=True)
        items = [
            {
                "kind": "youtube#playlistItem",
                "id": f"UPL{v.id}",
                "snippet": {
                    "publishedAt": v.uploaded_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "channelId": channel.id,
                    "title": v.snippet["title"],
                    "playlistId": channel.uploads,
                    "resourceId": {"kind": "youtube#video", "videoId": v.id},
                },
            }
            for v in videos[: int(query.get("maxResults", "5"))]
        ]
        _send(handler, 200, {"kind": "youtube#playlistItemListResponse", "items": items})

    def _resource(self, video: Video, parts: str) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": "youtube#video", "etag": "x", "id": video.id}
        if "snippet" in parts:
            data["snippet"] = {**video.snippet, "channelId": video.channel}
        if "status" in parts:
            data["status"] = dict(video.status)
        if "processingDetails" in parts:
            data["processingDetails"] = {"processingStatus": "succeeded"}
        if "statistics" in parts:
            data["statistics"] = dict(video.stats)
        if "fileDetails" in parts:
            data["fileDetails"] = {"fileSize": str(len(video.data))}
        return data

    def _create(self, session: Session) -> Video:
        video_id = f"vid{len(self.videos) + 1:08d}"[-11:]
        status = {"uploadStatus": "uploaded", **session.resource.get("status", {})}
        status.setdefault("privacyStatus", "public")
        if self.locked_private:
            status["privacyStatus"] = "private"
            status.pop("publishAt", None)
        video = Video(
            video_id,
            session.channel,
            dict(session.resource.get("snippet", {})),
            status,
            bytes(session.received),
            datetime.now(UTC),
        )
        self.videos[video_id] = video
        session.video = video_id
        return video

    def _chunk(self, handler: Any, query: dict[str, str]) -> None:
        session = self.sessions.get(query.get("upload_id", ""))
        length = int(handler.headers.get("Content-Length") or 0)
        if session is None or session.expired or self._next_failure({"expire"}):
            if session is not None:
                session.expired = True
            _drain(handler)
            _error(handler, "notFound")
            return
        content_range = handler.headers.get("Content-Range", "")
        match = re.fullmatch(r"bytes (\*|(\d+)-(\d+))/(\d+|\*)", content_range.strip())
        if match is None:
            _drain(handler)
            _send(handler, 400, {"error": {"code": 400, "message": "bad Content-Range"}})
            return
        if match.group(1) == "*":  # a status query
            self.status_queries += 1
            _drain(handler)
            self._answer_state(handler, session)
            return
        failure = self._next_failure(
            {"drop", "hangup", "finish-then-expire", *ERRORS} - {"forbidden"}
        )
        start, end = int(match.group(2)), int(match.group(3))
        if failure == "drop":  # read part of the chunk, keep whole units of it, hang up
            part = handler.rfile.read(max(1, length // 2))
            kept = (len(part) // UNIT) * UNIT
            if start == len(session.received):
                session.received += part[:kept]
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        data = handler.rfile.read(length) if length else b""
        if failure in ERRORS:
            _error(handler, failure)
            return
        self.chunks.append((start, end))
        if start > len(session.received) or end - start + 1 != len(data):
            _send(handler, 400, {"error": {"code": 400, "message": "Invalid Content-Range"}})
            return
        overlap = len(session.received) - start  # a resent chunk: only the new bytes count
        if session.received[start:] != data[:overlap]:
            _send(handler, 400, {"error": {"code": 400, "message": "bytes differ from stored"}})
            return
        session.received += data[overlap:]
        if self.chunk_delay:
            import time

            time.sleep(self.chunk_delay)
        if failure == "hangup":  # stored, but the connection closes without an answer
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if failure == "finish-then-expire" and len(session.received) == session.total:
            self._create(session)
            session.expired = True
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        self._answer_state(handler, session)

    def _answer_state(self, handler: Any, session: Session) -> None:
        if session.video is None and len(session.received) == session.total:
            self._create(session)
        if session.video is not None:
            video = self.videos[session.video]
            _send(handler, 201, self._resource(video, "snippet,status"))
            return
        headers = {"Range": f"bytes=0-{len(session.received) - 1}"} if session.received else {}
        _send(handler, 308, None, headers)

    def _update(self, handler: Any, body: dict[str, Any]) -> None:
        video = self.videos.get(body.get("id", ""))
        if video is None:
            _error(handler, "notFound")
            return
        status = body.get("status", {})
        if status.get("publishAt") and video.status.get("privacyStatus") == "public":
            _send(
                handler,
                400,
                {"error": {"code": 400, "message": "The video is already public.",
                           "errors": [{"reason": "invalidPublishAt"}]}},
            )  # fmt: skip
            return
        video.status.update(status)
        _send(handler, 200, self._resource(video, "status"))


def _drain(handler: Any) -> bytes:
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _send(handler: Any, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    data = b"" if body is None else json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=UTF-8")
    handler.send_header("Content-Length", str(len(data)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(data)


def _error(handler: Any, name: str) -> None:
    status, body = ERRORS[name]
    _send(handler, status, {"error": body})
