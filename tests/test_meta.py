"""Instagram Reels and Facebook Reels: one Facebook Login finds the Pages and the Instagram
accounts linked to them; Reels are posted exactly once — a cut upload, a 5xx, a lost
``media_publish`` answer after the post went live, a container that fails processing, a lost
finish — and the publishing limits make a post wait."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.domain.meta import instagram_caption, length_refusal
from app.publish import meta_api
from app.publish.meta import FacebookDestination, InstagramDestination
from app.services import Services
from app.store import publishing
from app.store.models import Item, Upload, utcnow
from tests.fake_meta import Meta
from tests.tiktok_helpers import browser, make_video
from tests.youtube_helpers import publishing_job, render_stand_in

IG = "17841400000000001"
PAGE = "102030405060708"


def sign_in_meta(workspace: Services, meta: Meta, monkeypatch: pytest.MonkeyPatch) -> None:
    app_id, secret = meta.app()
    meta.page(PAGE, "Sky Facts", IG, "skyfacts.ig")
    monkeypatch.setattr("webbrowser.open", browser)
    workspace.meta.login(app_id, secret, tell=lambda _s: None, port=0)


def job(workspace: Services, tmp_path: Path, target: str, rows: int = 1, **extra: Any) -> int:
    account = IG if target == "instagram_reels" else PAGE
    return publishing_job(workspace, tmp_path, rows, target=target, channel="",
                          accounts={target: account}, **extra)  # fmt: skip


def rendered(workspace: Services, job_id: int, tmp_path: Path, size: int = 300_000) -> list[int]:
    items: list[int] = []
    while batch := render_stand_in(workspace, job_id, tmp_path / f"out-{job_id}"):
        items += batch
    with workspace.db.write() as session:
        for item_id in items:
            item = session.get(Item, item_id)
            assert item is not None
            make_video(Path(item.outputs["video"]), size)
            meta_file = Path(item.outputs["metadata"])
            data = json.loads(meta_file.read_text())
            meta_file.write_text(json.dumps({**data, "duration_seconds": 30}))
    return items


def attempt(workspace: Services, dest: Any, item: int, now: datetime | None = None,
            stop: threading.Event | None = None) -> tuple[Any, str]:  # fmt: skip
    with workspace.db.write() as session:
        claims = publishing.claim_uploads(session, 1, now or utcnow())
    assert [c.item_id for c in claims] == [item], f"item {item} is not next"
    outcome = dest.publish(item, lambda _f: None, stop or threading.Event(), threading.Event())
    with workspace.db.write() as session:
        state = publishing.finish_upload(
            session, claims[0], outcome.kind, message=outcome.message, status=outcome.status,
            until=outcome.until,
        )  # fmt: skip
    return outcome, state


def row_of(workspace: Services, item: int, destination: str) -> Upload:
    with workspace.db.read() as session:
        found = session.get(Upload, (item, destination))
        assert found is not None
        session.expunge(found)
        return found


def video_bytes(workspace: Services, item: int) -> bytes:
    with workspace.db.read() as session:
        found = session.get(Item, item)
        assert found is not None
        return Path(found.outputs["video"]).read_bytes()


def instagram(workspace: Services, **kwargs: Any) -> InstagramDestination:
    return InstagramDestination(workspace, sleep=lambda _s: None, poll_every=0, **kwargs)


def facebook(workspace: Services, **kwargs: Any) -> FacebookDestination:
    return FacebookDestination(workspace, sleep=lambda _s: None, **kwargs)


# Rules


def test_an_instagram_caption_keeps_instagrams_limits() -> None:
    tags = [f"tag{n}" for n in range(40)]
    text = instagram_caption("Title @a @b", "Body " + "@who " * 25 + "word " * 600, tags)
    assert len(text) <= 2200 and text.endswith("…")
    assert text.count("#") <= 30 and text.count("@") <= 20
    assert "Chapters" not in instagram_caption("T", "D\n\nChapters:\n0:00 Intro", [])
    assert "15 min" in (length_refusal("instagram_reels", 1000) or "")
    assert "90 s" in (length_refusal("facebook", 120) or "")
    assert length_refusal("facebook", 30) is None


# Signing in


def test_one_facebook_login_adds_the_instagram_account_and_the_page(
    workspace: Services, meta: Meta, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in_meta(workspace, meta, monkeypatch)
    accounts = {(r.platform, r.id, r.handle) for r in workspace.channels.records(None)}
    assert accounts == {("instagram_reels", IG, "@skyfacts.ig"), ("facebook", PAGE, "")}
    raw = workspace.db.path.read_bytes()
    assert meta.pages[PAGE]["token"].encode() not in raw and b"meta-s3cret" not in raw


def test_a_day_old_long_lived_token_is_exchanged_for_a_fresh_one(
    workspace: Services, meta: Meta, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in_meta(workspace, meta, monkeypatch)
    first = workspace.meta.user_token(meta.user_id)
    assert workspace.meta.user_token(meta.user_id) == first  # fresh: kept
    later = utcnow() + timedelta(days=1, minutes=1)
    workspace.meta.clock = lambda: later
    second = workspace.meta.user_token(meta.user_id)
    assert second != first and second in meta.user_tokens


def test_a_refused_page_token_puts_the_account_on_hold(
    workspace: Services, meta: Meta, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sign_in_meta(workspace, meta, monkeypatch)
    [item] = rendered(workspace, job(workspace, tmp_path, "instagram_reels"), tmp_path)
    meta.pages.clear()  # the user took the Page away from Cadence
    outcome, state = attempt(workspace, instagram(workspace), item)
    assert outcome.kind == "hold" and state == "pending"
    assert "sign in to Facebook again" in outcome.message


# Instagram


def test_a_reel_goes_to_instagram_once_with_its_caption(
    workspace: Services, meta: Meta, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sign_in_meta(workspace, meta, monkeypatch)
    [item] = rendered(workspace, job(workspace, tmp_path, "instagram_reels"), tmp_path)
    outcome, state = attempt(workspace, instagram(workspace), item)
    assert (outcome.kind, outcome.status, state) == ("done", "published", "completed")
    [media] = meta.published()
    assert media["data"] == video_bytes(workspace, item)
    assert media["caption"].startswith("Video number 1") and "#sky" in media["caption"]
    row = row_of(workspace, item, "instagram_reels")
    assert row.url == media["permalink"] and row.video_id == media["id"]
    assert meta.publish_calls == 1


def test_a_cut_upload_never_becomes_a_second_reel(
    workspace: Services, meta: Meta, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sign_in_meta(workspace, meta, monkeypatch)
    [item] = rendered(workspace, job(workspace, tmp_path, "instagram_reels"), tmp_path)
    meta.fail("drop")
    dest = instagram(workspace)
    outcome, state = attempt(workspace, dest, item)
    assert outcome.kind == "retry" and state == "pending"
    outcome, state = attempt(workspace, dest, item, now=utcnow() + timedelta(minutes=5))
    assert (outcome.kind, state) == ("done", "completed")
    [media] = meta.published()
    assert media["data"] == video_bytes(workspace, item) and meta.publish_calls == 1


def test_media_publish_answering_500_after_the_post_went_live_is_not_published_again(
    workspace: Services, meta: Meta, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sign_in_meta(workspace, meta, monkeypatch)
    [item] = rendered(workspace, job(workspace, tmp_path, "instagram_reels"), tmp_path)
    meta.fail("publish_500_after")
    dest = instagram(workspace)
    outcome, _state = attempt(workspace, dest, item)
    assert outcome.kind == "retry" and len(meta.published()) == 1
    outcome, state = attempt(workspace, dest, item, now=utcnow() + timedelta(minutes=5))
    assert (outcome.kind, state) == ("done", "completed")
    assert meta.publish_calls == 1 and len(meta.published()) == 1
    assert row_of(workspace, item, "instagram_reels").url == meta.published()[0]["permalink"]


def test_a_container_that_fails_processing_says_so(
    workspace: Services, meta: Meta, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sign_in_meta(workspace, meta, monkeypatch)
    [item] = rendered(workspace, job(workspace, tmp_path, "instagram_reels"), tmp_path)
    meta.fail("processing_error")
    outcome, state = attempt(workspace, instagram(workspace), item)
    assert outcome.kind == "failed" and state == "failed"
    assert "Instagram could not process the video" in outcome.message and not meta.published()


def test_instagrams_publishing_limit_makes_a_post_wait(
    workspace: Services, meta: Meta, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sign_in_meta(workspace, meta, monkeypatch)
    meta.quota_total = 1
    first, second = rendered(workspace, job(workspace, tmp_path, "instagram_reels", 2), tmp_path)
    dest = instagram(workspace)
    assert attempt(workspace, dest, first)[0].kind == "done"
    outcome, state = attempt(workspace, dest, second)
    assert outcome.kind == "wait" and state == "pending"
    assert "waiting for Instagram's daily limit until" in outcome.message
    assert len(meta.published()) == 1


# Facebook


def test_a_facebook_reel_is_published_or_scheduled_by_facebook(
    workspace: Services, meta: Meta, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sign_in_meta(workspace, meta, monkeypatch)
    now_job = job(workspace, tmp_path, "facebook")
    [now_item] = rendered(workspace, now_job, tmp_path)
    outcome, state = attempt(workspace, facebook(workspace), now_item)
    assert (outcome.kind, outcome.status, state) == ("done", "published", "completed")
    later = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    later_job = job(workspace, tmp_path, "facebook", publish_at=later.isoformat())
    [later_item] = rendered(workspace, later_job, tmp_path)
    outcome, _state = attempt(workspace, facebook(workspace), later_item)
    assert (outcome.kind, outcome.status) == ("done", "scheduled")  # uploaded ahead
    first, second = meta.reels.values()
    assert first.published == "published" and bytes(first.data) == video_bytes(workspace, now_item)
    assert second.published == "scheduled" and second.when == int(later.timestamp())
    assert (
        row_of(workspace, now_item, "facebook").url == f"https://www.facebook.com/reel/{first.id}"
    )


def test_a_facebook_upload_cut_halfway_resumes_from_what_meta_has(
    workspace: Services, meta: Meta, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sign_in_meta(workspace, meta, monkeypatch)
    [item] = rendered(workspace, job(workspace, tmp_path, "facebook"), tmp_path, 2_000_000)
    meta.fail("drop")
    dest = facebook(workspace)
    assert attempt(workspace, dest, item)[0].kind == "retry"
    [reel] = meta.reels.values()
    assert 0 < len(reel.data) < reel.size  # half of it arrived
    outcome, _state = attempt(workspace, dest, item, now=utcnow() + timedelta(minutes=5))
    assert outcome.kind == "done" and len(meta.reels) == 1
    assert bytes(reel.data) == video_bytes(workspace, item)


def test_a_lost_answer_to_finish_is_settled_by_the_reels_status(
    workspace: Services, meta: Meta, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sign_in_meta(workspace, meta, monkeypatch)
    [item] = rendered(workspace, job(workspace, tmp_path, "facebook"), tmp_path)
    real = meta_api.Graph.reel_finish

    def finish_then_lose(self: Any, *args: Any) -> None:
        real(self, *args)
        raise meta_api.MetaError("transient", "Meta could not be reached (ConnectionError)")

    monkeypatch.setattr(meta_api.Graph, "reel_finish", finish_then_lose)
    dest = facebook(workspace)
    assert attempt(workspace, dest, item)[0].kind == "retry"
    monkeypatch.setattr(meta_api.Graph, "reel_finish", real)
    outcome, state = attempt(workspace, dest, item, now=utcnow() + timedelta(minutes=5))
    assert (outcome.kind, state) == ("done", "completed") and len(meta.reels) == 1


def test_lengths_each_reels_platform_refuses_fail_before_a_byte(
    workspace: Services, meta: Meta, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sign_in_meta(workspace, meta, monkeypatch)
    [item] = rendered(workspace, job(workspace, tmp_path, "facebook"), tmp_path)
    with workspace.db.read() as session:
        found = session.get(Item, item)
        assert found is not None
        meta_file = Path(found.outputs["metadata"])
    meta_file.write_text(json.dumps({**json.loads(meta_file.read_text()), "duration_seconds": 120}))
    outcome, state = attempt(workspace, facebook(workspace), item)
    assert outcome.kind == "failed" and "a Facebook Reel is 3 s to 90 s" in outcome.message
    assert not meta.reels and state == "failed"


_ = UTC


def test_accounts_add_instagram_without_a_browser_prints_the_address_and_adds_both(
    meta: Meta, data_dir: Path, tmp_path: Path
) -> None:
    import os
    import socket
    import subprocess
    import sys

    import requests

    from tests.conftest import ROOT

    app_id, secret = meta.app()
    meta.page(PAGE, "Sky Facts", IG, "skyfacts.ig")
    with socket.socket() as probe:  # a free port for Facebook's redirect
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    main = [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir)]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    subprocess.run([*main, "settings", "set", "meta.redirect_port", str(port)], env=env,
                   check=True, capture_output=True)  # fmt: skip
    adding = subprocess.Popen(
        [*main, "accounts", "add", "instagram", "--app-id", app_id, "--app-secret", "-",
         "--no-browser"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env,
    )  # fmt: skip
    assert adding.stdin is not None and adding.stdout is not None
    adding.stdin.write(secret + "\n")
    adding.stdin.close()
    for line in adding.stdout:
        if line.startswith("http"):
            url = line.strip()
            break
    assert url.startswith(f"{meta.base}/v21.0/dialog/oauth?") and f"localhost%3A{port}" in url
    threading.Thread(target=lambda: requests.get(url, timeout=30), daemon=True).start()
    assert adding.stderr is not None
    out, err = adding.stdout.read(), adding.stderr.read()
    assert adding.wait(timeout=60) == 0, err
    assert "Added Instagram @skyfacts.ig and the Facebook Page Sky Facts." in out
    assert secret not in out + err
    listed = subprocess.run([*main, "accounts", "list"], capture_output=True, text=True,
                            env=env, check=True).stdout  # fmt: skip
    assert "Instagram Reels" in listed and "Facebook Reels" in listed and "@skyfacts.ig" in listed


def test_one_row_to_four_platforms_renders_two_shapes_and_posts_each_once(
    workspace: Services, meta: Meta, tiktok: Any, google: Any, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:  # fmt: skip
    """`youtube, tiktok, reels, facebook` in a row's cell: one item, four uploads; the render
    is asked for a 9:16 copy beside the job's 16:9 video — two shapes, not four renders."""
    import csv

    from app import ops
    from app.engine.rendering import Rendering
    from app.ops.jobs import JobRequest
    from app.sources.intake import SourceSpec
    from tests.conftest import HEADER, full_row
    from tests.test_tiktok import POST
    from tests.tiktok_helpers import sign_in_tiktok
    from tests.youtube_helpers import sign_in_channel

    channel = sign_in_channel(workspace, google)
    sign_in_tiktok(workspace, tiktok, monkeypatch)
    sign_in_meta(workspace, meta, monkeypatch)
    path = tmp_path / "rows.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        cell = "youtube, tiktok, reels, facebook"
        writer.writerow(full_row(idea_title="Everywhere", platform_preferences=cell))
    plan = {"target": "sheet", "channel": channel, "made_for_kids": False, "tiktok": POST,
            "accounts": {"tiktok": "@tinycreator", "instagram_reels": "@skyfacts.ig",
                         "facebook": "Sky Facts"}}  # fmt: skip
    made = ops.jobs.create_job(workspace, JobRequest.of(SourceSpec(str(path)), publish=plan))
    with workspace.db.read() as session:
        [item] = session.query(Item).filter(Item.job_id == made.job_id).all()
        places = [u.destination for u in item.uploads]
        item_id = item.id
    assert sorted(places) == ["facebook", "instagram_reels", "tiktok", "youtube"]
    asked = Rendering._wants_vertical(type("E", (), {"db": workspace.db})(), item_id)  # type: ignore[arg-type]
    assert asked  # one render makes the 9:16 copy all three vertical platforms share


