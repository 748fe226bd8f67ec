"""Times shown in the zone they were planned in: a Europe/Berlin schedule on a computer in
New York says "09:00 CET (03:00 here)" in the Schedules view, the dashboard, the calendar
and `schedule list` alike — not a bare "03:00"."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import tzlocal.unix
from pytestqt.qtbot import QtBot

from app.paths import DEMO_SHEET, AppPaths
from app.services import Services
from app.store import schedules as schedule_store
from app.ui.background import Background
from app.ui.calendar_views import at_time
from app.ui.main_window import PAGES, MainWindow
from app.ui.pages.calendar import CalendarPage

BERLIN_NINE = re.compile(r"^\w{3} \d{2} \w{3} \d{4} 09:00 CES?T \(0[2-4]:00 here\)$")


@pytest.fixture
def in_new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This computer's zone is America/New_York (for Python's clock and for tzlocal)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    monkeypatch.setattr(tzlocal.unix, "_cache_tz_name", None)
    yield
    monkeypatch.undo()
    time.tzset()
    tzlocal.unix._cache_tz_name = None


def berlin_schedule(workspace: Services) -> int:
    with workspace.db.write() as session:
        schedule = schedule_store.add_schedule(
            session,
            name="Berlin mornings",
            expression="daily@09:00",
            timezone="Europe/Berlin",
            topic_template="Ideas {date}",
            job_template={"source": str(DEMO_SHEET)},
            actor="test",
        )
        return int(schedule.id)


@pytest.mark.usefixtures("in_new_york")
def test_the_schedules_view_and_schedule_list_say_the_schedules_zone(
    qtbot: QtBot, data_dir: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    workspace = Services(AppPaths.resolve(data_dir))
    berlin_schedule(workspace)
    window = MainWindow(lambda: workspace)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.workspace is not None, timeout=15_000)
    window.nav.setCurrentRow(PAGES.index("Schedules"))
    page = window.schedules
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=15_000)
    shown = page.table.item(0, 4).text()
    assert BERLIN_NINE.match(shown), shown
    page.table.selectRow(0)
    qtbot.waitUntil(lambda: page.preview.text().startswith("Next runs:"), timeout=15_000)
    runs = page.preview.text().removeprefix("Next runs: ").split("; ")
    assert runs[0] == shown and all(BERLIN_NINE.match(run) for run in runs), runs
    window.nav.setCurrentRow(PAGES.index("Dashboard"))
    listed = window.dashboard.next_runs
    qtbot.waitUntil(
        lambda: listed.count() > 0 and "Berlin mornings" in listed.item(0).text(), timeout=15_000
    )
    assert re.match(
        r"^\w{3} \d{2} \w{3} 09:00 CES?T \(0[2-4]:00 here\)  —  ", listed.item(0).text()
    )
    window.close()
    window.shutdown()
    # The CLI, run in the same zone, says the same thing.
    said = run_cli("schedule", "list").stdout  # TZ is in its environment too
    assert f"next: {shown}" in said, said


@pytest.mark.usefixtures("in_new_york")
def test_the_calendar_shows_a_runs_own_time_beside_its_own(qtbot: QtBot, data_dir: Path) -> None:
    workspace = Services(AppPaths.resolve(data_dir))
    berlin_schedule(workspace)
    page = CalendarPage(Background())
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    page.set_workspace(workspace)
    page.set_view("Week", date(2030, 1, 8))
    qtbot.waitUntil(lambda: page.shown is not None and len(page.grid.days) == 7, timeout=20_000)
    runs = [o for _rect, o in page.grid.blocks() if o.kind == "run"]
    assert runs, "the schedule's runs are on the calendar"
    # 09:00 in Berlin is 03:00 in New York in January: the grid shows 03:00, and 09:00 CET.
    assert {at_time(run, page.grid.tz) for run in runs} == {"03:00 (09:00 CET)"}
    page.grid.choose(runs[0].key)
    assert "03:00 (09:00 CET)" in page.grid.accessibleDescription()
    page.choose_day(date(2030, 1, 8))
    assert "03:00 (09:00 CET)  Berlin mornings" in page.day_list.item(0).text()
    # Moving a run says where it goes in the schedule's own zone.
    page.move_to(runs[0].key, datetime(2030, 1, 8, 9, 30, tzinfo=UTC))
    qtbot.waitUntil(lambda: page.message.text().startswith(("✓", "✗")), timeout=20_000)
    assert "runs Tue 08 Jan 2030 10:30 CET (04:30 here) instead" in page.message.text()
    workspace.close()
