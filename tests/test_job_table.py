"""The job table model: sorting and filtering in the model, and updates that touch only
the rows that changed."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QPersistentModelIndex, Qt
from pytestqt.qtbot import QtBot

from app.ui.job_table import JobIdRole, JobRow, JobTableModel, PercentRole

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def job(
    n: int, title: str, state: str = "pending", priority: str = "normal", done: int = 0
) -> JobRow:
    return JobRow(n, title, state, priority, 10, done, 0, None, "", NOW - timedelta(hours=n), NOW)


@pytest.fixture
def model(qtbot: QtBot) -> Iterator[JobTableModel]:
    m = JobTableModel()
    m.set_rows(
        [
            job(1, "Ocean facts", "running", "high", 5),
            job(2, "Space trivia", "completed", "low", 10),
            job(3, "Cooking basics", "failed", "normal", 2),
            job(4, "ocean currents", "paused", "normal", 0),
        ]
    )
    yield m
    # Gone now, not whenever the garbage collector runs (a model dying inside a later test's
    # event loop, with Qt's model tester still attached, crashed that test).
    del m
    gc.collect()


def titles(model: JobTableModel) -> list[str]:
    return [r.title for r in model.visible_rows()]


def test_the_model_keeps_the_qt_contract(model: JobTableModel, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    qtmodeltester.check(model)


def test_sorting_by_any_column_both_ways(model: JobTableModel) -> None:
    assert titles(model) == ["Ocean facts", "Space trivia", "Cooking basics", "ocean currents"]
    model.sort(0, Qt.SortOrder.AscendingOrder)  # case-insensitive titles
    assert titles(model) == ["Cooking basics", "ocean currents", "Ocean facts", "Space trivia"]
    model.sort(2, Qt.SortOrder.AscendingOrder)  # priority: high, normal, low
    assert [r.priority for r in model.visible_rows()] == ["high", "normal", "normal", "low"]
    model.sort(3, Qt.SortOrder.DescendingOrder)  # progress
    assert [r.percent for r in model.visible_rows()] == [100.0, 50.0, 20.0, 0.0]


def test_search_filters_across_columns_and_tabs_combine(model: JobTableModel) -> None:
    model.set_filter("OCEAN")
    assert titles(model) == ["Ocean facts", "ocean currents"]
    model.set_filter("ocean c")  # typing on narrows
    assert titles(model) == ["ocean currents"]
    model.set_filter("paused")  # the state column is searched too
    assert titles(model) == ["ocean currents"]
    model.set_filter("")
    model.set_tab("Active")
    assert titles(model) == ["Ocean facts", "ocean currents"]
    model.set_tab("Failed")
    assert titles(model) == ["Cooking basics"]
    assert model.count_in("Completed") == 1 and model.count_in("All") == 4


def test_engine_updates_repaint_only_changed_rows(model: JobTableModel, qtbot: QtBot) -> None:
    resets, layouts, changes = [], [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.layoutChanged.connect(lambda *_: layouts.append(1))
    model.dataChanged.connect(lambda a, b, *_: changes.append((a.row(), b.row())))
    model.update_rows(
        [
            job(1, "Ocean facts", "running", "high", 6),
            job(2, "Space trivia", "completed", "low", 10),
        ]
    )
    assert resets == [] and layouts == []
    assert changes == [(0, 0)]  # job 2 did not change: not repainted
    assert model.data(model.index(0, 3), PercentRole) == 60.0
    model.update_rows([job(5, "New one")])  # a new job changes the layout, not the model
    assert resets == [] and layouts == [1] and model.rowCount() == 5


def test_a_selected_job_stays_selected_through_sorts_and_updates(model: JobTableModel) -> None:
    held = QPersistentModelIndex(model.index(2, 0))
    assert model.data(held, JobIdRole) == 3
    model.sort(0, Qt.SortOrder.AscendingOrder)
    assert held.row() == 0 and model.data(held, JobIdRole) == 3
    model.sort(0, Qt.SortOrder.DescendingOrder)
    assert held.row() == 3 and model.data(held, JobIdRole) == 3
    model.update_rows([], removed=[1])
    assert model.data(held, JobIdRole) == 3
    model.set_filter("space")
    assert not held.isValid()  # filtered out: no longer shown


def test_state_is_told_by_symbol_and_word_not_colour_alone(model: JobTableModel) -> None:
    text = model.data(model.index(2, 1))
    assert text == "✗ Failed"
    assert model.data(model.index(2, 1), Qt.ItemDataRole.ForegroundRole) is not None


def test_a_renamed_job_is_found_by_its_new_name(model: JobTableModel) -> None:
    model.update_rows([job(3, "Baking bread", "failed", "normal", 2)])  # in place: no re-sort
    model.set_filter("baking")
    assert titles(model) == ["Baking bread"]
    model.set_filter("cooking")
    assert titles(model) == []


def test_the_title_column_fits_long_titles_on_a_first_start(qtbot: QtBot) -> None:
    from PySide6.QtGui import QAction

    from app.ui.job_table import WIDTHS, prepare
    from app.ui.pages.jobs import ACTIONS, JobsPage

    actions = {name: QAction(name) for name in (*ACTIONS, "approve", "find", "refresh")}
    page = JobsPage(actions)
    qtbot.addWidget(page)
    long = "A rather long title for a video about the deep ocean's strangest creatures"
    page.show_rows(prepare([job(1, "Short"), job(2, long)]), first=True)
    width = page.table.columnWidth(0)
    assert WIDTHS[0] < width <= 440
    assert width >= min(440, page.table.fontMetrics().horizontalAdvance(long))
    page.widths_restored = True  # the user's own widths: left alone
    page.table.setColumnWidth(0, 200)
    page.show_rows(prepare([job(3, long + long)]), first=True)
    assert page.table.columnWidth(0) == 200
