"""The YouTube Data API v3 through google-api-python-client (its bundled discovery document:
nothing is fetched at start-up), with errors a user can act on.

The transport is httplib2 under google-auth's `AuthorizedHttp` (a 401 refreshes the token
once). Three things are changed on purpose:
- requests for Google's hosts go to ``CADENCE_GOOGLE_ENDPOINT`` when it is set — upload
  addresses included, which googleapiclient builds with https whatever the API endpoint says;
- 308 is not a redirect (it is the resumable protocol's "resume incomplete");
- a resumable session's address is handed to ``on_session`` the moment Google gives it, so
  it is stored before a single byte of the video is sent.
Upload bodies are bytes, never a stream: httplib2 resends a request after some dropped
connections, and a stream it already read would then be sent empty and hang.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httplib2
from google.auth.credentials import Credentials
from google.auth.exceptions import GoogleAuthError, RefreshError, TransportError
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload

from app.domain.errors import UserError
from app.google import endpoints

log = logging.getLogger(__name__)
SCOPE = "https://www.googleapis.com/auth/youtube"
"""One scope: ``youtube.upload`` covers uploads and thumbnails, ``youtube.readonly`` the channel
and status reads, but ``videos.update`` (rescheduling) and ``playlistItems.insert`` accept only
``youtube``, ``youtube.force-ssl`` or ``youtubepartner`` — and ``youtube`` covers the rest."""
TIMEOUT = 60.0  # seconds without an answer before a request counts as dropped
WATCH_URL = "https://www.youtube.com/watch?v={}"
BATCH = 50  # video ids a videos.list call may name

# httplib2 resends a request itself after some connection errors; the upload code already
# asks the session where it stands instead, so one attempt at this level is enough.
httplib2.RETRIES = 1


class YouTubeError(UserError):
    """A YouTube request that did not succeed, classified by what to do about it.

    kind: auth (sign in again) | quota (the project's daily quota) | upload_limit (the
    channel's own limit) | transient (try again) | gone (the upload session expired) |
    fatal (the item fails with the message).
    """

    def __init__(self, kind: str, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.reason = reason


def _reason(error: HttpError) -> tuple[str, str]:
    """Google's error reason and message from an error body."""
    try:
        body = json.loads(error.content.decode("utf-8", "replace"))["error"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", str(getattr(error.resp, "reason", "") or "")
    errors = body.get("errors") or [{}]
    return str(errors[0].get("reason", "")), str(body.get("message", ""))


def classify(exc: BaseException) -> YouTubeError:
    """What an exception from the client means for the item."""
    if isinstance(exc, YouTubeError):
        return exc
    if isinstance(exc, HttpError):
        status = int(exc.resp.status)
        reason, message = _reason(exc)
        plain = message.split("<a")[0].strip() or f"HTTP {status}"
        if status == 401:
            return YouTubeError("auth", "YouTube refused the stored sign-in", reason)
        if reason == "quotaExceeded":
            return YouTubeError("quota", "the Google project's YouTube quota for today is used up")
        if reason == "uploadLimitExceeded":
            return YouTubeError(
                "upload_limit", "the channel reached YouTube's own limit of uploads for now"
            )
        if status == 429 and "per day" in message:
            return YouTubeError("quota", "YouTube's video uploads per day are used up", reason)
        if status in (404, 410) and reason in ("", "notFound", "gone"):
            return YouTubeError("gone", f"the upload session has expired ({status})", reason)
        if status == 429 or status >= 500:
            return YouTubeError("transient", f"YouTube answered {status} ({plain})", reason)
        if status == 403 and reason == "insufficientPermissions":
            return YouTubeError("auth", f"YouTube refused the request: {plain}", reason)
        return YouTubeError("fatal", f"YouTube refused the request ({status}): {plain}", reason)
    if isinstance(exc, RefreshError):
        return YouTubeError("auth", "Google refused to refresh the sign-in (revoked or expired)")
    if isinstance(exc, TransportError | GoogleAuthError):
        return YouTubeError("transient", f"Google's sign-in service cannot be reached ({exc})")
    if isinstance(
        exc,
        OSError | socket.timeout | ssl.SSLError | httplib2.HttpLib2Error | ConnectionError,
    ):
        return YouTubeError("transient", f"YouTube cannot be reached ({type(exc).__name__})")
    raise exc


class RedirectingHttp(httplib2.Http):
    """httplib2 with the endpoint override, 308 as a status, and a hook for new sessions."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        codes: frozenset[int] = frozenset(httplib2.REDIRECT_CODES)
        self.redirect_codes = codes - {308}
        self.on_session: Callable[[str], None] | None = None

    def request(
        self, uri: str, method: str = "GET", *args: Any, **kwargs: Any
    ) -> tuple[Any, bytes]:
        response, content = super().request(endpoints.url(uri), method, *args, **kwargs)
        if (
            method == "POST"
            and "uploadType=resumable" in uri
            and response.status == 200
            and "location" in response
            and self.on_session is not None
        ):
            self.on_session(response["location"])
        return response, content


class _BytesUpload(MediaFileUpload):
    """A chunked file upload whose chunks are bytes (see the module's note)."""

    def has_stream(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    id: str
    title: str
    handle: str


@dataclass(frozen=True, slots=True)
class VideoState:
    privacy: str
    publish_at: str | None
    upload_status: str
    processing: str


class YouTube:
    """One signed-in channel's client. ``spend(units)`` is told the quota each call costs."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        on_refreshed: Callable[[Credentials], None] | None = None,
        spend: Callable[[int], None] | None = None,
        costs: dict[str, int] | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self.credentials = credentials
        self.transport = RedirectingHttp(timeout)
        self.http = AuthorizedHttp(credentials, http=self.transport)
        self.service = build(
            "youtube", "v3", http=self.http, static_discovery=True, cache_discovery=False
        )
        self.on_refreshed = on_refreshed
        self.spend = spend or (lambda _units: None)
        self.costs = {"read": 1, "write": 50, **(costs or {})}

    def _run(self, request: Any, cost: str = "read") -> Any:
        token = self.credentials.token
        try:
            return request.execute(num_retries=0)
        except Exception as exc:
            raise classify(exc) from exc
        finally:
            self.spend(self.costs[cost])
            self._stored_if_refreshed(token)

    def _stored_if_refreshed(self, before: str | None) -> None:
        if self.on_refreshed is not None and self.credentials.token != before:
            self.on_refreshed(self.credentials)

    # Reads

    def my_channel(self) -> ChannelInfo:
        answer = self._run(self.service.channels().list(part="snippet", mine=True))
        items = answer.get("items") or []
        if not items:
            raise YouTubeError(
                "fatal", "this Google account has no YouTube channel — create one on YouTube"
            )
        snippet = items[0].get("snippet", {})
        return ChannelInfo(
            str(items[0]["id"]), str(snippet.get("title", "")), str(snippet.get("customUrl", ""))
        )

    def video_state(self, video_id: str) -> VideoState | None:
        answer = self._run(self.service.videos().list(part="status,processingDetails", id=video_id))
        items = answer.get("items") or []
        if not items:
            return None
        status = items[0].get("status", {})
        processing = items[0].get("processingDetails", {})
        return VideoState(
            str(status.get("privacyStatus", "")),
            status.get("publishAt"),
            str(status.get("uploadStatus", "")),
            str(processing.get("processingStatus", "")),
        )

    def find_upload(self, title: str, since: datetime, size: int | None) -> str | None:
        """The id of a video of this channel with ``title`` uploaded after ``since`` (and of
        ``size`` bytes when YouTube says), or None: whether an earlier attempt made it."""
        answer = self._run(self.service.channels().list(part="contentDetails", mine=True))
        items = answer.get("items") or []
        if not items:
            return None
        uploads = items[0]["contentDetails"]["relatedPlaylists"]["uploads"]
        listing = self._run(
            self.service.playlistItems().list(part="snippet", playlistId=uploads, maxResults=50)
        )
        earliest = since - timedelta(minutes=10)
        for entry in listing.get("items") or []:
            snippet = entry.get("snippet", {})
            if snippet.get("title") != title:
                continue
            when = datetime.fromisoformat(
                str(snippet.get("publishedAt", "")).replace("Z", "+00:00")
            )
            if when < earliest:
                continue
            video_id = str(snippet["resourceId"]["videoId"])
            if size is not None and self._file_size(video_id) not in (None, size):
                continue
            return video_id
        return None

    def statistics(self, video_ids: Sequence[str]) -> dict[str, tuple[int, int | None, int | None]]:
        """Views, likes and comments by video id, ``BATCH`` videos a request (one read each).
        A video YouTube no longer lists (deleted, made private) is left out; a hidden like
        count or disabled comments is None."""
        found: dict[str, tuple[int, int | None, int | None]] = {}
        for start in range(0, len(video_ids), BATCH):
            batch = ",".join(video_ids[start : start + BATCH])
            answer = self._run(self.service.videos().list(part="statistics", id=batch))
            for item in answer.get("items") or []:
                figures = item.get("statistics") or {}
                found[str(item["id"])] = (
                    _count(figures, "viewCount") or 0,
                    _count(figures, "likeCount"),
                    _count(figures, "commentCount"),
                )
        return found

    def _file_size(self, video_id: str) -> int | None:
        answer = self._run(self.service.videos().list(part="fileDetails", id=video_id))
        items = answer.get("items") or []
        size = items[0].get("fileDetails", {}).get("fileSize") if items else None
        return int(size) if size is not None else None

    # Writes

    def upload_request(self, path: Path, body: dict[str, Any], chunk: int) -> Any:
        """A resumable ``videos.insert`` request (nothing is sent until ``next_chunk``)."""
        media = _BytesUpload(str(path), mimetype="video/*", chunksize=chunk, resumable=True)
        return self.service.videos().insert(
            part="snippet,status", body=body, media_body=media, notifySubscribers=True
        )

    def next_chunk(self, request: Any) -> tuple[Any, Any]:
        """One step of a resumable upload: (progress or None, the video when done)."""
        token = self.credentials.token
        try:
            return request.next_chunk(num_retries=0)
        except Exception as exc:
            raise classify(exc) from exc
        finally:
            self._stored_if_refreshed(token)

    def set_thumbnail(self, video_id: str, image: Path) -> None:
        mimetype = "image/png" if image.suffix.lower() == ".png" else "image/jpeg"
        media = MediaFileUpload(str(image), mimetype=mimetype, resumable=False)
        try:
            self._run(self.service.thumbnails().set(videoId=video_id, media_body=media), "write")
        finally:
            media.stream().close()

    def add_to_playlist(self, video_id: str, playlist: str) -> None:
        body = {
            "snippet": {
                "playlistId": playlist,
                "resourceId": {"kind": "youtube#video", "videoId": video_id},
            }
        }
        self._run(self.service.playlistItems().insert(part="snippet", body=body), "write")

    def reschedule(self, video_id: str, publish_at: datetime) -> VideoState:
        """A new publish time for a video that is not public yet."""
        current = self._run(self.service.videos().list(part="status", id=video_id))
        items = current.get("items") or []
        if not items:
            raise YouTubeError("fatal", f"video {video_id} is not on the channel any more")
        status = dict(items[0].get("status", {}))
        if status.get("privacyStatus") == "public" and not status.get("publishAt"):
            raise YouTubeError("fatal", f"video {video_id} is already public")
        status["privacyStatus"] = "private"
        status["publishAt"] = rfc3339(publish_at)
        answer = self._run(
            self.service.videos().update(part="status", body={"id": video_id, "status": status}),
            "write",
        )
        new = answer.get("status", {})
        return VideoState(str(new.get("privacyStatus", "")), new.get("publishAt"), "", "")


def _count(figures: dict[str, Any], name: str) -> int | None:
    """One of the statistics (sent as strings), or None when YouTube leaves it out."""
    try:
        return int(figures[name])
    except (KeyError, TypeError, ValueError):
        return None


def rfc3339(moment: datetime) -> str:
    from datetime import UTC

    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def video_body(
    metadata: dict[str, Any],
    *,
    privacy: str,
    publish_at: datetime | None,
    category: str,
    made_for_kids: bool,
    synthetic_media: bool,
) -> dict[str, Any]:
    """The ``videos.insert`` resource from a rendered video's metadata."""
    snippet: dict[str, Any] = {
        "title": metadata["title"],
        "description": metadata.get("description", ""),
        "tags": list(metadata.get("tags", [])),
        "categoryId": category,
    }
    language = metadata.get("language")
    if language:
        snippet["defaultLanguage"] = language
        snippet["defaultAudioLanguage"] = language
    status: dict[str, Any] = {
        "privacyStatus": privacy,
        "selfDeclaredMadeForKids": made_for_kids,
        "containsSyntheticMedia": synthetic_media,
        "embeddable": True,
        "license": "youtube",
    }
    if publish_at is not None:
        status["publishAt"] = rfc3339(publish_at)
    return {"snippet": snippet, "status": status}
