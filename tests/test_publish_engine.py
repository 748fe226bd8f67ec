"""Publishing through the real engine and the command line: approval, write-back of links,
and the full path — render, upload, SIGKILL mid-upload, restart — ending with one video."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app import ops, queries
from app.engine import rendering, service, uploading
from app.ops.jobs import JobRequest
from app.paths import AppPaths
from app.pipeline.runner import RenderOutcome
from app.services import Services
from app.sources.intake import SourceSpec
from tests.conftest import DEMO, ROOT, desktop_client, full_row
from tests.fake_google import Google
from tests.youtube_helpers import HEADER, publishing_job, sign_in_channel, stand_in_render

CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
Run = Callable[..., subprocess.CompletedProcess[str]]


def run_engine(workspace: Services, events: list[service.EngineEvent] | None = None) -> None:
    engine = service.Engine(
        workspace,
        poll_seconds=0.05,
        run_schedules=False,
        on_event=(events.append if events is not None else lambda _e: None),
    )
    asyncio.run(asyncio.wait_for(engine.run(asyncio.Event(), until_idle=True), 60))


def test_approval_holds_rendered_videos_until_approved(
    google: Google,
    workspace: Services,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Run,
) -> None:
    monkeypatch.setattr(rendering, "run_render", stand_in_render)
    (tmp_path / "videos").mkdir(exist_ok=True)
    workspace.settings.set("output.folder", str(tmp_path / "videos"))
    sign_in_channel(workspace, google)
    job = publishing_job(workspace, tmp_path, rows=3, approve=True)
    events: list[service.EngineEvent] = []
    run_engine(workspace, events)
    record = queries.jobs.job(workspace, job)
    assert record["state"] == "running"  # not finished: its videos wait for the user
    assert [i["phase"] for i in record["items"]] == ["approval"] * 3
    assert sum(e.kind == "item_awaiting_approval" for e in events) == 3
    assert not google.youtube.videos
    shown = run_cli("jobs", "show", str(job))
    assert shown.stdout.count("awaiting approval") == 3, shown.stdout
    assert "after approval" in shown.stdout
    first, second, third = (i["id"] for i in record["items"])
    assert "Approved 2 items" in ops.publishing.approve(workspace, [first, second]).message
    assert "skipped" in ops.publishing.reject(workspace, [third], "off-brand thumbnail").message
    with pytest.raises(Exception, match="not awaiting approval"):
        ops.publishing.approve(workspace, [third])
    run_engine(workspace)
    record = queries.jobs.job(workspace, job)
    assert record["state"] == "completed"
    states = [(i["state"], (i["upload"] or {}).get("status")) for i in record["items"]]
    assert states == [("completed", "published"), ("completed", "published"),
                      ("canceled", "rejected")]  # fmt: skip
    assert len(google.youtube.videos) == 2
    assert record["items"][2]["error"] == "rejected: off-brand thumbnail"
    shown = run_cli("jobs", "show", str(job)).stdout
    assert shown.count("published") >= 2 and "https://www.youtube.com/watch?v=" in shown


def test_rejecting_to_render_again_removes_the_files_and_queues_the_render(
    google: Google, workspace: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rendering, "run_render", stand_in_render)
    (tmp_path / "videos").mkdir(exist_ok=True)
    workspace.settings.set("output.folder", str(tmp_path / "videos"))
    sign_in_channel(workspace, google)
    job = publishing_job(workspace, tmp_path, approve=True)
    run_engine(workspace)
    [item] = queries.jobs.job(workspace, job)["items"]
    video = Path(item["outputs"]["video"])
    assert video.exists()
    assert (
        "render again"
        in ops.publishing.reject(workspace, [item["id"]], "too quiet", again=True).message
    )
    assert not video.exists()
    [item] = queries.jobs.job(workspace, job)["items"]
    assert (item["state"], item["phase"]) == ("pending", "render")
    run_engine(workspace)
    [item] = queries.jobs.job(workspace, job)["items"]
    assert item["phase"] == "approval" and Path(item["outputs"]["video"]).exists()


def test_publish_every_spaces_the_videos_in_sheet_order(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    sign_in_channel(workspace, google)
    job = publishing_job(
        workspace,
        tmp_path,
        rows=3,
        every="1d12h",
        first="2027-03-27T18:00",
        timezone="Europe/Berlin",
    )
    times = [i["upload"]["publish_at"] for i in queries.jobs.job(workspace, job)["items"]]
    # Wall-clock 18:00 in Berlin, across the spring-forward change on 28 March.
    assert times == [
        "2027-03-27T17:00:00+00:00",
        "2027-03-29T04:00:00+00:00",
        "2027-03-30T16:00:00+00:00",
    ]


def test_a_rows_own_publish_time_wins(google: Google, workspace: Services, tmp_path: Path) -> None:
    sign_in_channel(workspace, google)
    path = tmp_path / "timed.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([*HEADER, "Publish at"])
        writer.writerow([*full_row(idea_title="Timed"), "2027-01-05 09:30"])
        writer.writerow([*full_row(idea_title="Untimed"), ""])
    created = ops.jobs.create_job(
        workspace,
        JobRequest.of(
            SourceSpec(str(path)),
            publish={
                "target": "youtube",
                "channel": "Cadence Test Channel",
                "made_for_kids": False,
                "publish_at": "2027-02-01T12:00",
                "timezone": "America/New_York",
            },
        ),
    )
    items = queries.jobs.job(workspace, created.job_id)["items"]
    assert [i["upload"]["publish_at"] for i in items] == [
        "2027-01-05T14:30:00+00:00",
        "2027-02-01T17:00:00+00:00",
    ]
    assert items[0]["upload"]["channel"] == CHANNEL  # named by title, stored by id


def test_write_back_shows_the_youtube_link_and_status(
    google: Google, workspace: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_google_sheets import SHEET, URL, demo_rows, sign_in_user

    monkeypatch.setattr(rendering, "run_render", stand_in_render)
    (tmp_path / "videos").mkdir(exist_ok=True)
    workspace.settings.set("output.folder", str(tmp_path / "videos"))
    sign_in_user(workspace)
    sign_in_channel(workspace, google)
    google.add(SHEET, {"Ideas": demo_rows()[:3]}, column_count=10)
    later = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    created = ops.jobs.create_job(
        workspace,
        JobRequest.of(
            SourceSpec(URL),
            write_back=True,
            publish={
                "target": "youtube",
                "channel": CHANNEL,
                "made_for_kids": False,
                "privacy": "public",
                "publish_at": later.isoformat(),
            },
        ),
    )
    run_engine(workspace)
    engine = service.Engine(workspace, run_schedules=False)
    engine.writeback.flush()
    rows = google.spreadsheets[SHEET].tabs[0].rows
    header = rows[0]
    status, output = header.index("Cadence status"), header.index("Cadence output")
    videos = sorted(google.youtube.videos)
    assert [r[status] for r in rows[1:3]] == ["scheduled", "scheduled"]
    assert sorted(r[output].rsplit("=", 1)[1] for r in rows[1:3]) == videos
    assert queries.jobs.job(workspace, created.job_id)["state"] == "completed"


def test_a_run_until_idle_leaves_every_rows_last_status_in_the_sheet(
    google: Google, workspace: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last video's "completed" is written before the run returns (it once needed a second
    run); rows it could not write are counted and said."""
    from tests.test_google_sheets import SHEET, URL, demo_rows, sign_in_user

    monkeypatch.setattr(rendering, "run_render", stand_in_render)
    (tmp_path / "videos").mkdir(exist_ok=True)
    workspace.settings.set("output.folder", str(tmp_path / "videos"))
    sign_in_user(workspace)
    google.add(SHEET, {"Ideas": demo_rows()[:4]}, column_count=10)
    ops.jobs.create_job(workspace, JobRequest.of(SourceSpec(URL), write_back=True))
    engine = service.Engine(workspace, poll_seconds=0.2, run_schedules=False)
    asyncio.run(engine.run(asyncio.Event(), until_idle=True))
    rows = google.spreadsheets[SHEET].tabs[0].rows
    status = rows[0].index("Cadence status")
    assert [r[status] for r in rows[1:4]] == ["completed"] * 3
    assert engine.write_back_left == 0