def test_instagram_and_facebook_in_the_window(
    qtbot: Any, meta: Meta, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings › Accounts › Add Instagram / Facebook… (the app's id and secret asked for,
    the browser's consent), then the Publishing step offers both with their accounts."""
    import socket

    from app.paths import AppPaths
    from app.ui.main_window import PAGES
    from app.ui.tiktok_app import MetaAppDialog
    from tests.test_publish_ui import open_window, through_to_publishing

    app_id, secret = meta.app()
    meta.page(PAGE, "Sky Facts", IG, "skyfacts.ig")
    monkeypatch.setattr("webbrowser.open", browser)

    def filled_in(dialog: MetaAppDialog) -> int:
        dialog.key.setText(app_id)
        dialog.secret.setText(secret)
        return MetaAppDialog.DialogCode.Accepted.value

    monkeypatch.setattr(MetaAppDialog, "exec", filled_in)
    workspace = Services(AppPaths.resolve(data_dir))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        workspace.settings.set("meta.redirect_port", str(probe.getsockname()[1]))
    window = open_window(qtbot, workspace)
    window.nav.setCurrentRow(PAGES.index("Settings"))
    page = window.settings_page
    qtbot.waitUntil(lambda: page.channels.count() == 1, timeout=30_000)
    page.add_meta_button.click()
    qtbot.waitUntil(lambda: "Added Instagram @skyfacts.ig" in page.message.text(), timeout=30_000)
    qtbot.waitUntil(lambda: page.channels.count() == 2, timeout=30_000)
    shown = {page.channels.item(n).text() for n in range(2)}
    assert shown == {"Instagram Reels · Sky Facts (@skyfacts.ig)", "Facebook Reels · Sky Facts"}
    wizard = through_to_publishing(qtbot, window)
    publishing = wizard.publishing
    box, combo = publishing.reels["instagram_reels"]
    qtbot.waitUntil(lambda: combo.count() == 1, timeout=30_000)
    box.setChecked(True)
    publishing.reels["facebook"][0].setChecked(True)
    qtbot.waitUntil(lambda: publishing.reels["facebook"][1].count() == 1, timeout=30_000)
    publishing.at_time.setChecked(True)
    assert "Instagram cannot schedule" in publishing.tiktok_note.text()
    wizard.next()
    assert wizard.currentPage() is wizard.review, publishing.error.text()
    assert "Instagram Reels (Sky Facts (@skyfacts.ig)) and Facebook Reels (Sky Facts)" in (
        wizard.review.summary.text()
    )
    publish = wizard.result().publish
    assert publish["target"] == "instagram_reels,facebook"
    assert publish["accounts"] == {"instagram_reels": IG, "facebook": PAGE}
    wizard.close()
    window.close()
    window.shutdown()


def _kill_mid_upload_then_restart(
    meta: Meta, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cell: str
) -> tuple[dict[str, Any], str]:
    """The real engine and render in a process of its own: SIGKILL while the first video
    travels to Meta, then a run until idle; the item as `jobs show` has it, and that run's
    output."""
    import csv
    import os
    import signal
    import subprocess
    import sys
    import time
    from contextlib import closing

    from app.paths import AppPaths
    from tests.conftest import HEADER, ROOT, full_row

    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        sign_in_meta(ws, meta, monkeypatch)
        (tmp_path / "videos").mkdir()
        ws.settings.set("output.folder", str(tmp_path / "videos"))
    sheet = tmp_path / "ideas.csv"
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerow(full_row(
            idea_title="Sky fact", platform_preferences=cell, style_override="minimal",
            script_content="The sky is blue because air scatters blue light the most. "
            "Sunsets are red because the light travels further through the air.",
        ))  # fmt: skip
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    main = [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir)]
    created = subprocess.run(
        [*main, "jobs", "create", "--source", str(sheet), "--publish", "sheet",
         "--account", "instagram:@skyfacts.ig", "--account", "facebook:Sky Facts",
         "--resolution", "720p", "--json"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    job = json.loads(created.stdout)["id"]
    meta.upload_delay = 30.0
    engine = subprocess.Popen(
        [*main, "run", "--headless", "--until-idle"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while meta.uploads_started < 1 and time.monotonic() < deadline:
        assert engine.poll() is None, "the engine ended before uploading"
        time.sleep(0.05)
    assert meta.uploads_started == 1
    os.killpg(engine.pid, signal.SIGKILL)
    engine.wait(timeout=30)
    meta.upload_delay = 0.0
    time.sleep(0.5)
    assert not meta.published() and not any(r.published for r in meta.reels.values())
    again = subprocess.run([*main, "run", "--headless", "--until-idle"], capture_output=True,
                           text=True, env=env, timeout=300, check=False)  # fmt: skip
    assert again.returncode == 0, again.stderr
    shown = json.loads(subprocess.run([*main, "jobs", "show", str(job), "--json"],
                                      capture_output=True, text=True, env=env, timeout=60,
                                      check=True).stdout)  # fmt: skip
    [item] = shown["items"]
    assert item["state"] == "completed"
    return item, again.stdout


@pytest.mark.slow
def test_killed_mid_upload_to_instagram_restarted_gives_one_reel_on_each_platform(
    meta: Meta, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    item, said = _kill_mid_upload_then_restart(
        meta, data_dir, tmp_path, monkeypatch, "reels, facebook"
    )
    [media] = meta.published()
    [reel] = [r for r in meta.reels.values() if r.published]
    assert meta.publish_calls == 1 and reel.published == "published"
    tall = Path(item["outputs"]["renditions"]["9:16"]).read_bytes()
    assert media["data"] == tall and bytes(reel.data) == tall
    links = {u["destination"]: u["url"] for u in item["uploads"]}
    assert links == {"instagram_reels": media["permalink"],
                     "facebook": f"https://www.facebook.com/reel/{reel.id}"}  # fmt: skip
    assert "row 2 Instagram Reels: published →" in said


@pytest.mark.slow
def test_killed_mid_upload_to_facebook_restarted_gives_one_reel(
    meta: Meta, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    item, said = _kill_mid_upload_then_restart(meta, data_dir, tmp_path, monkeypatch, "facebook")
    assert len(meta.reels) == 1  # the same Reel, asked after and finished
    [reel] = meta.reels.values()
    assert reel.published == "published"
    assert bytes(reel.data) == Path(item["outputs"]["renditions"]["9:16"]).read_bytes()
    assert "row 2 Facebook Reels: published →" in said


def test_an_instagram_post_missed_while_asleep_goes_out_on_waking_with_a_note(
    workspace: Services, meta: Meta, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sign_in_meta(workspace, meta, monkeypatch)
    when = datetime(2031, 5, 4, 9, 0, tzinfo=UTC)
    job_id = job(workspace, tmp_path, "instagram_reels", publish_at=when.isoformat())
    [item] = rendered(workspace, job_id, tmp_path)
    with workspace.db.write() as session:
        assert publishing.claim_uploads(session, 5, utcnow()) == []  # not before its time
    woke = when + timedelta(hours=2, minutes=5)
    outcome, _state = attempt(workspace, instagram(workspace, clock=lambda: woke), item, now=woke)
    assert outcome.kind == "done" and len(meta.published()) == 1
    assert "posted 2 h 5 min late" in (row_of(workspace, item, "instagram_reels").note or "")


@pytest.mark.parametrize(
    ("platform", "args", "words"),
    [
        ("instagram_reels", (".webm", "vp9", 1080, 1920, 30.0), "MP4 or MOV"),
        ("instagram_reels", (".mp4", "vp9", 1080, 1920, 30.0), "H.264 or HEVC"),
        ("instagram_reels", (".mp4", "h264", 1080, 1920, 20.0), "23 to 60"),
        ("instagram_reels", (".mp4", "h264", 2160, 3840, 30.0), "at most 1920"),
        ("facebook", (".mp4", "h264", 360, 640, 30.0), "at least 540×960"),
        ("facebook", (".mp4", "h264", 1080, 1920, 23.5), "24 to 60"),
    ],
)
def test_a_file_reels_would_refuse_is_refused_before_a_byte_is_sent(
    platform: str, args: tuple[Any, ...], words: str
) -> None:
    from app.domain.meta import video_refusal

    assert words in (video_refusal(platform, *args) or "")
    assert video_refusal(platform, ".mp4", "h264", 1080, 1920, 30.0) is None


def test_a_real_vertical_render_passes_and_a_small_one_is_refused_for_facebook(
    tmp_path: Path,
) -> None:
    import subprocess

    from app.pipeline.media import ffmpeg_exe
    from app.publish.meta import _file_refusal

    def make(name: str, size: str) -> Path:
        path = tmp_path / name
        subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                        f"testsrc=size={size}:rate=30:duration=1", "-c:v", "libx264", str(path)],
                       check=True)  # fmt: skip
        return path

    assert _file_refusal("facebook", make("tall.mp4", "720x1280")) is None
    assert "at least 540×960" in (_file_refusal("facebook", make("small.mp4", "360x640")) or "")
    assert _file_refusal("instagram_reels", make("ig.mp4", "360x640")) is None
