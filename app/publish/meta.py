"""Instagram Reels and Facebook Reels as publishing destinations, never posted twice.

Instagram: a Reels container is made, its id stored before the first byte, the video sent
to it with Meta's resumable upload, its processing waited for, then ``media_publish``. Any
later attempt asks the container first: ``PUBLISHED`` is recorded (the post is found among
the account's recent media), ``FINISHED`` is published, an unfinished upload is sent again
into the same container (a container is never a post until it is published). Before
``media_publish`` the attempt notes that it is publishing; an answer lost there (a 5xx, a
kill) is settled by the container's status and the account's recent media, never by a
second publish. The account's 24-hour publishing limit is read before each post: a post
waits for it.

Facebook: a Page's Reel is started (its video id stored before the first byte), uploaded —
resumed from the bytes Meta reports —, and finished as published, or scheduled when its time
is ahead (Meta publishes it then, as YouTube does). A finish whose answer was lost is settled
by the video's publishing status.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.domain.meta import FACEBOOK_DAILY, instagram_caption, length_refusal, video_refusal
from app.domain.publishing import PublishConfig, UploadStatus
from app.google.publisher import PublishOutcome
from app.publish import posts
from app.publish.destination import DestinationError, register
from app.publish.meta_accounts import GUIDE, MetaAccounts
from app.publish.meta_api import Graph, MetaError
from app.store.models import Channel, Item, Upload, utcnow

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger(__name__)
REEL_URL = "https://www.facebook.com/reel/{}"
LATE = timedelta(minutes=10)  # Facebook schedules at least this far ahead


class _Stopped(Exception):
    pass


def _file_refusal(platform: str, video: Path) -> str | None:
    """What Meta's Reels specifications say of the file (one ffmpeg cannot read is Meta's)."""
    facts = posts.stream_facts(video)
    return video_refusal(platform, video.suffix, *facts) if facts else None


class MetaDestination(ABC):
    """What Instagram and Facebook Reels share: the upload row, the account, the limits."""

    name = ""
    label = ""

    def __init__(
        self,
        services: Services,
        accounts: MetaAccounts | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        poll_every: float = 5.0,
        polls: int = 120,
    ) -> None:
        self.services, self.db = services, services.db
        self.accounts = accounts or services.meta
        self.clock, self.sleep = clock, sleep
        self.poll_every, self.polls = poll_every, polls

    def signed_in(self) -> list[str]:
        with self.db.read() as session:
            return list(session.scalars(select(Channel.id).where(
                Channel.platform == self.name, Channel.hold.is_(None))))  # fmt: skip

    def uploads_left_today(self, channel: str) -> int:
        return max(
            0, FACEBOOK_DAILY - len(self._posted_since(channel, self.clock() - timedelta(1)))
        )

    def status(self, channel: str, video_id: str) -> str | None:
        with self.db.read() as session:
            found = session.scalar(select(Upload.status).where(
                Upload.destination == self.name, Upload.video_id == video_id))  # fmt: skip
        return str(found) if found else None

    def reschedule(self, channel: str, video_id: str, when: datetime) -> str:
        raise DestinationError(f"a video already on {self.label} cannot be moved from Cadence")

    def publish(
        self,
        item_id: int,
        progress: Callable[[float], None],
        stop: threading.Event,
        cancel: threading.Event,
    ) -> PublishOutcome:
        read = self._read(item_id)
        if isinstance(read, PublishOutcome):
            return read
        account, title, row = read["account"], read["title"], read["row"]
        for renew in (False, True):
            try:
                graph = self.accounts.graph(account, renew=renew)
                return self._post(graph, item_id, read, progress, stop, cancel)
            except _Stopped:
                return PublishOutcome("canceled" if cancel.is_set() else "stopped")
            except MetaError as exc:
                if exc.kind == "auth" and not renew:
                    continue
                return self._failed(exc, account, title, row)
        raise AssertionError("unreachable")

    @abstractmethod
    def _post(self, graph: Graph, item_id: int, read: dict[str, Any],
              progress: Callable[[float], None], stop: threading.Event,
              cancel: threading.Event) -> PublishOutcome:  # fmt: skip
        """One attempt at the post, with the account's Graph token: Instagram's or Facebook's."""

    # Reading and writing the upload's row

    def _read(self, item_id: int) -> dict[str, Any] | PublishOutcome:
        with self.db.read() as session:
            item = session.get(Item, item_id)
            assert item is not None
            upload = item.upload_to(self.name)
            assert upload is not None
            account = posts.account_of(session, upload, self.label, "accounts add instagram")
            if isinstance(account, PublishOutcome):
                return account
            outputs, row = dict(item.outputs or {}), item.row_number
            config = PublishConfig.from_dict(item.job.publish)
            label, publish_at = posts.label(account), upload.publish_at
        files = posts.rendered(outputs, row)
        if isinstance(files, PublishOutcome):
            return files
        video, metadata = files.video, files.metadata
        refusal = length_refusal(self.name, files.seconds) or _file_refusal(self.name, video)
        if refusal:
            return PublishOutcome("failed", f"row {row}: {self.label}: {refusal}")
        text = instagram_caption(
            str(metadata.get("title") or ""),
            str(metadata.get("description") or ""),
            files.tags,
        )
        return {"account": upload.channel_id, "title": label, "row": row, "video": video,
                "caption": text, "config": config, "publish_at": publish_at}  # fmt: skip

    def _row(self, item_id: int) -> dict[str, Any]:
        with self.db.read() as session:
            upload = session.get(Upload, (item_id, self.name))
            assert upload is not None
            return {"post_id": upload.post_id, "uri": upload.session_uri,
                    "state": dict(upload.state or {})}  # fmt: skip

    def _write(self, item_id: int, **values: Any) -> None:
        with self.db.write() as session:
            upload = session.get(Upload, (item_id, self.name))
            assert upload is not None
            for key, value in values.items():
                setattr(upload, key, value)

    def _done(self, item_id: int, post_id: str, url: str, status: UploadStatus) -> PublishOutcome:
        with self.db.read() as session:
            upload = session.get(Upload, (item_id, self.name))
            planned = upload.publish_at if upload is not None else None
        note = None
        if planned is not None and self.clock() - planned > timedelta(minutes=5):
            late = self.clock() - planned
            hours, minutes = divmod(int(late.total_seconds() // 60), 60)
            span = f"{hours} h {minutes} min" if hours else f"{minutes} min"
            note = (
                f"posted {span} late: this computer was off or asleep at "
                f"{planned.astimezone():%a %d %b %H:%M}"
            )
        self._write(item_id, video_id=post_id, url=url or None, status=status.value,
                    session_uri=None, actual_privacy="public", note=note)  # fmt: skip
        log.info("item %s posted to %s", item_id, self.label)
        return PublishOutcome("done", status=status.value)

    # Limits and refusals

    def _posted_since(self, account: str, since: datetime) -> list[datetime]:
        made = (UploadStatus.PUBLISHED.value, UploadStatus.SCHEDULED.value)
        return posts.posted_since(self.db, self.name, account, since, made)

    def _daily_wait(self, account: str) -> PublishOutcome:
        now = self.clock()
        posted = self._posted_since(account, now - timedelta(days=1))
        until = posted[0] + timedelta(days=1) if posted else now + timedelta(hours=1)
        return posts.wait(f"{self.label}'s daily limit", max(until, now + timedelta(minutes=1)))

    def _failed(self, exc: MetaError, account: str, title: str, row: int) -> PublishOutcome:
        if exc.kind == "auth":
            reason = (
                f"sign in to Facebook again for {title} ({exc}) — Settings › Accounts or "
                "`accounts add instagram`"
            )
            with self.db.write() as session:
                found = session.get(Channel, account)
                if found is not None:
                    found.hold = reason
            return PublishOutcome("hold", reason)
        if exc.kind == "rate":
            return posts.wait("Meta's rate limit", self.clock() + timedelta(minutes=15))
        if exc.kind == "daily_cap":
            return self._daily_wait(account)
        if exc.kind == "transient":
            return PublishOutcome("retry", str(exc))
        return PublishOutcome("failed", f"row {row}: {self.label}: {exc} ({GUIDE})")

    def _stop_if_asked(self, stop: threading.Event, cancel: threading.Event) -> None:
        if stop.is_set() or cancel.is_set():
            raise _Stopped


class InstagramDestination(MetaDestination):
    name = "instagram_reels"
    label = "Instagram"

    def uploads_left_today(self, channel: str) -> int:
        try:
            used, total = self.accounts.graph(channel).publishing_limit(channel)
        except MetaError:
            return 0
        return max(0, total - used)

    def _post(self, graph: Graph, item_id: int, read: dict[str, Any],
              progress: Callable[[float], None], stop: threading.Event,
              cancel: threading.Event) -> PublishOutcome:  # fmt: skip
        ig, video, caption = read["account"], read["video"], read["caption"]
        row = self._row(item_id)
        container, state = row["post_id"], row["state"]
        if container:
            status = graph.container_status(container)
            if status == "PUBLISHED":
                return self._published(graph, item_id, ig, container, caption, state)
            if state.get("publishing_since") and status == "FINISHED":
                found = self._find(graph, ig, caption, state)  # a publish that did land
                if found:
                    return self._record(graph, item_id, found)
            if status == "ERROR":
                self._write(item_id, post_id=None, session_uri=None, state={})
                return PublishOutcome(
                    "failed",
                    f"row {read['row']}: Instagram could not process the video — check it plays; "
                    "retry the job to send it again",
                )
            if status == "EXPIRED":
                container = None  # a day passed unpublished: a new container, no post lost
            elif status == "FINISHED":
                return self._publish(graph, item_id, ig, container, caption, state)
            elif not state.get("uploaded"):
                # Cut off before the video was whole: that container is left to expire (a
                # container is no post until it is published) and a new one takes the video.
                container = None
        if not container:
            used, total = graph.publishing_limit(ig)
            if used >= total:
                return self._daily_wait(ig)
            self._stop_if_asked(stop, cancel)
            share = bool((read["config"].extra or {}).get("share_to_feed", True))
            self._write(item_id, status=UploadStatus.UPLOADING.value,
                        session_started_at=self.clock())  # fmt: skip
            container, uri = graph.reel_container(ig, caption, share)
            state = {"made_at": self.clock().isoformat()}
            # Stored before the first byte: every later attempt asks this container first.
            self._write(item_id, post_id=container, session_uri=uri,
                        file_size=video.stat().st_size, state=state)  # fmt: skip
            graph.upload(uri, video, 0)
            state = {**state, "uploaded": True}
            self._write(item_id, state=state, offset=video.stat().st_size)
            progress(0.9)
        for _ in range(self.polls):
            status = graph.container_status(container)
            if status == "FINISHED":
                return self._publish(graph, item_id, ig, container, caption, state)
            if status == "PUBLISHED":
                return self._published(graph, item_id, ig, container, caption, state)
            if status in ("ERROR", "EXPIRED"):
                self._write(item_id, post_id=None, session_uri=None, state={})
                return PublishOutcome(
                    "failed", f"row {read['row']}: Instagram could not process the video ({status})"
                )
            self._stop_if_asked(stop, cancel)
            self.sleep(self.poll_every)
        return PublishOutcome("retry", "Instagram is still processing the video")

    def _publish(self, graph: Graph, item_id: int, ig: str, container: str, caption: str,
                 state: dict[str, Any]) -> PublishOutcome:  # fmt: skip
        used, total = graph.publishing_limit(ig)  # read before each post
        if used >= total:
            return self._daily_wait(ig)
        state = {**state, "publishing_since": self.clock().isoformat()}
        self._write(item_id, state=state)  # said before asking: a lost answer is looked up
        media_id = graph.media_publish(ig, container)
        return self._record(graph, item_id, {"id": media_id})

    def _published(self, graph: Graph, item_id: int, ig: str, container: str, caption: str,
                   state: dict[str, Any]) -> PublishOutcome:  # fmt: skip
        found = self._find(graph, ig, caption, state)
        return self._record(graph, item_id, found or {"id": container})

    def _find(
        self, graph: Graph, ig: str, caption: str, state: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The post a publish made, among the account's recent media (same caption, made
        since the publish was asked)."""
        since = state.get("publishing_since") or state.get("made_at")
        for media in graph.recent_media(ig):
            stamp = str(media.get("timestamp") or "")
            when = datetime.fromisoformat(stamp.replace("+0000", "+00:00")) if stamp else None
            if media.get("caption") == caption and (
                since is None
                or when is None
                or when >= datetime.fromisoformat(since) - timedelta(minutes=1)
            ):
                return dict(media)
        return None

    def _record(self, graph: Graph, item_id: int, media: dict[str, Any]) -> PublishOutcome:
        media_id = str(media["id"])
        url = str(media.get("permalink") or "") or graph.permalink(media_id)
        return self._done(item_id, media_id, url, UploadStatus.PUBLISHED)


class FacebookDestination(MetaDestination):
    name = "facebook"
    label = "Facebook"

    def _post(self, graph: Graph, item_id: int, read: dict[str, Any],
              progress: Callable[[float], None], stop: threading.Event,
              cancel: threading.Event) -> PublishOutcome:  # fmt: skip
        page, video = read["account"], read["video"]
        size = video.stat().st_size
        row = self._row(item_id)
        video_id, state = row["post_id"], row["state"]
        offset = 0
        if video_id:
            status = graph.reel_status(str(video_id))
            publishing = status.get("publishing_phase") or {}
            if publishing.get("status") == "complete":
                return self._finished(item_id, str(video_id), publishing)
            uploading = status.get("uploading_phase") or {}
            if uploading.get("status") == "complete" or state.get("uploaded"):
                offset = size
            else:
                offset = int(uploading.get("bytes_transferred") or 0)
        else:
            if len(self._posted_since(page, self.clock() - timedelta(days=1))) >= FACEBOOK_DAILY:
                return self._daily_wait(page)
            self._stop_if_asked(stop, cancel)
            self._write(item_id, status=UploadStatus.UPLOADING.value,
                        session_started_at=self.clock())  # fmt: skip
            video_id, url = graph.reel_start(page)
            # Stored before the first byte: every later attempt asks this video first.
            self._write(item_id, post_id=video_id, session_uri=url, file_size=size, state={})
            row = {"uri": url}
        if offset < size:
            self._stop_if_asked(stop, cancel)
            graph.upload(str(row["uri"]), video, offset)
            self._write(item_id, offset=size, state={**state, "uploaded": True})
        progress(0.95)
        when = read["publish_at"]
        ahead = when is not None and when - self.clock() >= LATE
        graph.reel_finish(page, str(video_id), read["caption"],
                          int(when.timestamp()) if ahead else None)  # fmt: skip
        landed = UploadStatus.SCHEDULED if ahead else UploadStatus.PUBLISHED
        return self._done(item_id, str(video_id), REEL_URL.format(video_id), landed)

    def _finished(self, item_id: int, video_id: str, publishing: dict[str, Any]) -> PublishOutcome:
        scheduled = publishing.get("publish_status") == "scheduled"
        status = UploadStatus.SCHEDULED if scheduled else UploadStatus.PUBLISHED
        return self._done(item_id, video_id, REEL_URL.format(video_id), status)


register("instagram_reels", InstagramDestination)
register("facebook", FacebookDestination)