def test_jobs_create_refuses_incomplete_publishing(run_cli: Run, tmp_path: Path) -> None:
    base = ["jobs", "create", "--source", str(DEMO)]
    result = run_cli(*base, "--approve")
    assert result.returncode == 2 and "--approve needs --publish (youtube" in result.stderr
    result = run_cli(*base, "--publish", "youtube", "--channel", "Nope", "--not-made-for-kids")
    assert result.returncode == 2 and "no signed-in channel 'Nope'" in result.stderr
    result = run_cli(*base, "--format", "webm", "--video-codec", "h264")
    assert result.returncode == 2 and "WebM carries VP9 video only" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli(*base, "--resolution", "720p", "--vertical", "--style", "minimal", "--json")
    assert result.returncode == 0, result.stderr
    job = json.loads(result.stdout)["id"]
    shown = json.loads(run_cli("jobs", "show", str(job), "--json").stdout)
    assert shown["output"]["resolution"] == "720p" and shown["output"]["vertical"] is True
    assert shown["style"] == "minimal"


def test_jobs_create_asks_whether_videos_are_made_for_kids(
    run_cli: Run, google: Google, data_dir: Path
) -> None:
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        sign_in_channel(ws, google)
    result = run_cli(
        "jobs", "create", "--source", str(DEMO), "--publish", "youtube", "--channel", CHANNEL
    )
    assert result.returncode == 2
    assert "made for kids" in result.stderr and "--not-made-for-kids" in result.stderr


