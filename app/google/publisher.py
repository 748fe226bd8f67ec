"""Publishing one rendered item to YouTube, so that it is never lost and never doubled.

The `uploads` row is the upload's memory. The resumable session's address, the file size
and the confirmed offset are stored as soon as they are known; after a crash, a kill, a
reboot or a dropped connection the next attempt asks the session where it stands and goes
on from there. A second ``videos.insert`` happens only when the session is gone (404/410)
and the channel's uploads show that the first attempt made no video. Once the video exists
its id is stored before anything else happens; the thumbnail, the playlist and the status
check are steps recorded one by one, so a retry does only what is left.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from app.domain.publishing import (
    AUDIT_FORM,
    Privacy,
    PublishConfig,
    UploadStatus,
    metadata_problems,
    upload_privacy,
)
from app.google.channels import Channels
from app.google.quota import QuotaLedger, QuotaLimits
from app.google.youtube import WATCH_URL, YouTube, YouTubeError, video_body
from app.store.database import Database
from app.store.models import Channel, Item, Upload, utcnow

log = logging.getLogger(__name__)
SHORTS_SECONDS = 180  # a Short is at most 3 minutes


@dataclass(frozen=True, slots=True)
class PublishSettings:
    chunk_bytes: int = 8 * 1024 * 1024
    attempts: int = 6  # tries per request for transient failures, with growing waits
    max_wait: float = 60.0  # seconds, the longest wait between those tries
    limits: QuotaLimits = field(default_factory=QuotaLimits)


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    """How an attempt ended. kind: done | wait (until ``until``) | hold (the channel needs
    signing in) | retry (transient; the engine decides when) | failed | stopped | canceled."""

    kind: str
    message: str = ""
    until: datetime | None = None
    status: str = ""  # done: scheduled | published | private


class _Stopped(Exception):
    pass


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, YouTubeError) and exc.kind == "transient"


class Publisher:
    def __init__(
        self,
        db: Database,
        channels: Channels,
        ledger: QuotaLedger,
        settings: PublishSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        client: Callable[..., YouTube] | None = None,
        destination: str = "youtube",  # or youtube_shorts: the item's 9:16 copy, ≤ 3 minutes
    ) -> None:
        self.destination = destination
        self.db = db
        self.channels = channels
        self.ledger = ledger
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.client = client or channels.client

    def publish(
        self,
        item_id: int,
        progress: Callable[[float], None] = lambda _f: None,
        stop: threading.Event | None = None,
        cancel: threading.Event | None = None,
    ) -> PublishOutcome:
        """One attempt at putting the item's video on its channel: uploaded (or resumed where
        the last attempt stopped), its thumbnail and playlist set, its state checked."""
        stop, cancel = stop or threading.Event(), cancel or threading.Event()
        read = self._read(item_id)
        if isinstance(read, PublishOutcome):
            return read
        upload, config, row, outputs, video_id, done, channel_title, project, plan = read
        metadata = self._metadata(outputs, row)
        if isinstance(metadata, PublishOutcome):
            return metadata
        today = self.ledger.today(project)
        if video_id is None and not today.can_upload:
            return self._quota_wait("the YouTube quota for today is used up")

        def spend(units: int) -> None:
            self.ledger.spend(project, units=units)

        try:
            youtube = self.client(
                upload.channel_id,
                spend=spend,
                costs={"read": self.settings.limits.read, "write": self.settings.limits.write},
            )
            if video_id is None:
                body = video_body(
                    metadata,
                    privacy=upload_privacy(plan[0], plan[1], self.clock()).value,
                    publish_at=plan[1] if plan[1] and plan[1] > self.clock() else None,
                    category=config.category,
                    made_for_kids=bool(config.made_for_kids),
                    synthetic_media=config.synthetic_media,
                )
                video_id = self._upload(
                    youtube,
                    item_id,
                    project,
                    Path(self._video(outputs)),
                    body,
                    progress,
                    stop,
                    cancel,
                )
            return self._finish(
                youtube, item_id, video_id, outputs, config, plan, done, metadata["title"]
            )
        except _Stopped:
            return PublishOutcome("canceled" if cancel.is_set() else "stopped")
        except YouTubeError as exc:
            return self._failed(exc, upload.channel_id, channel_title, project, row)

    def _read(self, item_id: int) -> Any:
        """What an attempt needs, read in one go — or the hold when the channel cannot take
        it (not signed in, or signed out by Google)."""
        with self.db.read() as session:
            item = session.get(Item, item_id)
            assert item is not None
            upload = item.upload_to(self.destination)
            assert upload is not None
            channel = session.get(Channel, upload.channel_id)
            if channel is None:
                return PublishOutcome(
                    "hold",
                    f"the channel {upload.channel_id} is not signed in — sign it in with "
                    "`auth login --youtube`, or create the job again for another channel",
                )
            if channel.hold:
                return PublishOutcome("hold", channel.hold)
            return (
                upload,
                PublishConfig.from_dict(item.job.publish),
                item.row_number,
                dict(item.outputs or {}),
                upload.video_id,
                list(upload.steps_done or []),
                channel.title,
                channel.project,
                (Privacy(upload.privacy), upload.publish_at),
            )

    # Steps

    def _video(self, outputs: dict[str, Any]) -> str:
        """The file this destination takes: a Short is the 9:16 copy (or the video itself,
        when the job renders 9:16)."""
        if self.destination == "youtube_shorts":
            return str((outputs.get("renditions") or {}).get("9:16") or outputs.get("video") or "")
        return str(outputs.get("video") or "")

    def _metadata(self, outputs: dict[str, Any], row: int) -> dict[str, Any] | PublishOutcome:
        video = self._video(outputs)
        if not video or not Path(video).is_file():
            return PublishOutcome(
                "failed",
                f"row {row}: the rendered video {video or ''} is missing — it was moved or "
                "deleted; retry the job to render it again",
            )
        try:
            metadata = json.loads(Path(outputs["metadata"]).read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError):
            return PublishOutcome(
                "failed", f"row {row}: the video's metadata file cannot be read — retry the job"
            )
        problems = metadata_problems(metadata)
        seconds = float(metadata.get("duration_seconds") or 0)
        if self.destination == "youtube_shorts" and seconds > SHORTS_SECONDS:
            return PublishOutcome(
                "failed",
                f"row {row}: the video is {seconds:.0f} s; a YouTube Short is at most "
                f"{SHORTS_SECONDS} s — shorten the row's script or duration",
            )
        if problems:
            field, problem = problems[0]
            return PublishOutcome("failed", f"row {row}, {field}: {problem} — fix it in the sheet")
        return metadata

    def _retrying(self, stop: threading.Event) -> Retrying:
        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.info("YouTube request failed (%s); trying again", error)

        return Retrying(
            retry=retry_if_exception(_transient),
            wait=wait_random_exponential(multiplier=1, max=self.settings.max_wait),
            stop=stop_after_attempt(self.settings.attempts),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )

    def _upload(
        self,
        youtube: YouTube,
        item_id: int,
        project: str,
        path: Path,
        body: dict[str, Any],
        progress: Callable[[float], None],
        stop: threading.Event,
        cancel: threading.Event,
    ) -> str:
        size = path.stat().st_size
        found = self._lost_session(youtube, item_id, body, size)
        if found is not None:
            return self._uploaded(item_id, found)
        request = self._request(youtube, item_id, project, path, body, size)
        retrying = self._retrying(stop)
        while True:
            if stop.is_set() or cancel.is_set():
                raise _Stopped
            try:
                _progress, response = retrying(youtube.next_chunk, request)
            except YouTubeError as exc:
                if exc.kind != "gone":
                    request._in_error_state = True  # the next attempt asks where it stands
                    raise
                found = self._made_before(youtube, item_id, body, size)
                if found is not None:
                    return self._uploaded(item_id, found)
                log.info("upload session of item %s expired; starting a new one", item_id)
                request = self._request(youtube, item_id, project, path, body, size, fresh=True)
                continue
            if response is not None:
                return self._uploaded(item_id, str(response["id"]))
            offset = int(request.resumable_progress)
            with self.db.write() as session:
                upload = session.get(Upload, (item_id, self.destination))
                assert upload is not None
                upload.offset = offset
            progress(offset / size if size else 1.0)

    def _request(
        self,
        youtube: YouTube,
        item_id: int,
        project: str,
        path: Path,
        body: dict[str, Any],
        size: int,
        fresh: bool = False,
    ) -> Any:
        """The insert request: resuming the stored session (a status query comes first), or
        a new one whose address is stored the moment Google gives it."""
        request = youtube.upload_request(path, body, self.settings.chunk_bytes)
        with self.db.write() as session:
            upload = session.get(Upload, (item_id, self.destination))
            assert upload is not None
            if fresh:
                upload.session_uri, upload.offset = None, 0
            upload.status = UploadStatus.UPLOADING.value
            uri, known_size = upload.session_uri, upload.file_size
            if not (uri and known_size == size):
                # A session is about to be opened: said before asking, so that a kill after
                # Google opened it and before its address was stored is known afterwards
                # (`_lost_session`), and the channel is searched before another is opened.
                upload.session_started_at = self.clock()
        if uri and known_size == size:
            request.resumable_uri = uri
            request._in_error_state = True  # first ask the session where it stands
            return request

        def opened(location: str) -> None:
            with self.db.write() as session:
                upload = session.get(Upload, (item_id, self.destination))
                assert upload is not None
                upload.session_uri, upload.file_size, upload.offset = location, size, 0
            self.ledger.spend(project, uploads=1)

        youtube.transport.on_session = opened
        return request

    def _lost_session(
        self, youtube: YouTube, item_id: int, body: dict[str, Any], size: int
    ) -> str | None:
        """An earlier attempt opened a session whose address was never stored (Cadence was
        stopped in that instant): the video, if that session made one — else None, and a new
        session is opened (the lost one received no byte, so it makes no video)."""
        with self.db.read() as session:
            upload = session.get(Upload, (item_id, self.destination))
            assert upload is not None
            lost = upload.session_uri is None and upload.session_started_at is not None
        return self._made_before(youtube, item_id, body, size) if lost else None

    def _made_before(
        self, youtube: YouTube, item_id: int, body: dict[str, Any], size: int
    ) -> str | None:
        with self.db.read() as session:
            upload = session.get(Upload, (item_id, self.destination))
            assert upload is not None
            since = upload.session_started_at
        if since is None:
            return None
        return youtube.find_upload(body["snippet"]["title"], since, size)

    def _uploaded(self, item_id: int, video_id: str) -> str:
        """The video exists: its id is stored before anything else can go wrong."""
        with self.db.write() as session:
            upload = session.get(Upload, (item_id, self.destination))
            assert upload is not None
            upload.video_id, upload.url = video_id, WATCH_URL.format(video_id)
            upload.session_uri = None
            upload.offset = upload.file_size or upload.offset
            upload.status = UploadStatus.UPLOADED.value
            item = session.get(Item, item_id)
            assert item is not None
            if self.destination == "youtube" or item.video_id is None:
                item.video_id = video_id
        log.info("item %s uploaded as video %s", item_id, video_id)
        return video_id

    def _step(self, item_id: int, name: str, act: Callable[[], None], refused: str) -> None:
        """A step after the upload, recorded as done; if YouTube refuses it (not a quota or
        network trouble, which are raised for a later try) the video still counts and the
        item says why (``refused`` with the reason in ``{}``)."""
        note = None
        try:
            act()
        except YouTubeError as exc:
            if exc.kind != "fatal":
                raise
            note = refused.format(exc)
        with self.db.write() as session:
            upload = session.get(Upload, (item_id, self.destination))
            assert upload is not None
            upload.steps_done = [*upload.steps_done, name]
            if note:
                upload.note = "; ".join(filter(None, [upload.note, note]))

    def _finish(
        self,
        youtube: YouTube,
        item_id: int,
        video_id: str,
        outputs: dict[str, Any],
        config: PublishConfig,
        plan: tuple[Privacy, datetime | None],
        done: list[str],
        title: str,
    ) -> PublishOutcome:
        retrying = self._retrying(threading.Event())
        thumbnail = outputs.get("thumbnail")
        if "thumbnail" not in done and thumbnail and Path(thumbnail).is_file():
            self._step(
                item_id,
                "thumbnail",
                lambda: retrying(youtube.set_thumbnail, video_id, Path(thumbnail)),
                "the thumbnail was not set ({}) — custom thumbnails need a verified channel "
                "(youtube.com/verify)",
            )
        if "playlist" not in done and config.playlist:
            self._step(
                item_id,
                "playlist",
                lambda: retrying(youtube.add_to_playlist, video_id, config.playlist),
                f"not added to playlist {config.playlist} ({{}})",
            )
        state = retrying(youtube.video_state, video_id)
        actual = state.privacy if state else ""
        status, note = self._landed(plan, state)
        with self.db.write() as session:
            upload = session.get(Upload, (item_id, self.destination))
            assert upload is not None
            upload.status = status.value
            upload.actual_privacy = actual or None
            if note:
                upload.note = "; ".join(filter(None, [upload.note, note]))
            if "checked" not in upload.steps_done:
                upload.steps_done = [*upload.steps_done, "checked"]
        log.info("item %s: video %s is %s", item_id, video_id, status.value)
        return PublishOutcome("done", note or "", status=status.value)

    def _landed(
        self, plan: tuple[Privacy, datetime | None], state: Any
    ) -> tuple[UploadStatus, str | None]:
        """The video's status as YouTube shows it — and a note when YouTube kept private
        what was meant to be public (an unverified API project)."""
        asked, publish_at = plan
        scheduled = publish_at is not None and publish_at > self.clock()
        status = UploadStatus.SCHEDULED if scheduled else UploadStatus.PUBLISHED
        if asked is Privacy.PRIVATE and not scheduled:
            return UploadStatus.PRIVATE, None
        kept_private = (
            state is not None
            and state.privacy == "private"
            and ((scheduled and not state.publish_at) or (not scheduled))
        )
        if kept_private:
            return UploadStatus.PRIVATE, (
                "YouTube kept this video private: uploads through an unverified API project "
                "stay private until Google audits the project — request the audit at "
                f"{AUDIT_FORM}, then make the video public in YouTube Studio"
            )
        return status, None

    def _quota_wait(self, why: str) -> PublishOutcome:
        until = self.ledger.today("").resets_at
        local = until.astimezone()
        return PublishOutcome(
            "wait",
            f"{why}: waiting for YouTube quota until {local:%H:%M} ({local:%a %d %b})",
            until,
        )

    def _failed(
        self, exc: YouTubeError, channel_id: str, title: str, project: str, row: int
    ) -> PublishOutcome:
        if exc.kind == "auth":
            reason = (
                f"sign in to {title} again ({exc}) — `accounts add youtube` or Settings › Accounts"
            )
            self.channels.hold(channel_id, reason)
            return PublishOutcome("hold", reason)
        if exc.kind == "quota":
            self.ledger.exhaust(project)
            return self._quota_wait(str(exc))
        if exc.kind == "upload_limit":
            return self._quota_wait(str(exc))
        if exc.kind in ("transient", "gone"):
            return PublishOutcome("retry", str(exc))
        return PublishOutcome("failed", f"row {row}: {exc}")
