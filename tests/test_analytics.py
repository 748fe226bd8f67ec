"""How published videos do: figures read from the loopback YouTube over several days, kept in
the database, and what they say (best, worst, weekdays, hours) — which the calendar uses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from app import ops, queries
from app.domain.analytics import (
    Reading,
    VideoHistory,
    best_hours,
    by_weekday,
    hour_scores,
    median_curve,
    ranked,
)
from app.google.analytics import Analytics
from app.google.channels import token_key
from app.queries.calendar import Calendar
from app.services import Services
from app.store.models import Item, Job, Upload, VideoStat
from tests.fake_google import Google
from tests.fake_youtube import Video
from tests.youtube_helpers import Clock, publishing_job, sign_in_channel

BERLIN = ZoneInfo("Europe/Berlin")
DAY0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def published_videos(
    workspace: Services, google: Google, tmp_path: Path, count: int, at: datetime = DAY0
) -> dict[int, str]:
    """``count`` videos on the fake YouTube and published in the database: item → video id."""
    channel = sign_in_channel(workspace, google)
    job = publishing_job(workspace, tmp_path, count)
    videos: dict[int, str] = {}
    with workspace.db.write() as session:
        session.execute(update(Item).values(state="completed", phase="upload"))
        session.execute(update(Job).values(state="completed"))
        uploads = session.scalars(select(Upload).order_by(Upload.item_id)).all()
        for n, upload in enumerate(uploads):
            video_id = f"vid{n:08d}"
            upload.video_id, upload.status = video_id, "published"
            upload.publish_at = at - timedelta(hours=n)
            videos[upload.item_id] = video_id
            google.youtube.videos[video_id] = Video(
                video_id, channel, {"title": f"Video {n}"}, {"privacyStatus": "public"}, b"",
                at,
            )  # fmt: skip
    assert job
    return videos


def analytics(workspace: Services, clock: Clock) -> Analytics:
    workspace.quota.clock = clock
    return Analytics(
        workspace.db, workspace.channels, workspace.quota, workspace.quota_limits, clock=clock
    )


def test_figures_are_read_each_day_and_kept_as_history(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    videos = published_videos(workspace, google, tmp_path, 3)
    clock = Clock(DAY0 + timedelta(days=1))
    reader = analytics(workspace, clock)
    assert reader.due()
    for n, video_id in enumerate(videos.values()):
        google.youtube.videos[video_id].stats = {
            "viewCount": str(100 * (n + 1)), "likeCount": "7", "commentCount": "2",
        }  # fmt: skip
    google.youtube.videos["vid00000002"].stats.pop("likeCount")  # likes hidden
    report = reader.fetch()
    assert report.read == {"Cadence Test Channel": 3} and not report.skipped
    assert not reader.due()  # read today: the next read is tomorrow

    clock.now += timedelta(days=1)
    assert reader.due()
    for video_id in videos.values():
        google.youtube.videos[video_id].stats["viewCount"] = "1000"
    reader.fetch()
    assert google.youtube.stat_queries == [3, 3]  # one request per read for all three
    assert workspace.quota.today("cid.apps.googleusercontent.com").units == 1

    report_now = queries.analytics.analytics_report(workspace, None, None, 1)
    histories = {v.video_id: v for v in report_now["videos"]}
    first = histories["vid00000000"]
    assert [r.views for r in first.readings] == [100, 1000]
    assert first.readings[0].likes == 7 and histories["vid00000002"].readings[0].likes is None
    assert report_now["last_read"] == clock.now


def test_more_than_fifty_videos_are_read_fifty_at_a_time(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    published_videos(workspace, google, tmp_path, 120)
    report = analytics(workspace, Clock(DAY0 + timedelta(days=1))).fetch()
    assert report.read == {"Cadence Test Channel": 120}
    assert google.youtube.stat_queries == [50, 50, 20]


def test_a_signed_out_channel_keeps_its_last_figures_with_their_date(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    videos = published_videos(workspace, google, tmp_path, 2)
    clock = Clock(DAY0 + timedelta(days=1))
    reader = analytics(workspace, clock)
    reader.fetch()
    read_at = clock.now
    workspace.channels.secrets.delete(token_key("UC_x5XG1OV2P6uZZ5FSM9Ttw"))  # signed out
    clock.now += timedelta(days=1)
    report = reader.fetch()
    assert report.read == {}
    assert "sign the channel in again" in report.skipped["Cadence Test Channel"]
    assert "skipped Cadence Test Channel" in report.summary()
    shown = queries.analytics.analytics_report(workspace, None, None, 7)
    assert shown["last_read"] == read_at  # the figures stay, with the day they were read
    assert len(shown["videos"]) == len(videos) and all(v.readings for v in shown["videos"])


def test_the_engine_reads_the_figures_once_a_day(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    import asyncio

    from app.engine.service import Engine

    published_videos(workspace, google, tmp_path, 2)
    for _start in range(2):  # a restart the same day: read today already, nothing more
        engine = Engine(workspace, run_schedules=False, poll_seconds=0.05)
        asyncio.run(engine.run(asyncio.Event(), until_idle=True))
    with workspace.db.read() as session:
        assert session.scalar(select(func.count(VideoStat.id))) == 2
    assert google.youtube.stat_queries == [2]


def test_a_revoked_sign_in_is_said_not_raised(
    google: Google, workspace: Services, tmp_path: Path
) -> None:
    published_videos(workspace, google, tmp_path, 1)
    google.tokens.clear()  # YouTube answers 401…
    google.refuse_refresh = True  # …and Google refuses to refresh: the sign-in was revoked
    report = analytics(workspace, Clock(DAY0 + timedelta(days=1))).fetch()
    assert (
        report.read == {} and "sign the channel in again" in report.skipped["Cadence Test Channel"]
    )


# --- what the figures say --------------------------------------------------------------------


def video(n: int, published: datetime, views_by_day: dict[int, int]) -> VideoHistory:
    readings = tuple(
        Reading(published + timedelta(days=day, hours=1), views)
        for day, views in sorted(views_by_day.items())
    )
    return VideoHistory(n, 1, f"Video {n}", f"v{n}", "UC", published, readings)


def test_videos_compare_by_their_views_a_week_in() -> None:
    monday_evening = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
    old_big = video(1, monday_evening - timedelta(days=60), {7: 500, 60: 9000})
    young = video(2, monday_evening, {1: 800})  # more views now, but one day old
    steady = video(3, monday_evening - timedelta(days=20), {7: 900, 20: 1200})
    order = ranked([old_big, young, steady])
    assert [(r.video.item_id, r.views, r.at_days) for r in order] == [(3, 900, 7), (1, 500, 7)]
    # Too few videos a week old: the latest figures, said as such.
    assert ranked([young])[0].at_days is None
    assert old_big.views_at(7) == 500 and old_big.views_at(30) is None  # no reading near day 30
    assert median_curve([old_big, steady], 7, least=2) == ([7.0], [700.0])
    assert median_curve([old_big, steady], 7) == ([], [])  # two videos: too few to tell


def test_the_best_hours_are_the_channels_own_local_hours() -> None:
    base = datetime(2026, 10, 1, tzinfo=UTC)
    # Berlin is UTC+2 in early October: 16:00 UTC is 18:00 there.
    evening = [video(n, base + timedelta(days=n, hours=16), {7: 1000 + n}) for n in range(3)]
    morning = [video(10 + n, base + timedelta(days=n, hours=6), {7: 100}) for n in range(3)]
    scores = hour_scores(evening + morning, BERLIN)
    assert best_hours(scores) == [18]
    assert scores[8] < 1.0 < scores[18]
    assert hour_scores(evening[:2], BERLIN) == {}  # too few videos to go by
    weekdays = by_weekday(evening, BERLIN)
    assert [b.videos for b in weekdays] == [0, 0, 0, 1, 1, 1, 0]  # Thu, Fri, Sat


def test_calendar_suggestions_prefer_the_hours_that_worked(
    google: Google, workspace: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.store import analytics as store

    channel = sign_in_channel(workspace, google)
    ops.calendar.set_config(workspace, channel, {"timezone": "Europe/Berlin", "max_per_day": 1})
    good = [video(n, DAY0 - timedelta(days=30 + n, hours=-10), {7: 5000}) for n in range(3)]
    poor = [video(9 + n, DAY0 - timedelta(days=30 + n), {7: 50}) for n in range(3)]
    monkeypatch.setattr(store, "histories", lambda *_a, **_k: good + poor)
    hour = good[0].published_at.astimezone(BERLIN).hour  # 21:00 summer time: wall-clock
    assert hour == 21
    slots = Calendar(workspace).suggest(3, None, 7, channel)
    assert {s.astimezone(BERLIN).hour for s in slots} == {hour}


def test_hour_scores_are_worked_out_again_only_after_a_read(
    google: Google, workspace: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.store import analytics as store

    videos = published_videos(workspace, google, tmp_path, 2)
    channel = next(iter(google.youtube.videos.values())).channel
    reads: list[int] = []
    real = store.histories
    monkeypatch.setattr(store, "histories", lambda *a, **k: reads.append(1) or real(*a, **k))
    planner = Calendar(workspace)
    assert planner.hour_scores(channel) == planner.hour_scores(channel) == {}
    assert len(reads) == 1  # the second suggestion reused the first's scores
    clock = Clock(DAY0 + timedelta(days=1))
    for video_id in videos.values():
        google.youtube.videos[video_id].stats = {"viewCount": "10"}
    analytics(workspace, clock).fetch()  # new readings: the scores must be worked out again
    planner.hour_scores(channel)
    planner.hour_scores(channel)
    assert len(reads) == 2


def test_the_analytics_command_reads_and_ranks(
    google: Google, workspace: Services, tmp_path: Path, run_cli: Any
) -> None:
    videos = published_videos(workspace, google, tmp_path, 3)
    for n, video_id in enumerate(videos.values()):
        google.youtube.videos[video_id].stats["viewCount"] = str(1000 * (n + 1))
    shown = run_cli("analytics", "--fetch")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "Read the figures of 3 videos of Cadence Test Channel." in out
    assert "3 published videos; figures read" in out
    assert "Best (views so far):" in out  # none has a reading a week after publishing
    assert out.index("3,000 views") < out.index("1,000 views")  # best first
    assert "not enough videos a week old yet" in out
    as_json = json.loads(run_cli("analytics", "--json").stdout)
    assert [r["views"] for r in as_json["ranked"]] == [3000, 2000, 1000]
    wrong = run_cli("analytics", "--channel", "@nobody")
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr


def test_the_analytics_page_shows_best_worst_and_hours(qtbot: Any) -> None:
    from app.domain.analytics import Ranked
    from app.ui.pages.analytics import AnalyticsPage

    page = AnalyticsPage()
    qtbot.addWidget(page)
    videos = [video(n, DAY0 - timedelta(days=20), {7: 100 * n}) for n in range(1, 8)]
    report = {
        "videos": videos, "last_read": DAY0, "median_curve": ([7.0], [400.0]),
        "ranked": [Ranked(v, 100 * v.item_id, 7) for v in reversed(videos)],
        "weekday": by_weekday(videos, BERLIN), "hour": [], "best_hours": [18],
    }  # fmt: skip
    page.show()
    page.build_charts()
    page.show_report(report)
    assert page.best.item(0).text() == "Video 7 — 700 views at 7 days"
    assert page.worst.item(0).text() == "Video 1 — 100 views at 7 days"  # worst first
    assert "18:00" in page.best_hours.text()
    asked: list[int] = []
    page.show_job.connect(asked.append)
    page.best.itemActivated.emit(page.best.item(0))
    assert asked == [1]