def test_channels_list_and_remove(run_cli: Run, google: Google, data_dir: Path) -> None:
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        sign_in_channel(ws, google)
    listed = json.loads(run_cli("channels", "list", "--json").stdout)
    assert listed == [
        {
            "id": CHANNEL,
            "platform": "youtube",
            "title": "Cadence Test Channel",
            "handle": "@cadencetest",
            "hold": None,
            "waiting_uploads": 0,
        }
    ]
    removed = run_cli("channels", "remove", "@cadencetest")
    assert removed.returncode == 0 and "Removed the channel Cadence Test Channel" in removed.stdout
    assert google.revoked == [f"refresh-{CHANNEL}"]
    assert "No YouTube channel yet" in run_cli("channels", "list").stdout
    missing = run_cli("channels", "remove", "gone")
    assert missing.returncode == 2 and "no signed-in channel 'gone'" in missing.stderr


def test_auth_login_youtube_without_a_browser_prints_the_address_and_adds_the_channel(
    google: Google, data_dir: Path, tmp_path: Path
) -> None:
    secrets = desktop_client(tmp_path)
    google.grant_scope = "https://www.googleapis.com/auth/youtube"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "CADENCE_GOOGLE_ENDPOINT": google.base_url}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir), "auth", "login",
         "--youtube", "--client-secrets", str(secrets), "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert process.stdout is not None
    address = ""
    for line in process.stdout:
        if line.startswith("https://accounts.google.com/"):
            address = line.strip()  # the address alone on its line
            break
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(address).query)
    assert query["scope"] == ["https://www.googleapis.com/auth/youtube"]
    redirect = query["redirect_uri"][0]
    assert redirect.startswith("http://127.0.0.1:") or redirect.startswith("http://localhost:")
    back = f"{redirect}?code=consent-code&state={query['state'][0]}"
    urllib.request.urlopen(back, timeout=10).read()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert f"Added the YouTube channel Cadence Test Channel (@cadencetest), id {CHANNEL}" in out
    assert "consent-code" not in out + err and "issued-" not in out + err
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        assert [c.id for c in ws.channels.records()] == [CHANNEL]


def _one_row_sheet(tmp_path: Path) -> Path:
    path = tmp_path / "one.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerow(
            full_row(
                idea_title="Why the sky is blue",
                script_content="The sky is blue because air scatters blue light the most. "
                "Sunsets are red because the light travels further through the air. "
                "Clouds are white because their droplets scatter every colour alike. "
                "On Mars the sky is butterscotch by day and blue at sunset. "
                "Now you know why, and you can tell your friends.",
                style_override="minimal",
            )
        )
    return path


