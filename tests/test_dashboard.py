"""The dashboard's and the monitor's pictures: what they are drawn from, and what they show."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app import ops, queries
from app.domain.daily import Day, by_local_day
from app.ops.jobs import JobRequest
from app.paths import DEMO_SHEET, AppPaths
from app.services import Services
from app.sources.intake import SourceSpec
from app.store.models import Item, Job
from app.ui.background import Background
from app.ui.pages.dashboard import DashboardPage, attention_text
from app.ui.pages.monitor import MonitorPage, left_text
from app.ui.series import Counter, Series
from tests.conftest import FakeClock

BERLIN = ZoneInfo("Europe/Berlin")


# --- the models, with a fake clock ---------------------------------------------------------


def test_a_series_keeps_the_last_hour_newest_at_zero() -> None:
    clock = FakeClock()
    series = Series(span=3600, clock=clock)
    for value in (10.0, 20.0, 30.0):
        series.add(value)
        clock.sleep(1800)
    xs, ys = series.points()  # the first sample is now 5400 s old: gone
    assert ys == [20.0, 30.0] and xs == [-3600.0, -1800.0]
    assert series.latest == 30.0


def test_a_counter_buckets_events_by_five_minutes() -> None:
    clock = FakeClock()
    made = Counter(span=3600, bucket=300, clock=clock)
    made.add()  # 3700 s before the end: dropped
    clock.sleep(200)
    made.add()  # 3500 s before: the first bucket
    clock.sleep(2900)
    made.add()  # 600 s before: the third from the end
    made.add()
    clock.sleep(500)
    made.add()  # 100 s before: the last
    clock.sleep(100)
    starts, counts = made.counts()
    assert len(counts) == 12 and starts[0] == -3600 and starts[-1] == -300
    assert counts == [1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1]
    assert made.total() == 4


def test_days_are_the_users_local_days_across_a_dst_change() -> None:
    # Berlin left summer time on 2026-10-25 at 03:00 (01:00 UTC).
    outcomes = [
        (datetime(2026, 10, 24, 22, 30, tzinfo=UTC), "completed", 2),  # 25 Oct 00:30 CEST
        (datetime(2026, 10, 25, 22, 45, tzinfo=UTC), "completed", 1),  # 25 Oct 23:45 CET
        (datetime(2026, 10, 25, 23, 15, tzinfo=UTC), "failed", 1),  # 26 Oct 00:15 CET
        (datetime(2026, 9, 1, 12, 0, tzinfo=UTC), "completed", 5),  # before the window
    ]
    days = by_local_day(outcomes, date(2026, 10, 26), 3, BERLIN)
    assert days == [
        Day(date(2026, 10, 24)),
        Day(date(2026, 10, 25), completed=3),
        Day(date(2026, 10, 26), failed=1),
    ]
    assert [d.success_rate for d in days] == [None, 100.0, 0.0]


def test_the_23_hour_day_of_spring_forward_keeps_its_edges() -> None:
    # Berlin went to summer time on 2026-03-29 at 02:00 (01:00 UTC): that day has 23 hours.
    outcomes = [
        (datetime(2026, 3, 28, 22, 59, tzinfo=UTC), "completed", 1),  # 28 Mar 23:59 CET
        (datetime(2026, 3, 28, 23, 0, tzinfo=UTC), "completed", 2),  # 29 Mar 00:00 CET
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "failed", 1),  # 29 Mar 03:00 CEST
        (datetime(2026, 3, 29, 21, 59, tzinfo=UTC), "completed", 1),  # 29 Mar 23:59 CEST
        (datetime(2026, 3, 29, 22, 0, tzinfo=UTC), "failed", 3),  # 30 Mar 00:00 CEST
    ]
    days = by_local_day(outcomes, date(2026, 3, 30), 3, BERLIN)
    assert days == [
        Day(date(2026, 3, 28), completed=1),
        Day(date(2026, 3, 29), completed=3, failed=1),
        Day(date(2026, 3, 30), failed=3),
    ]


def test_the_running_items_time_left_comes_from_their_pace() -> None:
    assert left_text(90, 30) == "1:00"  # said 90 s left, 30 s ago
    assert left_text(None, 0) == "–"  # the engine has not said yet
    assert left_text(7200, 0) == "2:00:00"
    assert left_text(10, 40) == "0:00"  # overdue: never below nothing


def test_attention_cards_say_what_is_wrong_and_what_fixes_it() -> None:
    assert attention_text({"kind": "failed", "job_id": 4, "title": "Week", "count": 2}) == (
        "“Week”: 2 videos failed", "Open job", "job:4",
    )  # fmt: skip
    assert attention_text({"kind": "approval", "count": 1})[0] == "1 video awaits your approval"
    assert attention_text({"kind": "unsigned", "count": 3})[1:] == ("Sign in", "settings")


# --- the workspace's figures -----------------------------------------------------------------


@pytest.fixture
def workspace(data_dir: Path) -> Iterator[Services]:
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        yield ws


def test_the_dashboard_counts_videos_per_day_and_names_failed_jobs(workspace: Services) -> None:
    made = ops.jobs.create_job(
        workspace, JobRequest.of(SourceSpec(str(DEMO_SHEET)), title="Science")
    )
    now = datetime.now(UTC)
    with workspace.db.write() as session:
        items = list(session.scalars(select(Item).where(Item.job_id == made.job_id)))
        for n, item in enumerate(items[:3]):
            item.state, item.finished_at = "completed", now - timedelta(days=n)
        items[3].state, items[3].finished_at, items[3].error = "failed", now, "no voice"
        job = session.get(Job, made.job_id)
        assert job is not None
        job.state = "running"
    shown = queries.dashboard.dashboard(workspace)
    days: list[Day] = shown["made"]
    assert len(days) == 30 and days[-1].day == shown["today"]
    assert sum(d.completed for d in days) == 3 and sum(d.failed for d in days) == 1
    assert days[-1].failed == 1
    assert shown["attention"] == [
        {"kind": "failed", "job_id": made.job_id, "title": "Science", "count": 1}
    ]
    assert shown["units_left"] == shown["units_limit"] == 10_000  # nothing spent today


# --- the pages -----------------------------------------------------------------------------


def test_an_attention_card_takes_you_where_to_act(qtbot: QtBot) -> None:
    page = DashboardPage()
    qtbot.addWidget(page)
    asked: list[str] = []
    page.act.connect(asked.append)
    totals = {
        "jobs_total": 1, "jobs_by_state": {"running": 1}, "items_completed": 0,
        "success_rate": None, "completed_last_day": 0,
    }  # fmt: skip
    attention = [{"kind": "approval", "count": 2}]
    page.show_overview({"totals": totals, "next_runs": [], "failures": [], "attention": attention})
    from PySide6.QtWidgets import QPushButton

    buttons = [b for b in page.findChildren(QPushButton) if b.text() == "Review"]
    assert len(buttons) == 1
    assert buttons[0].accessibleName() == "Review: 2 videos await your approval"
    buttons[0].click()
    assert asked == ["approve"]


def test_the_first_paint_shows_no_made_up_figures_or_empty_charts(
    qtbot: QtBot, workspace: Services
) -> None:
    page = DashboardPage()
    qtbot.addWidget(page)
    page.show()
    assert all(label.text() == "" for label in page.values.values())  # no dashes
    page.build_charts()  # after the first paint, before the figures: still nothing drawn
    assert page.made_chart is not None and page.rate_chart is not None
    assert page.made_chart.isHidden() and page.rate_chart.isHidden()
    assert page.chart_note.isVisible()
    page.show_overview(queries.dashboard.dashboard(workspace))
    assert not page.made_chart.isHidden() and not page.chart_note.isVisible()
    assert page.values["all"].text() == "0"
    saved = page.cards()

    again = DashboardPage()  # the next start: the last figures until new ones come
    qtbot.addWidget(again)
    again.show_cards(saved)
    assert again.values["all"].text() == "0" and again.values["quota"].text() == "10,000"
    again.show_cards("not json")  # a damaged setting is ignored
    monitor = MonitorPage(Background(), clock=FakeClock())
    qtbot.addWidget(monitor)
    monitor.show()
    monitor.build_charts()
    assert monitor.cpu_chart is not None and monitor.cpu_chart.isHidden()
    monitor.sample()
    monitor.show_charts()
    assert not monitor.cpu_chart.isHidden()


def test_the_monitor_charts_an_hour_of_samples_and_counts_videos_made(qtbot: QtBot) -> None:
    clock = FakeClock()
    background = Background()
    page = MonitorPage(background, clock=clock)
    qtbot.addWidget(page)
    for _ in range(5):
        page.sample()
        clock.sleep(2)
    page.engine_event("item_started", 7, 1, 2, {})
    clock.sleep(90)
    page.engine_event(
        "item_progressed", 7, 1, 2, {"stage": "render", "progress": 0.75, "left": 30.0}
    )
    page.show()
    page.build_charts()
    page._show_running()
    assert page.table.item(0, 2).text() == "render"
    assert page.table.item(0, 4).text() == "1:30" and page.table.item(0, 5).text() == "0:30"
    page.engine_event("item_finished", 7, 1, 2, {"state": "completed"})
    page.show_charts()
    assert page.cpu_chart is not None and page.made_chart is not None
    xs, _ys = page.cpu_chart.curves[0].getData()
    assert len(xs) == 5 and xs[-1] < 0  # minutes before now, the newest nearest to 0
    assert page.made_chart.title == "Videos made" and "1 video made" in page.made_chart.toolTip()
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from app.ui.theme import apply_theme

    try:  # a theme switch recolours the charts
        for theme in ("Dark", "Light"):
            apply_theme(theme)
            QApplication.processEvents()
            base = QApplication.palette().color(QPalette.ColorRole.Base)
            assert page.cpu_chart.backgroundBrush().color() == base, theme
    finally:
        apply_theme("System")
    background.shutdown()


def test_got_it_hides_the_welcome_and_keeps_the_page_where_it_was(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QApplication, QPushButton

    page = DashboardPage()
    qtbot.addWidget(page)
    page.resize(900, 380)  # short: the page scrolls
    page.welcome_wanted = True
    totals = {
        "jobs_total": 1, "jobs_by_state": {"paused": 1}, "items_completed": 0,
        "success_rate": None, "completed_last_day": 0,
    }  # fmt: skip
    failures = [{"job": "J", "row": n, "error": "x", "job_id": 1} for n in range(30)]
    page.show_overview({"totals": totals, "next_runs": [], "failures": failures,
                        "attention": [], "welcome": {"sheet": True}})  # fmt: skip
    assert page.welcome.marks["sheet"].text() == "✓"
    page.show()
    page.activateWindow()
    qtbot.waitExposed(page)
    bar = page.scroller.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0
    got_it = next(b for b in page.welcome.findChildren(QPushButton) if b.text() == "Got it")
    got_it.setFocus()
    got_it.click()
    QApplication.processEvents()
    assert not page.welcome.isVisible()
    assert bar.value() == 0  # the focus did not fall to the list at the bottom
