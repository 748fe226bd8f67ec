"""Publishing to YouTube through google-api-python-client's real HTTP code, against the
loopback fake: resumable uploads that survive drops and restarts, never doubled, scheduled
publishing, thumbnails and playlists, sign-in trouble and quota."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app import ops, queries
from app.domain.errors import UserError
from app.domain.publishing import CHUNK_UNIT
from app.google.channels import token_key
from app.google.quota import QuotaLimits
from app.queries.calendar import Calendar
from app.services import Services
from app.store.models import Channel, Item, Upload
from tests.fake_google import Google
from tests.youtube_helpers import (
    Clock,
    publisher,
    publishing_job,
    render_stand_in,
    sign_in_channel,
    upload_once,
)


def upload_of(workspace: Services, item_id: int) -> Upload:
    with workspace.db.read() as session:
        upload = session.get(Upload, (item_id, "youtube"))
        assert upload is not None
        session.expunge(upload)
        return upload


def item_of(workspace: Services, item_id: int) -> Item:
    with workspace.db.read() as session:
        item = session.get(Item, item_id)
        assert item is not None
        session.expunge(item)
        return item


def ready(workspace: Services, google: Google, tmp_path: Path, **publish: object) -> int:
    sign_in_channel(workspace, google)
    job = publishing_job(workspace, tmp_path, playlist="PLBaidt0ilCManGDIKr8UVBFZwN_UvMKvS",
                         **publish)  # fmt: skip
    [item_id] = render_stand_in(workspace, job, tmp_path / "out")
    return item_id


def the_video_bytes(google: Google, workspace: Services, item_id: int) -> bytes:
    [video] = google.youtube.videos.values()
    assert Path(item_of(workspace, item_id).outputs["video"]).read_bytes() == video.data
    return video.data


def test_a_chunked_upload_publishes_with_thumbnail_and_playlist(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    item_id = ready(workspace, google, tmp_path)
    outcome, state = upload_once(workspace, publisher(workspace), item_id)
    assert (outcome.kind, outcome.status, state) == ("done", "published", "completed")
    data = the_video_bytes(google, workspace, item_id)
    # Chunks of whole 256 KiB units, the last one shorter.
    sizes = [end - start + 1 for start, end in google.youtube.chunks]
    assert all(s == CHUNK_UNIT for s in sizes[:-1]) and sum(sizes) == len(data)
    [video] = google.youtube.videos.values()
    assert video.status["privacyStatus"] == "public" and video.thumbnail
    assert video.status["selfDeclaredMadeForKids"] is False
    assert video.snippet["tags"] == ["sky", "blue sky", "science"]
    assert google.youtube.playlist_items[0]["snippet"]["resourceId"]["videoId"] == video.id
    upload = upload_of(workspace, item_id)
    assert (
        upload.video_id == video.id and upload.url == f"https://www.youtube.com/watch?v={video.id}"
    )
    assert upload.session_uri is None and upload.status == "published"
    assert item_of(workspace, item_id).video_id == video.id
    assert google.youtube.inserts == 1


def test_a_future_publish_time_uploads_private_with_publish_at(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    when = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    item_id = ready(workspace, google, tmp_path, publish_at=when.isoformat())
    outcome, _state = upload_once(workspace, publisher(workspace), item_id)
    [video] = google.youtube.videos.values()
    assert video.status["privacyStatus"] == "private"
    assert video.status["publishAt"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert outcome.status == "scheduled" and upload_of(workspace, item_id).status == "scheduled"


def test_a_dropped_connection_mid_chunk_resumes_where_youtube_stands(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    item_id = ready(workspace, google, tmp_path)
    google.youtube.fail("drop")
    pub = publisher(workspace, chunk_bytes=2 * CHUNK_UNIT)
    outcome, _state = upload_once(workspace, pub, item_id)
    assert outcome.kind == "done"
    the_video_bytes(google, workspace, item_id)
    assert google.youtube.inserts == 1
    status_queries = [p for m, p in google.requests if m == "PUT" and "upload_id" in p]
    assert len(status_queries) >= 3  # chunks, plus the question after the drop


def test_a_server_error_is_retried(google: Google, workspace: Services, tmp_path: Path) -> None:
    item_id = ready(workspace, google, tmp_path)
    google.youtube.fail("backendError", "backendError")
    outcome, _state = upload_once(workspace, publisher(workspace), item_id)
    assert outcome.kind == "done" and google.youtube.inserts == 1
    the_video_bytes(google, workspace, item_id)


def test_after_a_restart_the_upload_asks_the_session_and_continues(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    item_id = ready(workspace, google, tmp_path)
    stop = threading.Event()
    first = publisher(workspace)
    outcome, state = upload_once(
        workspace, first, item_id, progress=lambda _f: stop.set(), stop=stop
    )
    assert (outcome.kind, state) == ("stopped", "pending")
    upload = upload_of(workspace, item_id)
    assert upload.session_uri and upload.offset == CHUNK_UNIT and upload.file_size
    before = len(google.requests)
    outcome, state = upload_once(workspace, publisher(workspace), item_id)  # "after a restart"
    assert (outcome.kind, state) == ("done", "completed")
    first_request = google.requests[before]
    assert first_request[0] == "PUT" and "upload_id=up1" in first_request[1]
    assert google.youtube.chunks[1][0] == CHUNK_UNIT  # went on from the confirmed offset
    assert google.youtube.inserts == 1
    the_video_bytes(google, workspace, item_id)


def test_an_expired_session_without_a_video_starts_a_new_upload(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    item_id = ready(workspace, google, tmp_path)
    stop = threading.Event()
    upload_once(workspace, publisher(workspace), item_id, progress=lambda _f: stop.set(), stop=stop)
    google.youtube.fail("expire")
    outcome, _state = upload_once(workspace, publisher(workspace), item_id)
    assert outcome.kind == "done"
    assert google.youtube.inserts == 2  # the first session made no video: a second one is right
    the_video_bytes(google, workspace, item_id)


def test_an_expired_session_whose_video_exists_is_not_uploaded_again(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    item_id = ready(workspace, google, tmp_path)
    # The last chunk completes the video but its answer is lost, and the session expires.
    pub = publisher(workspace, chunk_bytes=8 * CHUNK_UNIT)  # the whole file is one chunk
    google.youtube.fail("finish-then-expire")
    outcome, _state = upload_once(workspace, pub, item_id)
    assert outcome.kind == "done"
    assert google.youtube.inserts == 1 and len(google.youtube.videos) == 1
    the_video_bytes(google, workspace, item_id)


def test_an_expired_token_is_refreshed_once_and_stored_again(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    item_id = ready(workspace, google, tmp_path)
    google.tokens.discard("token-UC_x5XG1OV2P6uZZ5FSM9Ttw")  # the access token expired
    outcome, _state = upload_once(workspace, publisher(workspace), item_id)
    assert outcome.kind == "done"
    stored = json.loads(workspace.channels.secrets.get(token_key("UC_x5XG1OV2P6uZZ5FSM9Ttw")) or "")
    assert stored["token"].startswith("issued-")
    assert google.token_grants[0]["refresh_token"] == ["refresh-UC_x5XG1OV2P6uZZ5FSM9Ttw"]


def test_a_revoked_sign_in_puts_the_channel_on_hold_and_keeps_the_item(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    item_id = ready(workspace, google, tmp_path)
    google.tokens.discard("token-UC_x5XG1OV2P6uZZ5FSM9Ttw")
    google.refuse_refresh = True
    outcome, state = upload_once(workspace, publisher(workspace), item_id)
    assert (outcome.kind, state) == ("hold", "pending")
    assert "sign in to Cadence Test Channel again" in outcome.message
    with workspace.db.read() as session:
        channel = session.get(Channel, "UC_x5XG1OV2P6uZZ5FSM9Ttw")
        assert channel is not None and channel.hold
    assert upload_of(workspace, item_id).status == "on_hold"
    assert not google.youtube.videos
    from app.store import publishing

    with workspace.db.write() as session:  # held: not claimed until signed in again
        assert publishing.claim_uploads(session, 5, datetime.now(UTC)) == []
        assert publishing.held_uploads(session)[0][2] == 1


def test_quota_exceeded_waits_for_the_pacific_midnight_then_uploads(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    item_id = ready(workspace, google, tmp_path)
    pacific = ZoneInfo("America/Los_Angeles")
    clock = Clock(datetime(2027, 3, 13, 21, 30, tzinfo=pacific).astimezone(UTC))  # before DST
    google.youtube.fail("quotaExceeded")
    pub = publisher(workspace, clock=clock)
    outcome, state = upload_once(workspace, pub, item_id, now=clock.now)
    assert (outcome.kind, state) == ("wait", "pending")
    assert outcome.until == datetime(2027, 3, 14, 0, 0, tzinfo=pacific)
    assert "waiting for YouTube quota until" in outcome.message
    assert item_of(workspace, item_id).not_before == outcome.until
    # Still the same Pacific day: the ledger knows the quota is spent, nothing is asked.
    before = len(google.requests)
    with workspace.db.write() as session:
        session.get(Item, item_id).not_before = None  # type: ignore[union-attr]
    outcome, _state = upload_once(workspace, pub, item_id, now=clock.now)
    assert outcome.kind == "wait" and len(google.requests) == before
    clock.now = outcome.until + timedelta(minutes=1)  # the quota day rolled over
    outcome, state = upload_once(workspace, pub, item_id, now=clock.now)
    assert (outcome.kind, state) == ("done", "completed")
    the_video_bytes(google, workspace, item_id)


def test_the_daily_upload_bucket_is_counted_before_asking(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    item_id = ready(workspace, google, tmp_path)
    pub = publisher(workspace, limits=QuotaLimits(uploads=0))
    outcome, _state = upload_once(workspace, pub, item_id)
    assert outcome.kind == "wait" and google.youtube.inserts == 0


def test_the_channels_upload_limit_waits_instead_of_failing(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    item_id = ready(workspace, google, tmp_path)
    google.youtube.fail("uploadLimitExceeded")
    outcome, state = upload_once(workspace, publisher(workspace), item_id)
    assert (outcome.kind, state) == ("wait", "pending")
    assert "limit of uploads" in outcome.message


def test_metadata_over_youtubes_limits_fails_naming_row_and_field(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    item_id = ready(workspace, google, tmp_path)
    meta = Path(item_of(workspace, item_id).outputs["metadata"])
    data = json.loads(meta.read_text())
    data["tags"] = [f"tag number {n}" for n in range(60)]
    meta.write_text(json.dumps(data))
    outcome, state = upload_once(workspace, publisher(workspace), item_id)
    assert (outcome.kind, state) == ("failed", "failed")
    assert outcome.message.startswith("row 2, tags: add up to")
    assert not google.youtube.inserts


def test_a_video_youtube_keeps_private_says_what_to_do(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    item_id = ready(workspace, google, tmp_path)
    google.youtube.locked_private = True
    outcome, _state = upload_once(workspace, publisher(workspace), item_id)
    assert outcome.status == "private"
    assert "unverified API project" in outcome.message and "yt_api_form" in outcome.message
    assert "yt_api_form" in (upload_of(workspace, item_id).note or "")


def test_a_thumbnail_refused_is_noted_and_the_video_still_counts(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    item_id = ready(workspace, google, tmp_path)
    google.youtube.fail("forbidden")
    outcome, state = upload_once(workspace, publisher(workspace), item_id)
    assert (outcome.kind, state) == ("done", "completed")
    assert "verified channel" in (upload_of(workspace, item_id).note or "")


def test_a_chunk_resent_after_a_lost_answer_does_not_hang(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    """httplib2 resends a request whose answer never came; the chunk is bytes, so the resent
    request carries it whole (a consumed stream would go out empty and wait forever)."""
    item_id = ready(workspace, google, tmp_path)
    google.youtube.fail("hangup")
    result: list[object] = []
    thread = threading.Thread(
        target=lambda: result.append(upload_once(workspace, publisher(workspace), item_id)),
        daemon=True,
    )
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the upload hung"
    [(outcome, _state)] = result  # type: ignore[misc]
    assert outcome.kind == "done" and google.youtube.inserts == 1  # type: ignore[attr-defined]
    the_video_bytes(google, workspace, item_id)


def test_rescheduling_a_scheduled_video_moves_its_publish_time_on_youtube(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    when = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    item_id = ready(workspace, google, tmp_path, publish_at=when.isoformat())
    upload_once(workspace, publisher(workspace), item_id)
    later = when + timedelta(days=2)
    message = ops.publishing.reschedule(workspace, item_id, later).message
    assert "on YouTube" in message
    [video] = google.youtube.videos.values()
    assert video.status["publishAt"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert video.status["privacyStatus"] == "private"
    upload = upload_of(workspace, item_id)
    assert upload.publish_at == later and upload.status == "scheduled"
    with pytest.raises(UserError, match="in the future"):
        ops.publishing.reschedule(workspace, item_id, datetime.now(UTC) - timedelta(hours=1))


def test_a_published_video_cannot_be_rescheduled(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    item_id = ready(workspace, google, tmp_path)
    upload_once(workspace, publisher(workspace), item_id)
    with pytest.raises(UserError, match="already public"):
        ops.publishing.reschedule(workspace, item_id, datetime.now(UTC) + timedelta(days=1))


def test_rescheduling_before_the_upload_changes_the_plan(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    item_id = ready(workspace, google, tmp_path)
    later = (datetime.now(UTC) + timedelta(days=5)).replace(microsecond=0)
    assert "for its upload" in ops.publishing.reschedule(workspace, item_id, later).message
    upload_once(workspace, publisher(workspace), item_id)
    [video] = google.youtube.videos.values()
    assert video.status["privacyStatus"] == "private"
    assert video.status["publishAt"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_calendar_move_of_an_uploaded_video_moves_its_publish_time_on_youtube(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    when = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    item_id = ready(workspace, google, tmp_path, publish_at=when.isoformat())
    upload_once(workspace, publisher(workspace), item_id)
    planner = Calendar(workspace)
    ops.calendar.set_config(planner.services, "", {"blackout_days": [], "timezone": "UTC"})
    state = planner.state(when - timedelta(days=1), when + timedelta(days=1))
    [moving] = [o for o in state.occurrences if o.item_id == item_id]
    assert moving.state == "uploaded" and not moving.needs_upload
    later = when + timedelta(days=1, hours=2)
    assert (
        "on YouTube"
        in ops.calendar.move(planner.services, moving.key, later, calendar=planner).message
    )
    [video] = google.youtube.videos.values()
    assert video.status["publishAt"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_cadence_stopping_never_uses_up_an_uploads_attempts(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    """Three kills mid-upload, a pause and a quota wait: none counts against the item, so the
    first real network trouble afterwards still has every retry left. Render and upload
    attempts are counted apart."""
    from app.store import publishing, queue
    from app.store.models import utcnow

    item_id = ready(workspace, google, tmp_path)
    for _kill in range(3):  # claimed, then the engine dies: the next start recovers
        with workspace.db.write() as session:
            assert publishing.claim_uploads(session, 10, utcnow())
        with workspace.db.write() as session:
            queue.recover(session)
    stop = threading.Event()
    stop.set()
    outcome, _state = upload_once(workspace, publisher(workspace), item_id, stop=stop)
    assert outcome.kind == "stopped"  # a pause or a quit
    assert upload_of(workspace, item_id).attempts == 0
    assert item_of(workspace, item_id).attempts == 1  # its one render
    google.youtube.fail("backendError")  # the first real trouble: YouTube answers 500
    outcome, _state = upload_once(workspace, publisher(workspace, attempts=1), item_id)
    assert outcome.kind == "retry"
    record = queries.jobs.job(workspace, item_of(workspace, item_id).job_id)["items"][0]
    assert (record["attempts"], record["upload_attempts"]) == (1, 1)


def test_a_session_whose_address_was_never_stored_is_looked_for_before_another(
    google: Google, workspace: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed in the instant between YouTube opening a session and Cadence storing its
    address: the mark made before asking says so, and the next attempt searches the channel
    (one video at most, whatever the timing) before it opens a new session."""
    from app.google.youtube import YouTube

    item_id = ready(workspace, google, tmp_path)
    looked: list[str] = []
    find = YouTube.find_upload

    def spy(self: YouTube, title: str, since: datetime, size: int | None) -> str | None:
        looked.append(title)
        return find(self, title, since, size)

    monkeypatch.setattr(YouTube, "find_upload", spy)
    with workspace.db.write() as session:  # what the kill left: a mark, no address
        upload = session.get(Upload, (item_id, "youtube"))
        assert upload is not None
        upload.session_started_at, upload.session_uri = datetime.now(UTC), None
    outcome, _state = upload_once(workspace, publisher(workspace), item_id)
    assert outcome.kind == "done" and len(looked) == 1
    assert len(google.youtube.videos) == 1
    the_video_bytes(google, workspace, item_id)


