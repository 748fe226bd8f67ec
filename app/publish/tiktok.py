"""TikTok as a publishing destination: Direct Post from this computer, never twice.

TikTok cannot schedule a post, so an item's TikTok upload waits for its publish time and goes
out then. The post's ``publish_id`` is stored the moment TikTok gives it, before the first
byte is sent; every later attempt — after a dropped line, a kill, a reboot — first asks
TikTok's status for that id: a finished post is only recorded, a half-sent video goes on from
the bytes TikTok confirms, a fully sent one is waited for. A second ``init`` happens only when
the first can no longer become a post (it failed, or its upload address expired before the
video was whole). Limits — six inits a minute, the daily posting cap — make the post wait.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.domain.publishing import PublishConfig, UploadStatus
from app.domain.tiktok import (
    INITS_PER_MINUTE,
    MB,
    ChunkPlan,
    TikTokPrivacy,
    caption,
    chunk_plan,
    video_refusal,
)
from app.google.publisher import PublishOutcome
from app.publish import posts
from app.publish.destination import DestinationError, register
from app.publish.tiktok_accounts import GUIDE, TikTokAccounts
from app.publish.tiktok_api import TikTokAPI, TikTokError
from app.store.models import Channel, Item, Upload, utcnow

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger(__name__)
POST_URL = "https://www.tiktok.com/@{}/video/{}"
UPLOAD_URL_LIFE = timedelta(minutes=55)  # TikTok's upload address lives an hour
DAILY_CAP = 15  # posts a creator may make through the API in 24 hours (TikTok's guidance)
FAIL_WORDS = {
    "file_format_check_failed": "TikTok could not read the video file",
    "duration_check_failed": "the video is longer than this account may post",
    "frame_rate_check_failed": "TikTok refused the frame rate (23–60 fps)",
    "picture_size_check_failed": "TikTok refused the picture size (360–4096 px a side)",
    "spam_risk_too_many_posts": "the account reached TikTok's daily posting limit",
    "spam_risk_user_banned_from_posting": "TikTok has banned this account from posting",
    "spam_risk_text": "TikTok judged the caption as spam — change the row's title or description",
    "auth_removed": "the account removed Cadence's access",
}
AGAIN = {"internal", "publish_cancelled", "spam_risk_too_many_posts"}  # no post: send anew

LATE = timedelta(minutes=5)  # a post later than this says so
_INITS: dict[str, deque[datetime]] = {}
_INITS_LOCK = threading.Lock()


class _Stopped(Exception):
    pass


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def _file_refusal(video: Path) -> str | None:
    """What TikTok's limits say of the file (a file ffmpeg cannot read is TikTok's to judge)."""
    facts = posts.stream_facts(video)
    return video_refusal(video.suffix, video.stat().st_size, *facts) if facts else None


class TikTokDestination:
    name = "tiktok"

    def __init__(
        self,
        services: Services,
        accounts: TikTokAccounts | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        chunk_bytes: int = 10 * MB,
        poll_every: float = 3.0,
        polls: int = 100,
    ) -> None:
        self.services = services
        self.db = services.db
        self.accounts = accounts or services.tiktok
        self.clock, self.sleep = clock, sleep
        self.chunk_bytes, self.poll_every, self.polls = chunk_bytes, poll_every, polls

    # The destination's interface

    def signed_in(self) -> list[str]:
        with self.db.read() as session:
            return list(
                session.scalars(
                    select(Channel.id).where(Channel.platform == "tiktok", Channel.hold.is_(None))
                )
            )

    def uploads_left_today(self, channel: str) -> int:
        return max(0, DAILY_CAP - len(self._posted_since(channel, self.clock() - timedelta(1))))

    def status(self, channel: str, video_id: str) -> str | None:
        with self.db.read() as session:
            found = session.scalar(
                select(Upload.status).where(
                    Upload.destination == "tiktok", Upload.video_id == video_id
                )
            )
        return str(found) if found else None

    def reschedule(self, channel: str, video_id: str, when: datetime) -> str:
        raise DestinationError("a video already on TikTok cannot be moved — TikTok posts at once")

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
        account, title, config, row, video, text, duration = read
        for renew in (False, True):
            try:
                api = self.accounts.api(account, renew=renew)
                return self._post(api, item_id, account, config, video, text, duration, progress,
                                  stop, cancel)  # fmt: skip
            except _Stopped:
                return PublishOutcome("canceled" if cancel.is_set() else "stopped")
            except TikTokError as exc:
                if exc.kind == "auth" and not renew:
                    continue  # the access token may have ended: renewed once, then asked again
                return self._failed(exc, account, title, row)
        raise AssertionError("unreachable")

    # Reading what an attempt needs

    def _read(self, item_id: int) -> Any:
        with self.db.read() as session:
            item = session.get(Item, item_id)
            assert item is not None
            upload = item.upload_to("tiktok")
            assert upload is not None
            account = posts.account_of(session, upload, "TikTok", "accounts add tiktok")
            if isinstance(account, PublishOutcome):
                return account
            config = PublishConfig.from_dict(item.job.publish)
            outputs, row, name = dict(item.outputs or {}), item.row_number, posts.label(account)
        files = posts.rendered(outputs, row)
        if isinstance(files, PublishOutcome):
            return files
        video, metadata = files.video, files.metadata
        description = str(metadata.get("description") or "").split("\n\nChapters:")[0]
        text = caption(str(metadata.get("title") or ""), description, files.tags)
        return upload.channel_id, name, config, row, video, text, files.seconds

    # Posting

    def _post(
        self,
        api: TikTokAPI,
        item_id: int,
        account: str,
        config: PublishConfig,
        video: Path,
        text: str,
        duration: float,
        progress: Callable[[float], None],
        stop: threading.Event,
        cancel: threading.Event,
    ) -> PublishOutcome:
        upload = self._upload_row(item_id)
        post_id, url, state = upload["post_id"], upload["url"], upload["state"]
        size = video.stat().st_size
        offset = 0
        if post_id:
            status = api.status(post_id)
            if status.status == "PUBLISH_COMPLETE":
                return self._done(item_id, account, config, status.post_ids)
            if status.status == "FAILED":
                if status.fail_reason not in AGAIN:
                    return self._refused(item_id, status.fail_reason)
                post_id = None  # it never became a post: sent anew
            elif status.uploaded_bytes >= size or status.status != "PROCESSING_UPLOAD":
                return self._await(api, item_id, account, config, post_id, stop)
            elif self.clock() - datetime.fromisoformat(state["opened_at"]) > UPLOAD_URL_LIFE:
                post_id = None  # its upload address expired half-way: no post can come of it
            else:
                offset = status.uploaded_bytes
        if not post_id:
            refusal = _file_refusal(video)
            if refusal:
                return PublishOutcome("failed", f"TikTok: {refusal}")
            creator = api.creator_info()
            refusal = creator.refusal(config.tiktok, duration)
            if refusal:
                return PublishOutcome("failed", refusal)
            waiting = self._rate_wait(account)
            if waiting is not None:
                return waiting
            plan = chunk_plan(size, self.chunk_bytes)
            post_info = config.tiktok.post_info(text, creator)
            self._write(
                item_id, status=UploadStatus.UPLOADING.value, session_started_at=self.clock()
            )
            post_id, url = api.init_post(post_info, plan)
            state = {
                "opened_at": self.clock().isoformat(),
                "chunk_size": plan.chunk_size,
                "count": plan.count,
                "username": creator.username,
                "privacy": config.tiktok.privacy.value if config.tiktok.privacy else "",
            }
            # Stored before the first byte: whatever happens next, this post is asked after.
            self._write(item_id, post_id=post_id, session_uri=url, file_size=size, offset=0,
                        state=state)  # fmt: skip
        else:
            self._write(item_id, status=UploadStatus.UPLOADING.value)
        plan = ChunkPlan(size, int(state["chunk_size"]), int(state["count"]))
        self._send(api, item_id, str(url), video, plan, offset, progress, stop, cancel, post_id)
        return self._await(api, item_id, account, config, post_id, stop)

    def _send(
        self,
        api: TikTokAPI,
        item_id: int,
        url: str,
        video: Path,
        plan: ChunkPlan,
        offset: int,
        progress: Callable[[float], None],
        stop: threading.Event,
        cancel: threading.Event,
        post_id: str,
    ) -> None:
        index, troubles = plan.index_at(offset), 0
        while index < plan.count:
            if stop.is_set() or cancel.is_set():
                raise _Stopped
            try:
                whole = api.put_chunk(url, video, plan, index)
            except TikTokError as exc:
                if exc.kind == "gone":  # the upload address expired: that post never comes
                    self._write(item_id, post_id=None, session_uri=None, offset=0)
                if exc.kind != "transient" or troubles >= 5:
                    raise
                troubles += 1
                self.sleep(min(30.0, 2.0**troubles))
                status = api.status(post_id)  # where TikTok stands: the chunks it has
                if status.uploaded_bytes >= plan.size or status.status != "PROCESSING_UPLOAD":
                    return
                index = plan.index_at(status.uploaded_bytes)
                continue
            start, length = plan.span(index)
            self._write(item_id, offset=start + length)
            progress((start + length) / plan.size)
            if whole:
                return
            index += 1

    def _await(
        self,
        api: TikTokAPI,
        item_id: int,
        account: str,
        config: PublishConfig,
        post_id: str,
        stop: threading.Event,
    ) -> PublishOutcome:
        """The video is whole at TikTok: wait for it to become a post."""
        for _ in range(self.polls):
            status = api.status(post_id)
            if status.status == "PUBLISH_COMPLETE":
                return self._done(item_id, account, config, status.post_ids)
            if status.status == "FAILED":
                return self._refused(item_id, status.fail_reason)
            if stop.is_set():
                raise _Stopped
            self.sleep(self.poll_every)
        return PublishOutcome("retry", "TikTok is still processing the video")

    def _done(
        self, item_id: int, account: str, config: PublishConfig, post_ids: tuple[str, ...]
    ) -> PublishOutcome:
        with self.db.write() as session:
            upload = session.get(Upload, (item_id, "tiktok"))
            channel = session.get(Channel, account)
            assert upload is not None
            username = str((upload.state or {}).get("username") or "")
            if not username and channel is not None:
                username = channel.handle.lstrip("@")
            private = config.tiktok.privacy is TikTokPrivacy.SELF_ONLY or not post_ids
            upload.video_id = post_ids[0] if post_ids else upload.post_id
            upload.url = POST_URL.format(username, post_ids[0]) if post_ids else None
            if upload.url is None and username:
                upload.url = f"https://www.tiktok.com/@{username}"
            upload.offset = upload.file_size or upload.offset
            upload.session_uri = None
            upload.actual_privacy = "private" if private else "public"
            upload.status = (UploadStatus.PRIVATE if private else UploadStatus.PUBLISHED).value
            notes = []
            if private:
                notes.append(
                    "posted to TikTok as Only me (private) — an app TikTok has not audited "
                    "can post only privately; make it public in the TikTok app"
                )
            late = self.clock() - upload.publish_at if upload.publish_at else timedelta(0)
            if late > LATE:
                planned = upload.publish_at.astimezone() if upload.publish_at else None
                notes.append(
                    f"posted {_span(late)} late: this computer was off or asleep at "
                    f"{planned:%a %d %b %H:%M}"
                )
            upload.note = "; ".join(notes) or None
            status = upload.status
        log.info("item %s posted to TikTok", item_id)
        return PublishOutcome("done", status=status)

    def _refused(self, item_id: int, reason: str) -> PublishOutcome:
        words = FAIL_WORDS.get(reason, f"TikTok did not post the video ({reason or 'no reason'})")
        self._write(item_id, post_id=None, session_uri=None, offset=0)
        return PublishOutcome("failed", f"TikTok: {words}")

    # Limits

    def _rate_wait(self, account: str) -> PublishOutcome | None:
        now = self.clock()
        with _INITS_LOCK:
            recent = _INITS.setdefault(account, deque())
            while recent and now - recent[0] >= timedelta(minutes=1):
                recent.popleft()
            if len(recent) >= INITS_PER_MINUTE:
                until = recent[0] + timedelta(minutes=1)
                return posts.wait("TikTok's rate limit (6 posts a minute)", until)
            recent.append(now)
        return None

    def _posted_since(self, account: str, since: datetime) -> list[datetime]:
        made = (UploadStatus.PUBLISHED.value, UploadStatus.PRIVATE.value)
        return posts.posted_since(self.db, "tiktok", account, since, made)

    def _failed(self, exc: TikTokError, account: str, title: str, row: int) -> PublishOutcome:
        now = self.clock()
        if exc.kind == "auth":
            reason = (
                f"sign in to TikTok as {title} again ({exc}) — Settings › Accounts or "
                "`accounts add tiktok`"
            )
            self._hold(account, reason)
            return PublishOutcome("hold", reason)
        if exc.kind == "rate":
            return posts.wait("TikTok's rate limit", now + timedelta(minutes=1))
        if exc.kind == "daily_cap":
            posted = self._posted_since(account, now - timedelta(days=1))
            until = posted[0] + timedelta(days=1) if posted else now + timedelta(hours=1)
            return posts.wait(
                "TikTok's daily posting limit", max(until, now + timedelta(minutes=1))
            )
        if exc.kind == "user_cap":
            return posts.wait(
                "TikTok's limit on accounts an unaudited app may post for (5 a day)",
                now + timedelta(hours=1),
            )
        if exc.kind in ("transient", "gone"):
            return PublishOutcome("retry", str(exc))
        if exc.code == "unaudited_client_can_only_post_to_private_accounts":
            return PublishOutcome(
                "failed",
                f"row {row}: TikTok has not audited your app, so it may post only as Only me "
                "(SELF_ONLY) to an account set to private — choose that privacy, make the "
                f"account private, or have the app audited ({GUIDE})",
            )
        return PublishOutcome("failed", f"row {row}: {exc}")

    def _hold(self, account: str, reason: str) -> None:
        from app.store.jobs import audit

        with self.db.write() as session:
            channel = session.get(Channel, account)
            if channel is not None and channel.hold != reason:
                channel.hold = reason
                audit(session, "Cadence", "channel.hold", "channel", None, channel=account)

    # The upload's row

    def _upload_row(self, item_id: int) -> dict[str, Any]:
        with self.db.read() as session:
            upload = session.get(Upload, (item_id, "tiktok"))
            assert upload is not None
            return {
                "post_id": upload.post_id,
                "url": upload.session_uri,
                "state": dict(upload.state or {}),
            }

    def _write(self, item_id: int, **values: Any) -> None:
        with self.db.write() as session:
            upload = session.get(Upload, (item_id, "tiktok"))
            assert upload is not None
            for key, value in values.items():
                setattr(upload, key, value)


register("tiktok", TikTokDestination)
