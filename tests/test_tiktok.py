"""TikTok: signing in with Login Kit for Desktop (TikTok's hex PKCE), and Direct Post through
the destination — chunks by TikTok's rules, never a second post after a cut line, a 5xx, a
lost answer or a stop mid-upload; tokens renewed and rotated; limits that make a post wait."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.domain.errors import DraftError, UserError
from app.domain.publishing import PublishConfig
from app.domain.tiktok import MB, TikTokPost, caption, chunk_plan, utf16_units
from app.publish import tiktok as tiktok_destination
from app.publish import tiktok_api
from app.publish.tiktok import TikTokDestination
from app.services import Services
from app.store import publishing
from app.store.models import Upload, utcnow
from tests.fake_tiktok import TikTok
from tests.tiktok_helpers import make_video, sign_in_tiktok
from tests.youtube_helpers import Clock, publishing_job, render_stand_in

POST = {"privacy": "PUBLIC_TO_EVERYONE", "music_consent": True}


@pytest.fixture(autouse=True)
def _fresh_rate_memory() -> None:
    tiktok_destination._INITS.clear()


def tiktok_job(
    workspace: Services, tmp_path: Path, account: str, rows: int = 1, **extra: Any
) -> int:
    plan: dict[str, Any] = {
        "target": "tiktok",
        "channel": "",
        "accounts": {"tiktok": account},
        "tiktok": {**POST, **extra.pop("post", {})},
        **extra,
    }
    return publishing_job(workspace, tmp_path, rows, **plan)


def rendered(workspace: Services, job: int, tmp_path: Path, size: int) -> list[int]:
    items: list[int] = []
    while batch := render_stand_in(workspace, job, tmp_path / "out"):
        items += batch  # as many at a time as the job's concurrency lets
    for item in items:
        with workspace.db.read() as session:
            from app.store.models import Item

            found = session.get(Item, item)
            assert found is not None
            video = Path(found.outputs["video"])
        make_video(video, size)
    return items


def destination(workspace: Services, clock: Any = None, **kwargs: Any) -> TikTokDestination:
    return TikTokDestination(
        workspace, clock=clock or utcnow, sleep=lambda _s: None, poll_every=0, **kwargs
    )


def attempt(workspace: Services, dest: TikTokDestination, item: int, now: datetime | None = None,
            stop: threading.Event | None = None) -> tuple[Any, str]:  # fmt: skip
    """One upload attempt as the engine makes it: claim, publish, record."""
    with workspace.db.write() as session:
        claims = publishing.claim_uploads(session, 1, now or utcnow())  # the first in turn
    assert [c.item_id for c in claims] == [item], f"item {item} is not next to upload"
    outcome = dest.publish(item, lambda _f: None, stop or threading.Event(), threading.Event())
    with workspace.db.write() as session:
        state = publishing.finish_upload(
            session, claims[0], outcome.kind, message=outcome.message, status=outcome.status,
            until=outcome.until,
        )  # fmt: skip
    return outcome, state


def upload_row(workspace: Services, item: int) -> Upload:
    with workspace.db.read() as session:
        found = session.get(Upload, (item, "tiktok"))
        assert found is not None
        session.expunge(found)
        return found


# The rules, as TikTok's documentation states them


def test_the_desktop_code_challenge_is_the_verifiers_sha256_in_hex() -> None:
    verifier, challenge = tiktok_api.pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert challenge == hashlib.sha256(verifier.encode()).hexdigest()


@pytest.mark.parametrize(
    ("size", "chunk", "count"),
    [
        (3 * MB, 3 * MB, 1),  # under 5 MB: whole
        (12 * MB, 12 * MB, 1),  # within 64 MB and under two chunks: whole
        (50_000_123, 10 * MB, 4),  # the trailing bytes ride in the last chunk
        (700 * MB, 10 * MB, 70),
    ],
)
def test_chunks_follow_tiktoks_rules(size: int, chunk: int, count: int) -> None:
    plan = chunk_plan(size, 10 * MB)
    assert (plan.chunk_size, plan.count) == (chunk, count)
    assert sum(plan.span(i)[1] for i in range(plan.count)) == size
    last = plan.span(plan.count - 1)[1]
    assert plan.count == 1 or (5 * MB <= plan.chunk_size <= 64 * MB and last <= 128 * MB)


def test_the_caption_is_cut_to_2200_utf16_units_never_through_an_emoji() -> None:
    text = caption("Space 🚀 facts", "🚀 " * 3000, ["space", "night sky"])
    assert utf16_units(text) <= 2200 and text.endswith("…")
    text.encode("utf-8")  # no lone surrogate
    assert caption("A", "B", ["night sky"]) == "A\n\nB\n\n#nightsky"


def test_a_tiktok_destination_needs_a_privacy_choice_and_music_consent() -> None:
    base = {"target": "tiktok", "accounts": {"tiktok": "open-1"}}
    with pytest.raises(DraftError, match="no default"):
        PublishConfig.from_dict({**base, "tiktok": {"music_consent": True}}).checked()
    with pytest.raises(DraftError, match="Music Usage"):
        PublishConfig.from_dict({**base, "tiktok": {"privacy": "SELF_ONLY"}}).checked()
    with pytest.raises(DraftError, match="branded content cannot be private"):
        PublishConfig.from_dict(
            {
                **base,
                "tiktok": {"privacy": "SELF_ONLY", "music_consent": True, "branded_content": True},
            }
        ).checked()
    ok = PublishConfig.from_dict({**base, "tiktok": POST}).checked()
    assert ok.destinations == ("tiktok",) and ok.tiktok == TikTokPost.from_dict(POST)


# Signing in


def test_signing_in_keeps_the_account_and_its_tokens_out_of_the_database(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch, username="skyfacts")
    [record] = workspace.channels.records("tiktok")
    assert (record.id, record.handle, record.platform) == (open_id, "@skyfacts", "tiktok")
    assert workspace.channels.records() == []  # YouTube's list stays YouTube's
    raw = (workspace.db.path).read_bytes()
    stored = json.loads(workspace.secrets.get(f"tiktok.token.{open_id}") or "{}")
    assert stored["access_token"].encode() not in raw and b"s3cret" not in raw


def test_a_wrong_client_secret_says_what_to_check(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.tiktok_helpers import browser

    key, _secret = tiktok.app()
    tiktok.user()
    monkeypatch.setattr("webbrowser.open", browser)
    with pytest.raises(UserError, match="client key and secret") as caught:
        workspace.tiktok.login(key, "wrong", tell=lambda _s: None)
    assert "wrong" not in str(caught.value)


def test_an_expired_access_token_is_renewed_and_the_rotated_refresh_token_kept(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch)
    first = json.loads(workspace.secrets.get(f"tiktok.token.{open_id}") or "{}")
    tiktok.fail("expire")  # TikTok ends every access token now
    [item] = rendered(workspace, tiktok_job(workspace, tmp_path, open_id), tmp_path, 300_000)
    outcome, state = attempt(workspace, destination(workspace), item)
    assert (outcome.kind, state) == ("done", "completed")
    second = json.loads(workspace.secrets.get(f"tiktok.token.{open_id}") or "{}")
    assert second["refresh_token"] != first["refresh_token"]
    assert first["refresh_token"] not in tiktok.refresh  # the old one no longer works
    # The next renewal uses the new refresh token, and works.
    assert workspace.tiktok.access_token(open_id, renew=True)


def test_a_refused_sign_in_puts_the_account_on_hold_saying_sign_in_again(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch, nickname="Sky Facts")
    tiktok.refresh.clear()  # the user revoked Cadence in TikTok
    tiktok.fail("expire")
    [item] = rendered(workspace, tiktok_job(workspace, tmp_path, open_id), tmp_path, 300_000)
    outcome, state = attempt(workspace, destination(workspace), item)
    assert outcome.kind == "hold" and state == "pending"
    assert "sign in to TikTok as Sky Facts" in outcome.message
    [record] = workspace.channels.records("tiktok")
    assert record.hold and upload_row(workspace, item).status == "on_hold"
    assert not tiktok.posts


# Posting


def test_a_post_goes_up_whole_once_with_the_creators_choices(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch, username="skyfacts",
                             stitch_disabled=True)  # fmt: skip
    job = tiktok_job(workspace, tmp_path, open_id,
                     post={"allow_comment": True, "allow_stitch": True})  # fmt: skip
    [item] = rendered(workspace, job, tmp_path, 12 * MB + 77)
    outcome, state = attempt(workspace, destination(workspace, chunk_bytes=5 * MB), item)
    assert (outcome.kind, outcome.status, state) == ("done", "published", "completed")
    [post] = tiktok.posts.values()
    assert post.status == "PUBLISH_COMPLETE" and post.count == 2
    with workspace.db.read() as session:
        from app.store.models import Item

        found = session.get(Item, item)
        assert found is not None
        assert bytes(post.data) == Path(found.outputs["video"]).read_bytes()
    info = post.info
    assert info["privacy_level"] == "PUBLIC_TO_EVERYONE" and info["is_aigc"] is True
    assert info["disable_comment"] is False and info["disable_duet"] is True
    assert info["disable_stitch"] is True  # the creator turned stitches off in TikTok
    assert info["title"].startswith("Video number 1")
    row = upload_row(workspace, item)
    assert row.url == f"https://www.tiktok.com/@skyfacts/video/{post.post_id}"
    assert row.post_id == post.publish_id


def test_a_connection_cut_mid_chunk_goes_on_from_what_tiktok_confirms(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch)
    [item] = rendered(workspace, tiktok_job(workspace, tmp_path, open_id), tmp_path, 16 * MB)
    tiktok.fail("put_5xx", "drop")
    outcome, _state = attempt(workspace, destination(workspace, chunk_bytes=5 * MB), item)
    assert outcome.kind == "done"
    [post] = tiktok.posts.values()
    assert len(tiktok.published()) == 1 and len(post.data) == 16 * MB
    assert sum(1 for m, p in tiktok.requests if p == "/v2/post/publish/video/init/") == 1


def test_a_5xx_on_init_is_tried_again_later_and_then_posts_once(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch)
    [item] = rendered(workspace, tiktok_job(workspace, tmp_path, open_id), tmp_path, 300_000)
    tiktok.fail("init_5xx")
    dest = destination(workspace)
    outcome, state = attempt(workspace, dest, item)
    assert outcome.kind == "retry" and state == "pending"
    outcome, state = attempt(workspace, dest, item, now=utcnow() + timedelta(minutes=5))
    assert (outcome.kind, state) == ("done", "completed") and len(tiktok.published()) == 1


def test_a_lost_answer_to_the_last_chunk_is_not_a_second_post(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch)
    [item] = rendered(workspace, tiktok_job(workspace, tmp_path, open_id), tmp_path, 300_000)
    tiktok.fail("lost_answer")
    outcome, _state = attempt(workspace, destination(workspace), item)
    assert outcome.kind == "done" and len(tiktok.posts) == 1 and len(tiktok.published()) == 1


def test_stopped_mid_upload_the_next_attempt_asks_tiktok_and_finishes_the_same_post(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch)
    [item] = rendered(workspace, tiktok_job(workspace, tmp_path, open_id), tmp_path, 21 * MB)
    stop = threading.Event()
    dest = destination(workspace, chunk_bytes=5 * MB)
    real_put = tiktok_api.TikTokAPI.put_chunk

    def put_then_stop(self: Any, *args: Any) -> bool:
        whole = real_put(self, *args)
        stop.set()  # Cadence quits after the first chunk
        return whole

    monkeypatch.setattr(tiktok_api.TikTokAPI, "put_chunk", put_then_stop)
    outcome, state = attempt(workspace, dest, item, stop=stop)
    assert outcome.kind == "stopped" and state == "pending"
    row = upload_row(workspace, item)
    assert row.post_id and row.offset == 5 * MB
    monkeypatch.setattr(tiktok_api.TikTokAPI, "put_chunk", real_put)
    outcome, state = attempt(workspace, dest, item)
    assert (outcome.kind, state) == ("done", "completed")
    assert len(tiktok.posts) == 1 and len(tiktok.published()) == 1
    assert len(next(iter(tiktok.posts.values())).data) == 21 * MB


def test_a_post_waits_for_its_time_while_youtube_would_go_ahead(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch)
    when = datetime(2031, 5, 4, 9, 0, tzinfo=UTC)
    job = tiktok_job(workspace, tmp_path, open_id, publish_at=when.isoformat())
    [item] = rendered(workspace, job, tmp_path, 300_000)
    with workspace.db.write() as session:
        assert publishing.claim_uploads(session, 5, utcnow()) == []
        assert publishing.next_post_due(session, utcnow()) == when
    outcome, _state = attempt(workspace, destination(workspace), item, now=when)
    assert outcome.kind == "done"


# Limits


def test_six_inits_a_minute_then_a_wait_not_a_failure(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch)
    items = rendered(workspace, tiktok_job(workspace, tmp_path, open_id, rows=7), tmp_path,
                     200_000)  # fmt: skip
    clock = Clock(utcnow())
    tiktok.clock = clock
    dest = destination(workspace, clock=clock)
    kinds = [attempt(workspace, dest, item, now=clock.now)[0].kind for item in items[:6]]
    assert kinds == ["done"] * 6
    outcome, state = attempt(workspace, dest, items[6], now=clock.now)
    assert outcome.kind == "wait" and state == "pending"
    assert "rate limit" in outcome.message and outcome.until == clock.now + timedelta(minutes=1)
    clock.now += timedelta(seconds=61)
    assert attempt(workspace, dest, items[6], now=clock.now)[0].kind == "done"


def test_the_daily_cap_makes_a_post_wait_until_a_slot_frees(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch)
    tiktok.daily_cap = 1
    first, second = rendered(workspace, tiktok_job(workspace, tmp_path, open_id, rows=2),
                             tmp_path, 200_000)  # fmt: skip
    dest = destination(workspace)
    assert attempt(workspace, dest, first)[0].kind == "done"
    outcome, state = attempt(workspace, dest, second)
    assert outcome.kind == "wait" and state == "pending"
    assert "daily posting limit until" in outcome.message
    assert outcome.until is not None and outcome.until > utcnow() + timedelta(hours=23)
    assert len(tiktok.published()) == 1


def test_an_unaudited_app_posts_only_privately_and_says_so(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tiktok.audited = False
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch, private_account=True)
    [public] = rendered(workspace, tiktok_job(workspace, tmp_path, open_id), tmp_path, 200_000)
    outcome, state = attempt(workspace, destination(workspace), public)
    assert outcome.kind == "failed" and state == "failed"
    assert "SELF_ONLY" in outcome.message and not tiktok.posts
    job = tiktok_job(workspace, tmp_path, open_id, post={"privacy": "SELF_ONLY"})
    [private] = rendered(workspace, job, tmp_path, 200_000)
    outcome, state = attempt(workspace, destination(workspace), private)
    assert (outcome.kind, outcome.status) == ("done", "private")
    assert "Only me" in (upload_row(workspace, private).note or "")


def test_a_video_tiktok_cannot_read_fails_with_tiktoks_reason(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch)
    [item] = render_stand_in(workspace, tiktok_job(workspace, tmp_path, open_id), tmp_path / "o")
    outcome, state = attempt(workspace, destination(workspace), item)  # random bytes, no MP4
    assert outcome.kind == "failed" and state == "failed"
    assert "TikTok could not read the video file" in outcome.message


def test_publishing_as_the_sheet_says_sends_each_row_where_its_cell_names(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import csv

    from app import ops
    from app.ops.jobs import JobRequest
    from app.sources.intake import SourceSpec
    from app.store.models import Item
    from tests.conftest import HEADER, full_row

    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch)
    path = tmp_path / "rows.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for title, cell in (("Both", "youtube, tiktok"), ("Reels", "reels, TikTok, LinkedIn"),
                            ("Empty", ""), ("Tube", "YT")):  # fmt: skip
            writer.writerow(full_row(idea_title=title, platform_preferences=cell))
    plan = {"target": "sheet:tiktok", "accounts": {"tiktok": "@tinycreator"}, "tiktok": POST}
    job = ops.jobs.create_job(
        workspace, JobRequest.of(SourceSpec(str(path)), title="Sheet", publish=plan)
    ).job_id
    with workspace.db.read() as session:
        items = session.query(Item).filter(Item.job_id == job).order_by(Item.row_number).all()
        places = {i.title: [u.destination for u in i.uploads] for i in items}
        warned = {i.title: [w["message"] for w in i.warnings] for i in items}
        accounts = {u.channel_id for i in items for u in i.uploads}
    # No YouTube channel is signed in: YouTube rows are told so, not silently dropped.
    assert places == {"Both": ["tiktok"], "Reels": ["tiktok"], "Empty": ["tiktok"], "Tube": []}
    assert accounts == {open_id}
    assert (
        "YouTube: no account was chosen for it in this job — not published there" in warned["Both"]
    )
    assert any("LinkedIn: Cadence cannot publish there yet" in w for w in warned["Reels"])
    assert any("Instagram Reels: no account was chosen" in w for w in warned["Reels"])
    assert not any("not published there" in w for w in warned["Empty"])


def test_the_webhook_reports_each_platforms_post(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from app.publish import webhooks
    from app.store import stats

    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch, username="skyfacts")
    job = tiktok_job(workspace, tmp_path, open_id)
    [item] = rendered(workspace, job, tmp_path, 200_000)
    attempt(workspace, destination(workspace), item)
    with workspace.db.read() as session:
        body = json.loads(webhooks.payload(stats.job_progress(session, job), None,
                                           publishing.posts_of(session, job)))  # fmt: skip
    [post] = body["posts"]
    assert (post["item_id"], post["platform"], post["status"]) == (item, "tiktok", "published")
    assert post["url"].startswith("https://www.tiktok.com/@skyfacts/video/")
    assert body["items_completed"] == 1


def test_a_post_missed_while_the_computer_slept_goes_out_on_waking_with_a_note(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch)
    when = datetime(2031, 5, 4, 9, 0, tzinfo=UTC)
    job = tiktok_job(workspace, tmp_path, open_id, publish_at=when.isoformat())
    [item] = rendered(workspace, job, tmp_path, 200_000)
    woke = when + timedelta(hours=7, minutes=30)
    outcome, _state = attempt(workspace, destination(workspace, clock=lambda: woke), item, now=woke)
    assert outcome.kind == "done" and len(tiktok.published()) == 1
    assert "posted 7 h late: this computer was off or asleep at" in (
        upload_row(workspace, item).note or ""
    )


def test_the_computer_is_kept_awake_only_while_a_post_is_due(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from app.engine import awake

    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch)
    soon = utcnow() + timedelta(minutes=7)
    job = tiktok_job(workspace, tmp_path, open_id, publish_at=soon.isoformat())
    rendered(workspace, job, tmp_path, 200_000)
    with workspace.db.read() as session:
        assert publishing.posts_due(session, utcnow() + awake.AHEAD) == 1
        assert publishing.posts_due(session, utcnow() + timedelta(minutes=5)) == 0
    held: list[subprocess.Popen[bytes]] = []
    keeper = awake.KeepAwake(lambda why: [sys.executable, "-c", "import time; time.sleep(60)"])
    keeper.hold("1 TikTok post due")
    assert keeper.held and keeper.why == "1 TikTok post due"
    assert keeper._process is not None
    held.append(keeper._process)
    keeper.hold("again")  # held already: no second helper
    assert keeper._process is held[0]
    keeper.release()
    assert held[0].poll() is not None and not keeper.held  # the helper is gone
    # A system that refuses (no logind here) is not asked again at every look.
    refused = awake.KeepAwake(lambda why: [sys.executable, "-c", "raise SystemExit(1)"])
    refused.hold("due")
    assert refused._process is not None
    refused._process.wait()
    refused.hold("due")
    assert refused._process is None and not refused.held
    if sys.platform.startswith("linux") and awake.shutil.which("systemd-inhibit"):
        command = awake.inhibitor_command("1 TikTok post due")
        assert command is not None and command[:2] == ["systemd-inhibit", "--what=sleep:idle"]


def test_the_calendar_shows_each_platforms_post_and_moves_them_together(
    workspace: Services, tiktok: TikTok, google: Any, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:  # fmt: skip
    from app import ops
    from app.store import calendar
    from tests.youtube_helpers import sign_in_channel

    channel = sign_in_channel(workspace, google)
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch)
    when = datetime(2031, 5, 4, 9, 0, tzinfo=UTC)
    job = tiktok_job(workspace, tmp_path, open_id, target="youtube,tiktok", channel=channel,
                     made_for_kids=False, publish_at=when.isoformat())  # fmt: skip
    with workspace.db.read() as session:
        found = calendar.occurrences(session, when - timedelta(days=1), when + timedelta(days=1))
    shown = sorted((o.key, o.title, o.channel) for o in found)
    item = found[0].item_id
    assert shown == [
        (f"item:{item}", "▶ Video number 1", channel),
        (f"item:{item}@tiktok", "♪ Video number 1 (this computer posts it)", open_id),
    ]
    assert [o.needs_render for o in sorted(found, key=lambda o: o.key)] == [True, False]
    later = when + timedelta(hours=3)
    ops.calendar.move(workspace, f"item:{item}@tiktok", later)
    with workspace.db.read() as session:
        times = {u.destination: u.publish_at for u in session.query(Upload).filter_by(item_id=item)}
    assert times == {"youtube": later, "tiktok": later} and job


def test_strict_validation_leaves_out_a_row_no_account_serves_saying_why(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import csv

    from app import ops
    from app.domain.validation import Level
    from app.ops.jobs import JobRequest
    from app.sources.intake import SourceSpec
    from tests.conftest import HEADER, full_row

    sign_in_tiktok(workspace, tiktok, monkeypatch)
    path = tmp_path / "rows.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerow(full_row(idea_title="Fine", platform_preferences="tiktok"))
        writer.writerow(full_row(idea_title="Reels too", platform_preferences="tiktok, x"))
        writer.writerow(full_row(idea_title="Long", platform_preferences="tiktok",
                                 duration_seconds="900"))  # fmt: skip
    plan = {"target": "sheet", "accounts": {"tiktok": "@tinycreator"}, "tiktok": POST}
    created = ops.jobs.create_job(
        workspace,
        JobRequest.of(SourceSpec(str(path)), title="Strict", publish=plan, level=Level.STRICT),
    )
    from app.store.jobs import get_job

    with workspace.db.read() as session:
        job = get_job(session, created.job_id)
        assert job is not None
        titles = [i.title for i in job.items]
        left = {entry["title"]: entry["problems"] for entry in job.left_out}
    assert titles == ["Fine"]
    assert "X: Cadence cannot publish there yet" in left["Reels too"][0]
    assert "column “Platforms”" in left["Reels too"][0]
    assert "TikTok takes at most 10 minutes" in " ".join(left["Long"])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((".avi", 10, "h264", 1080, 1920, 30.0), "MP4, MOV or WebM"),
        ((".mp4", 5 * 1024**3, "h264", 1080, 1920, 30.0), "at most 4 GB"),
        ((".mp4", 10, "mpeg4", 1080, 1920, 30.0), "not mpeg4"),
        ((".mp4", 10, "h264", 1080, 1920, 15.0), "23 to 60"),
        ((".mp4", 10, "h264", 240, 426, 30.0), "360 to 4096"),
    ],
)
def test_a_file_tiktok_would_refuse_is_refused_before_a_byte_is_sent(
    args: tuple[Any, ...], words: str
) -> None:
    from app.domain.tiktok import video_refusal

    assert words in (video_refusal(*args) or "")
    assert video_refusal(".mp4", 10, "h264", 1080, 1920, 30.0) is None


def test_a_real_render_passes_tiktoks_file_checks(tmp_path: Path) -> None:
    import subprocess

    from app.pipeline.media import ffmpeg_exe

    video = tmp_path / "tall.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=size=720x1280:rate=30:duration=1", "-c:v", "libx264",
                    str(video)], check=True)  # fmt: skip
    assert tiktok_destination._file_refusal(video) is None
    slow = tmp_path / "slow.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=size=720x1280:rate=10:duration=1", "-c:v", "libx264",
                    str(slow)], check=True)  # fmt: skip
    assert "23 to 60" in (tiktok_destination._file_refusal(slow) or "")


def test_an_upload_address_that_expired_half_way_starts_a_new_post_not_a_second_one(
    workspace: Services, tiktok: TikTok, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch)
    [item] = rendered(workspace, tiktok_job(workspace, tmp_path, open_id), tmp_path, 12 * MB)
    dest = destination(workspace, chunk_bytes=5 * MB)
    stop = threading.Event()
    real_put = tiktok_api.TikTokAPI.put_chunk

    def put_then_stop(self: Any, *args: Any) -> bool:
        whole = real_put(self, *args)
        stop.set()
        return whole

    monkeypatch.setattr(tiktok_api.TikTokAPI, "put_chunk", put_then_stop)
    assert attempt(workspace, dest, item, stop=stop)[0].kind == "stopped"
    monkeypatch.setattr(tiktok_api.TikTokAPI, "put_chunk", real_put)
    [first] = tiktok.posts.values()
    first.upload_token = "expired"  # TikTok's address for it no longer answers
    outcome, _state = attempt(workspace, dest, item)
    assert outcome.kind == "retry" and upload_row(workspace, item).post_id is None
    outcome, state = attempt(workspace, dest, item, now=utcnow() + timedelta(minutes=5))
    assert (outcome.kind, state) == ("done", "completed")
    assert len(tiktok.published()) == 1 and first.status != "PUBLISH_COMPLETE"


def test_a_videos_tiktok_post_can_be_moved_after_its_youtube_upload_is_public(
    workspace: Services, tiktok: TikTok, google: Any, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:  # fmt: skip
    from app import ops
    from tests.youtube_helpers import sign_in_channel

    channel = sign_in_channel(workspace, google)
    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch)
    when = datetime(2031, 5, 4, 9, 0, tzinfo=UTC)
    job = tiktok_job(workspace, tmp_path, open_id, target="youtube,tiktok", channel=channel,
                     made_for_kids=False, publish_at=when.isoformat())  # fmt: skip
    [item] = rendered(workspace, job, tmp_path, 200_000)
    with workspace.db.write() as session:
        youtube = session.get(Upload, (item, "youtube"))
        assert youtube is not None
        youtube.status, youtube.video_id = "published", "vid1"  # up already
    later = when + timedelta(days=1)
    ops.publishing.reschedule(workspace, item, later)
    assert upload_row(workspace, item).publish_at == later
