"""The Calendar page: click a day to manage it, drag a video to another day or time (accepted,
refused with the reason shown, undone), keyboard navigation, conflicts fixed in one click —
against a real workspace with a signed-in channel (loopback YouTube)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app import ops
from app.ops.jobs import JobRequest
from app.paths import DEMO_SHEET, AppPaths
from app.queries.calendar import Calendar
from app.services import Services
from app.sources.intake import SourceSpec
from app.ui.background import Background
from app.ui.calendar_views import MIME
from app.ui.pages.calendar import CalendarPage
from tests.fake_google import Google
from tests.youtube_helpers import sign_in_channel

FIRST = datetime(2030, 1, 8, 17, tzinfo=UTC)  # Tuesday 8 January 2030, 17:00 UTC


@pytest.fixture
def planned(google: Google, data_dir: Path) -> Any:
    """A workspace whose eight demo videos publish daily at 17:00 UTC from 8 January 2030,
    with rules: 4 h apart, nothing on Sundays, in UTC."""
    workspace = Services(AppPaths.resolve(data_dir))
    channel = sign_in_channel(workspace, google)
    ops.calendar.set_config(
        workspace,
        "",
        {"min_gap_hours": 4, "blackout_days": "sun", "timezone": "UTC", "slots": "daily 17:00"},
    )
    created = ops.jobs.create_job(workspace, JobRequest.of(
        SourceSpec(str(DEMO_SHEET)),
        title="January videos",
        publish={
            "target": "youtube", "channel": channel, "privacy": "public",
            "made_for_kids": False, "every": "1d", "first": FIRST.isoformat(),
        },
    ))  # fmt: skip
    yield workspace, created.job_id
    workspace.close()


def publish_times(workspace: Services, around: datetime = FIRST) -> dict[str, datetime]:
    state = Calendar(workspace).state(around - timedelta(days=1), around + timedelta(days=30))
    return {o.title: o.when for o in state.occurrences if o.kind == "item"}


def open_page(qtbot: QtBot, workspace: Services) -> CalendarPage:
    page = CalendarPage(Background())
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    page.set_workspace(workspace)
    page.anchor = page.selected = FIRST.date()
    page.reload()
    qtbot.waitUntil(lambda: page.shown is not None, timeout=20_000)
    return page


def cell_centre(page: CalendarPage, day: date) -> QPoint:
    index = (day - page.month.first_cell).days
    return page.month.cell_rect(index).center().toPoint()


def drop(widget: Any, point: QPoint, key: str) -> None:
    mime = QMimeData()
    mime.setData(MIME, key.encode())
    event = QDropEvent(
        QPointF(point), Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    widget.dropEvent(event)


def test_clicking_a_day_lists_its_videos_and_opens_their_job(qtbot: QtBot, planned: Any) -> None:
    workspace, job_id = planned
    page = open_page(qtbot, workspace)
    assert page.month.accessibleName() == "Month: January 2030"
    assert "January 2030 · 8 planned" in page.period_label.text()
    QTest.mouseClick(page.month, Qt.MouseButton.LeftButton, pos=cell_centre(page, date(2030, 1, 9)))
    assert page.day_heading.text() == "Wednesday 09 January 2030"
    assert page.day_list.count() == 1 and "17:00" in page.day_list.item(0).text()
    assert page.month.accessibleDescription().startswith("Wednesday 09 January: 1 planned")
    page.day_list.setCurrentRow(0)
    assert page.open_button.isEnabled() and page.suggest_button.isEnabled()
    with qtbot.waitSignal(page.open_job) as opened:
        page.open_button.click()
    assert opened.args == [job_id]
    QTest.mouseClick(page.month, Qt.MouseButton.LeftButton, pos=cell_centre(page, date(2030, 1, 3)))
    assert page.day_list.item(0).text() == "Nothing planned."


def test_dragging_a_video_moves_it_refuses_with_the_reason_and_undoes(
    qtbot: QtBot, planned: Any
) -> None:
    workspace, _job = planned
    page = open_page(qtbot, workspace)
    before = publish_times(workspace)
    title = min(before, key=lambda t: before[t])  # the 8 January video
    key = next(o.key for e in page.shown.period.days for o in e.occurrences if o.title == title)

    # Onto Sunday 13 January: a blackout day — refused, and nothing changes.
    drop(page.month, cell_centre(page, date(2030, 1, 13)), key)
    qtbot.waitUntil(lambda: page.message.text().startswith("✗"), timeout=20_000)
    assert "Sun 13 Jan is a day with nothing published" in page.message.text()
    assert publish_times(workspace) == before

    # Onto Monday 21 January: free — moved, at the same time of day.
    drop(page.month, cell_centre(page, date(2030, 1, 21)), key)
    qtbot.waitUntil(lambda: page.message.text().startswith("✓"), timeout=20_000)
    assert "Ctrl+Z undoes it" in page.message.text()
    assert publish_times(workspace)[title] == datetime(2030, 1, 21, 17, tzinfo=UTC)
    qtbot.waitUntil(lambda: page.entry(date(2030, 1, 21)) is not None
                    and page.entry(date(2030, 1, 21)).total == 1, timeout=20_000)  # fmt: skip

    # Ctrl+Z puts it back.
    page.month.setFocus()
    QTest.keyClick(page.month, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: publish_times(workspace)[title] == before[title], timeout=20_000)
    assert page.undo.canRedo()


def test_the_week_view_takes_drops_and_keyboard_moves(qtbot: QtBot, planned: Any) -> None:
    workspace, _job = planned
    page = open_page(qtbot, workspace)
    page.set_view("Week", FIRST.date())
    qtbot.waitUntil(lambda: page.views.currentIndex() == 1 and len(page.grid.days) == 7,
                    timeout=20_000)  # fmt: skip
    assert page.grid.accessibleName() == "Week: 07 Jan – 13 Jan 2030"
    grid = page.grid
    rect, occurrence = next((r, o) for r, o in grid.blocks() if o.when == FIRST)
    QTest.mouseClick(grid, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert grid.selected_key == occurrence.key
    assert grid.accessibleDescription().startswith(f"{occurrence.title} at Tue 17:00")
    # A drop at 21:10 on Tuesday snaps to 21:15 (4 h after nothing, before Wednesday 17:00).
    column = 1  # Tuesday
    x = int(grid.GUTTER + (column + 0.5) * grid.column_width())
    y = int(grid.HEADER + (21 + 10 / 60) * grid.HOUR)
    drop(grid, QPoint(x, y), occurrence.key)
    qtbot.waitUntil(lambda: page.message.text().startswith(("✓", "✗")), timeout=20_000)
    assert page.message.text().startswith("✓"), page.message.text()
    assert publish_times(workspace)[occurrence.title] == datetime(2030, 1, 8, 21, 15, tzinfo=UTC)
    # Alt+Up moves the chosen block 15 minutes earlier.
    moved = occurrence.key
    qtbot.waitUntil(
        lambda: getattr(grid.occurrence(moved), "when", FIRST).hour == 21, timeout=20_000
    )
    grid.choose(occurrence.key)
    page.message.setText("")
    QTest.keyClick(grid, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: page.message.text().startswith("✓"), timeout=20_000)
    assert publish_times(workspace)[occurrence.title] == datetime(2030, 1, 8, 21, tzinfo=UTC)


def test_keyboard_navigation_in_the_month(qtbot: QtBot, planned: Any) -> None:
    workspace, _job = planned
    page = open_page(qtbot, workspace)
    page.month.setFocus()
    with qtbot.waitSignal(page.month.day_chosen) as chosen:
        QTest.keyClick(page.month, Qt.Key.Key_Right)
    assert chosen.args == [date(2030, 1, 9)] and page.day_heading.text().startswith("Wednesday")
    QTest.keyClick(page.month, Qt.Key.Key_Down)
    assert page.selected == date(2030, 1, 16)
    QTest.keyClick(page.month, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: page.month.accessibleName() == "Month: February 2030", timeout=20_000)
    QTest.keyClick(page.month, Qt.Key.Key_PageUp)
    qtbot.waitUntil(lambda: page.month.accessibleName() == "Month: January 2030", timeout=20_000)
    page.month.choose(date(2030, 1, 10))
    QTest.keyClick(page.month, Qt.Key.Key_Return)  # Enter opens the day
    qtbot.waitUntil(lambda: page.kind == "day" and len(page.grid.days) == 1, timeout=20_000)
    assert page.grid.days[0].day == date(2030, 1, 10)
    assert page.view_buttons["Day"].isChecked()
    page.set_view("Week", date(2030, 1, 10))
    qtbot.waitUntil(lambda: page.kind == "week" and len(page.grid.days) == 7, timeout=20_000)
    QTest.keyClick(page.grid, Qt.Key.Key_PageDown)  # the next week, from the time grid too
    qtbot.waitUntil(lambda: page.grid.days[0].day == date(2030, 1, 14), timeout=20_000)


def test_a_conflict_moves_to_a_suggested_slot_in_one_click(qtbot: QtBot, planned: Any) -> None:
    workspace, _job = planned
    before = publish_times(workspace)
    first, second = sorted(before, key=lambda t: before[t])[:2]
    # Put the second video one hour after the first: closer than the 4 h rule.
    second_key = next(
        o.key
        for o in Calendar(workspace).state(FIRST, FIRST + timedelta(days=3)).occurrences
        if o.title == second
    )
    item_id = int(second_key.split(":")[1])
    ops.publishing.reschedule(workspace, item_id, FIRST + timedelta(hours=1))
    page = open_page(qtbot, workspace)
    texts = [page.conflict_list.item(r).text() for r in range(page.conflict_list.count())]
    assert any("is 1 h after" in t and "keep at least 4 h" in t for t in texts), texts
    row = next(r for r, t in enumerate(texts) if "is 1 h after" in t)
    page.conflict_list.setCurrentRow(row)
    assert page.fix_button.isEnabled()
    page.fix_button.click()
    qtbot.waitUntil(lambda: page.message.text().startswith(("✓", "✗")), timeout=20_000)
    assert page.message.text().startswith("✓"), page.message.text()

    def texts() -> list[str]:
        return [page.conflict_list.item(r).text() for r in range(page.conflict_list.count())]

    qtbot.waitUntil(lambda: not any("is 1 h after" in t for t in texts()), timeout=20_000)
    assert any("Sun 13 Jan, a day with nothing published" in t for t in texts())  # the rest stays
    moved = publish_times(workspace)[second]
    assert moved.hour == 17 and moved.date() > FIRST.date()  # a free 17:00 slot
    assert abs(moved - publish_times(workspace)[first]) >= timedelta(hours=4)


def test_the_wizard_publishes_each_video_into_a_free_slot(
    qtbot: QtBot, google: Google, data_dir: Path
) -> None:
    from tests.test_publish_ui import open_window, through_to_publishing

    workspace = Services(AppPaths.resolve(data_dir))
    sign_in_channel(workspace, google)
    ops.calendar.set_config(
        workspace, "", {"slots": "daily 17:00", "max_per_day": 1, "timezone": "UTC"}
    )
    window = open_window(qtbot, workspace)
    wizard = through_to_publishing(qtbot, window)
    page = wizard.publishing
    qtbot.waitUntil(lambda: page.channel.count() == 1, timeout=30_000)
    page.enabled.setChecked(True)
    page.kids_no.setChecked(True)
    page.into_slots.setChecked(True)
    assert page.publish()["slots"] is True and "every" not in page.publish()
    wizard.next()
    assert "each in the channel's next free calendar slot" in wizard.review.summary.text()
    wizard.accept()
    now = datetime.now(UTC)
    qtbot.waitUntil(lambda: len(publish_times(workspace, now)) == 8, timeout=30_000)
    times = sorted(publish_times(workspace, now).values())
    assert {t.strftime("%H:%M") for t in times} == {"17:00"}
    assert len({t.date() for t in times}) == 8 and times[0] > datetime.now(UTC)
    window.close()
    window.shutdown()
    workspace.close()


def test_one_run_of_a_schedule_drags_to_another_time_and_back(
    qtbot: QtBot, planned: Any, tmp_path: Path
) -> None:
    from app.store import schedules as schedule_store
    from app.store.models import Schedule

    workspace, _job = planned
    with workspace.db.write() as session:
        schedule_id = schedule_store.add_schedule(
            session, name="Morning shorts", expression="daily@09:00", timezone="UTC",
            topic_template="", job_template={"source": str(DEMO_SHEET)}, actor="tester",
        ).id  # fmt: skip
    page = open_page(qtbot, workspace)
    page.set_view("Week", FIRST.date())
    qtbot.waitUntil(lambda: len(page.grid.days) == 7 and page.kind == "week", timeout=20_000)
    grid = page.grid
    wednesday = datetime(2030, 1, 9, 9, tzinfo=UTC)
    key = f"run:{schedule_id}@{wednesday.isoformat()}"
    assert grid.occurrence(key) is not None and grid.occurrence(key).movable
    x = int(grid.GUTTER + 2.5 * grid.column_width())  # Wednesday's column
    drop(grid, QPoint(x, int(grid.HEADER + 15 * grid.HOUR)), key)
    qtbot.waitUntil(lambda: page.message.text().startswith(("✓", "✗")), timeout=20_000)
    assert "runs Wed 09 Jan 2030 15:00" in page.message.text(), page.message.text()
    assert "instead, this once" in page.message.text()
    moved = f"run:{schedule_id}@{wednesday.replace(hour=15).isoformat()}"
    qtbot.waitUntil(lambda: grid.occurrence(moved) is not None, timeout=20_000)
    assert grid.occurrence(key) is None  # gone from 09:00 on that day only
    assert grid.occurrence(f"run:{schedule_id}@{wednesday.replace(day=10).isoformat()}")
    page.undo.undo()
    qtbot.waitUntil(lambda: grid.occurrence(key) is not None, timeout=20_000)
    with workspace.db.read() as session:
        assert session.get(Schedule, schedule_id).moved_runs == {}  # back: the move forgotten