@pytest.mark.slow
def test_render_upload_kill_mid_upload_restart_gives_exactly_one_video(
    google: Google, data_dir: Path, tmp_path: Path
) -> None:
    """The whole way with the real engine and render: SIGKILL while the video is halfway
    up, start again — one video on the channel, its bytes the file's."""
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        sign_in_channel(ws, google)
        ws.settings.set("youtube.chunk_kb", "256")
        (tmp_path / "videos").mkdir()
        ws.settings.set("output.folder", str(tmp_path / "videos"))
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "CADENCE_GOOGLE_ENDPOINT": google.base_url}
    main = [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir)]
    created = subprocess.run(
        [*main, "jobs", "create", "--source", str(_one_row_sheet(tmp_path)), "--publish",
         "youtube", "--channel", CHANNEL, "--privacy", "unlisted", "--not-made-for-kids",
         "--resolution", "720p", "--json"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    job = json.loads(created.stdout)["id"]
    google.youtube.chunk_delay = 0.4  # a slow line: time to pull the plug mid-upload
    engine = subprocess.Popen(
        [*main, "run", "--headless", "--until-idle"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while len(google.youtube.chunks) < 2 and time.monotonic() < deadline:
        assert engine.poll() is None, "the engine ended before uploading"
        time.sleep(0.05)
    assert len(google.youtube.chunks) >= 2
    os.killpg(engine.pid, signal.SIGKILL)
    engine.wait(timeout=30)
    time.sleep(0.5)  # the fake finishes storing the chunk in flight
    assert not google.youtube.videos  # killed halfway
    [session] = google.youtube.sessions.values()
    stored, chunks_before = len(session.received), len(google.youtube.chunks)
    assert 0 < stored < session.total
    google.youtube.chunk_delay = 0.0
    again = subprocess.run(
        [*main, "run", "--headless", "--until-idle"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "unlisted" not in again.stderr
    assert len(google.youtube.videos) == 1 and google.youtube.inserts == 1
    [video] = google.youtube.videos.values()
    shown = json.loads(
        subprocess.run(
            [*main, "jobs", "show", str(job), "--json"],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        ).stdout
    )  # fmt: skip
    [item] = shown["items"]
    assert item["state"] == "completed" and item["upload"]["video_id"] == video.id
    assert Path(item["outputs"]["video"]).read_bytes() == video.data
    assert video.status["privacyStatus"] == "unlisted" and video.thumbnail
    assert f"https://www.youtube.com/watch?v={video.id}" in again.stdout
    # The restart asked the session where it stood, then went on from there.
    assert google.youtube.status_queries >= 1
    assert min(start for start, _end in google.youtube.chunks[chunks_before:]) >= stored


def test_until_idle_does_not_stop_while_a_finishing_worker_left_work(
    workspace: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A render that ends while the loop awaits other work must not make `--until-idle`
    stop with the next item of its job unclaimed (seen as a flaky test before the fix)."""

    def quick(task: Any, progress: Any, **_kwargs: Any) -> RenderOutcome:
        time.sleep(0.5)  # longer than one pass of the loop …
        return RenderOutcome("completed", None)

    async def slow_uploads(self: uploading.Uploading) -> int:
        await asyncio.sleep(0.3)  # … and ending while a later pass awaits this
        return 0

    monkeypatch.setattr(rendering, "run_render", quick)
    monkeypatch.setattr(uploading.Uploading, "fill", slow_uploads)
    (tmp_path / "videos").mkdir()
    workspace.settings.set("output.folder", str(tmp_path / "videos"))
    created = ops.jobs.create_job(
        workspace, JobRequest.of(SourceSpec(str(DEMO)), title="Two at a time, one by one")
    )
    run_engine(workspace)
    assert queries.jobs.job(workspace, created.job_id)["state"] == "completed"


def test_the_only_signed_in_channel_is_used_when_none_is_named(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    from tests.fake_youtube import Channel as FakeChannel

    sign_in_channel(workspace, google)
    job = publishing_job(workspace, tmp_path, channel="")
    assert queries.jobs.job(workspace, job)["publish"]["channel"] == CHANNEL
    sign_in_channel(workspace, google, FakeChannel("UC_second0000000000000000", "Second", ""))
    with pytest.raises(Exception, match="name the channel to publish to"):
        publishing_job(workspace, tmp_path, channel="")