def test_a_short_goes_to_the_same_channel_from_the_vertical_copy(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    """`--publish youtube,shorts`: the 16:9 video and the 9:16 copy, two videos on the one
    channel; a Short longer than three minutes is refused before a byte is sent."""
    sign_in_channel(workspace, google)
    job = publishing_job(workspace, tmp_path, 2, target="youtube,youtube_shorts")
    items = render_stand_in(workspace, job, tmp_path / "out")
    items += render_stand_in(workspace, job, tmp_path / "out")
    first, second = items
    tall = tmp_path / "out" / "002.9x16.mp4"
    tall.write_bytes(b"vertical" * 40_000)
    with workspace.db.write() as session:
        for item_id in items:
            item = session.get(Item, item_id)
            assert item is not None
            item.outputs = {**item.outputs, "renditions": {"9:16": str(tall)}}
        long = session.get(Item, second)
        assert long is not None
        meta = Path(long.outputs["metadata"])
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "duration_seconds": 200}))
    wide, shorts = publisher(workspace), publisher(workspace, destination="youtube_shorts")

    def next_upload(pub: Any, item_id: int) -> tuple[Any, str]:
        from app.store import publishing
        from app.store.models import utcnow

        with workspace.db.write() as session:
            [claim] = publishing.claim_uploads(session, 1, utcnow())
        assert (claim.item_id, claim.target) == (item_id, pub.destination)
        outcome = pub.publish(item_id)
        with workspace.db.write() as session:
            state = publishing.finish_upload(
                session, claim, outcome.kind, message=outcome.message, status=outcome.status
            )
        return outcome, state

    assert next_upload(wide, first)[0].kind == "done"
    outcome, state = next_upload(shorts, first)
    assert (outcome.kind, state) == ("done", "completed")
    datas = sorted(v.data for v in google.youtube.videos.values())
    assert len(datas) == 2 and tall.read_bytes() in datas
    assert next_upload(wide, second)[0].kind == "done"
    outcome, state = next_upload(shorts, second)
    assert outcome.kind == "failed" and "a YouTube Short is at most 180 s" in outcome.message
    assert state == "failed" and len(google.youtube.videos) == 3  # its 16:9 video stays up
