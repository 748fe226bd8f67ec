"""The content calendar: month, week and day views of what is planned, the chosen day's
videos, conflicts with a one-click move to a free slot, and gaps. Videos and job starts move
by dragging (or Alt+arrows in the week and day views); every move is checked against the
channel's rules and can be undone (Ctrl+Z)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.changes import Done
from app.domain.calendar_config import local_instant
from app.domain.calendar_plan import Conflict, DayEntry, Occurrence, Period, period_range
from app.domain.publishing import platform_name
from app.domain.schedule import local_zone_name
from app.ui.background import Background
from app.ui.calendar_views import MonthGrid, OccurrenceList, at_time
from app.ui.time_grid import TimeGrid
from app.ui.widgets import emphasised, muted
from app.ui.widgets import heading as title

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from app.services import Services

VIEWS = ("Month", "Week", "Day")


@dataclass
class Shown:
    """One answer from the planner: the period, its conflicts, gaps, the zone, the channels."""

    period: Period
    conflicts: list[Conflict]
    gaps: list[date]
    tz: ZoneInfo
    channels: list[tuple[str, str]]


def key_at(key: str, when: datetime) -> str:
    """An occurrence's key once it is at ``when``: a run is known by its time."""
    if key.startswith("run:"):
        return f"{key.partition('@')[0]}@{when.astimezone(UTC).isoformat()}"
    return key


class MoveCommand(QUndoCommand):
    """A move already made; undo moves it back, redo moves it again."""

    def __init__(self, page: CalendarPage, key: str, name: str, before: datetime, after: datetime):
        super().__init__(f"Move “{name}”")
        self.page, self.key, self.before, self.after = page, key, before, after
        self.done = True  # pushed after the move succeeded: the first redo does nothing

    def redo(self) -> None:
        if self.done:
            self.done = False
            return
        self.page.move_to(key_at(self.key, self.before), self.after, record=False)

    def undo(self) -> None:
        self.page.move_to(key_at(self.key, self.after), self.before, record=False)


class CalendarPage(QWidget):
    # What an operation's `Changes` must touch for this page, when shown, to read again
    # (videos, job starts and runs, under the calendar rules).
    CARES: tuple[str, ...] = ("jobs", "items", "schedules", "settings")
    open_job = Signal(int)
    changed = Signal()  # a move was saved: other views may want to refresh

    def __init__(self, background: Background | None = None) -> None:
        super().__init__()
        self.background = background or Background(self)
        self.workspace: Services | None = None
        self.kind = "month"
        self.anchor = date.today()
        self.selected = date.today()
        self.shown: Shown | None = None
        self.ticket = 0
        self.undo = QUndoStack(self)
        layout = QVBoxLayout(self)
        layout.addWidget(title("Calendar"))
        layout.addLayout(self._toolbar())
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Calendar message")
        layout.addWidget(self.message)
        splitter = QSplitter()
        self.views = QStackedWidget()
        self.month = MonthGrid()
        self.grid = TimeGrid()
        scroll = QScrollArea()
        scroll.setWidget(self.grid)
        scroll.setWidgetResizable(True)
        self.time_scroll = scroll
        scroll.verticalScrollBar().valueChanged.connect(lambda _v: self.grid.update())
        self.views.addWidget(self.month)
        self.views.addWidget(scroll)
        splitter.addWidget(self.views)
        splitter.addWidget(self._side())
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout.addWidget(splitter, 1)
        self.heat.toggled.connect(self.month.set_heat)
        self.month.day_chosen.connect(self.choose_day)
        self.month.day_activated.connect(lambda day: self.set_view("Day", day))
        self.month.month_step.connect(self.step)
        self.month.dropped.connect(self.dropped_on_day)
        self.grid.day_chosen.connect(self.choose_day)
        self.grid.chosen.connect(self._block_chosen)
        self.grid.dropped.connect(lambda key, when: self.move_to(key, when))
        for sequence, slot in (
            (QKeySequence.StandardKey.Undo, self.undo.undo),
            (QKeySequence.StandardKey.Redo, self.undo.redo),
            (QKeySequence(Qt.Key.Key_PageUp), lambda: self.step(-1)),
            (QKeySequence(Qt.Key.Key_PageDown), lambda: self.step(1)),
            (QKeySequence(Qt.Key.Key_Home), self.go_today),
        ):
            QShortcut(sequence, self, slot, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.today_button = QPushButton("Today")
        self.today_button.setToolTip("Go to today (Home)")
        self.previous_button = QPushButton("◀")
        self.previous_button.setAccessibleName("Previous")
        self.previous_button.setToolTip("Previous (Page Up)")
        self.next_button = QPushButton("▶")
        self.next_button.setAccessibleName("Next")
        self.next_button.setToolTip("Next (Page Down)")
        self.today_button.clicked.connect(self.go_today)
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.period_label = emphasised(QLabel(""), 12)
        self.period_label.setAccessibleName("Shown period")
        self.period_label.setWordWrap(True)  # a long summary wraps: the window stays narrow
        for widget in (self.today_button, self.previous_button, self.next_button):
            bar.addWidget(widget)
        bar.addWidget(self.period_label, 1)
        self.view_group = QButtonGroup(self)
        self.view_buttons: dict[str, QPushButton] = {}
        for n, name in enumerate(VIEWS):
            button = QPushButton(name)
            button.setCheckable(True)
            button.setAccessibleName(f"{name} view")
            self.view_group.addButton(button, n)
            self.view_buttons[name] = button
            bar.addWidget(button)
        self.view_buttons["Month"].setChecked(True)
        self.view_group.idClicked.connect(lambda n: self.set_view(VIEWS[n]))
        self.heat = QCheckBox("Heat map")
        self.heat.setToolTip("Shade each day by how much is planned")
        bar.addWidget(self.heat)
        self.channel = QComboBox()
        self.channel.setAccessibleName("Account")
        self.channel.addItem("All accounts", "")
        self.channel.currentIndexChanged.connect(lambda _i: self.reload())
        bar.addWidget(self.channel)
        return bar

    def _side(self) -> QWidget:
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        self.day_heading = emphasised(QLabel(""))
        column.addWidget(self.day_heading)
        self.day_list = OccurrenceList()
        self.day_list.setAccessibleName("Planned for the chosen day")
        self.day_list.setWordWrap(True)
        self.day_list.setDragEnabled(True)
        self.day_list.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.day_list.currentItemChanged.connect(lambda *_a: self._update_buttons())
        self.day_list.itemDoubleClicked.connect(lambda _i: self.open_chosen_job())
        column.addWidget(self.day_list, 2)
        buttons = QHBoxLayout()
        self.suggest_button = QPushButton("Move to a free slot")
        self.suggest_button.setToolTip(
            "Move the chosen video to the first slot that keeps every rule"
        )
        self.suggest_button.clicked.connect(self.move_chosen_to_free_slot)
        self.open_button = QPushButton("Open job")
        self.open_button.clicked.connect(self.open_chosen_job)
        buttons.addWidget(self.suggest_button)
        buttons.addWidget(self.open_button)
        column.addLayout(buttons)
        column.addWidget(emphasised(QLabel("Conflicts")))
        self.conflict_list = QListWidget()
        self.conflict_list.setAccessibleName("Conflicts")
        self.conflict_list.setWordWrap(True)
        self.conflict_list.currentRowChanged.connect(lambda _r: self._update_buttons())
        column.addWidget(self.conflict_list, 2)
        self.fix_button = QPushButton("Move to suggested slot")
        self.fix_button.setToolTip("Move the conflict's video to the first slot that fits")
        self.fix_button.clicked.connect(self.fix_conflict)
        column.addWidget(self.fix_button)
        column.addWidget(emphasised(QLabel("Gaps: days with nothing to publish")))
        self.gaps_label = muted(QLabel(""))
        self.gaps_label.setWordWrap(True)
        self.gaps_label.setAccessibleName("Days with nothing to publish")
        column.addWidget(self.gaps_label)
        self._update_buttons()
        return side

    # Loading

    def set_workspace(self, workspace: Services | None) -> None:
        self.workspace = workspace

    def reload(self) -> None:
        if self.workspace is None:
            return
        workspace, kind, anchor = self.workspace, self.kind, self.anchor
        channel = str(self.channel.currentData() or "")
        self.ticket += 1
        ticket = self.ticket

        def read() -> Shown:
            from app.queries.calendar import Calendar

            planner = Calendar(workspace)
            period, found = planner.view(kind, anchor, channel)
            config = planner.config(channel)
            first, length = period_range(kind, anchor)
            empty = planner.gaps(max(first, date.today()), max(1, length), channel)
            channels = [
                (f"{platform_name(r.platform)} · {r.label}", r.id)
                for r in workspace.channels.records(None)
            ]
            if first + timedelta(days=length) <= date.today():
                empty = []  # gaps are for planning ahead
            return Shown(period, found, empty, config.tz, channels)

        self.background.run(read, lambda shown: self._show(ticket, shown), self._failed)

    def _failed(self, error: BaseException) -> None:
        self.message.setText(f"⚠ {error}")

    def _show(self, ticket: int, shown: Shown) -> None:
        if ticket != self.ticket:
            return  # a newer question is on its way
        self.shown = shown
        self._fill_channels(shown.channels)
        period = shown.period
        if self.kind == "month":
            self.month.show_month(self.anchor, period.days, self.selected)
            self.views.setCurrentIndex(0)
        else:
            shown_days = [d.day for d in self.grid.days]
            fresh = self.views.currentIndex() != 1 or shown_days != [d.day for d in period.days]
            self.grid.show_days(period.days, shown.tz, self.selected)
            self.views.setCurrentIndex(1)
            if fresh:  # a new week or day opens where its work is, not at midnight
                self.time_scroll.verticalScrollBar().setValue(self.grid.first_busy_y())
        self.period_label.setText(self._period_text(period))
        self.conflict_list.clear()
        for conflict in shown.conflicts:
            item = QListWidgetItem(f"{conflict.kind.value.capitalize()}: {conflict.reason}")
            item.setData(Qt.ItemDataRole.UserRole, conflict)
            self.conflict_list.addItem(item)
        if not shown.conflicts:
            self.conflict_list.addItem("No conflicts in this period.")
        self.gaps_label.setText(
            ", ".join(f"{d:%a %d %b}" for d in shown.gaps[:14])
            + (f" and {len(shown.gaps) - 14} more" if len(shown.gaps) > 14 else "")
            if shown.gaps
            else "None: every day from today has a video to publish."
        )
        self._show_day()

    def _fill_channels(self, channels: list[tuple[str, str]]) -> None:
        known = [self.channel.itemData(i) for i in range(1, self.channel.count())]
        if known == [key for _label, key in channels]:
            return
        current = self.channel.currentData()
        self.channel.blockSignals(True)
        while self.channel.count() > 1:
            self.channel.removeItem(1)
        for label, key in channels:
            self.channel.addItem(label, key)
        self.channel.setCurrentIndex(max(0, self.channel.findData(current)))
        self.channel.blockSignals(False)

    def _period_text(self, period: Period) -> str:
        totals = period.totals
        count = sum(totals.values())
        use = period.utilisation
        if period.kind == "month":
            name = f"{period.first:%B %Y}"
        elif period.kind == "week":
            last = period.days[-1].day
            name = f"{period.first:%d %b} – {last:%d %b %Y}"
        else:
            name = f"{period.first:%A %d %B %Y}"
        planned = "nothing planned" if not count else f"{count} planned"
        text = f"{name} · {planned}" + (f" · {use:.0%} of what the rules allow" if use else "")
        zone = self.shown.tz if self.shown else None
        if zone is not None and zone.key != local_zone_name():  # the calendar's own zone
            text += f" · times in {zone.key}"
        return text

    # The chosen day

    def entry(self, day: date) -> DayEntry | None:
        if self.shown is None:
            return None
        return next((e for e in self.shown.period.days if e.day == day), None)

    def choose_day(self, day: date) -> None:
        self.selected = day
        first, length = period_range(self.kind, self.anchor)
        if not first <= day < first + timedelta(days=length):
            self.anchor = day
            self.reload()
            return
        self._show_day()

    def _show_day(self) -> None:
        day = self.selected
        entry = self.entry(day)
        self.day_heading.setText(f"{day:%A %d %B %Y}")
        self.day_list.clear()
        tz = self.shown.tz if self.shown else None
        for occurrence in entry.occurrences if entry else []:
            item = QListWidgetItem(
                f"{at_time(occurrence, tz)}  {occurrence.title}  ({occurrence.state})"
            )
            item.setData(Qt.ItemDataRole.UserRole, occurrence.key)
            item.setToolTip(
                "Drag onto the calendar to move it" if occurrence.movable else "It cannot move"
            )
            if not occurrence.movable:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDragEnabled)
            self.day_list.addItem(item)
        runs = (entry.counts.get("run", 0) if entry else 0) - sum(
            1 for o in (entry.occurrences if entry else []) if o.state == "run"
        )
        if runs > 0:
            self.day_list.addItem(f"+ {runs} scheduled {'run' if runs == 1 else 'runs'}")
        if entry is None or not entry.total:
            self.day_list.addItem("Nothing planned.")
        self._update_buttons()

    def _block_chosen(self, key: str) -> None:
        occurrence = self.occurrence(key)
        if occurrence is None or self.shown is None:
            return
        self.selected = occurrence.when.astimezone(self.shown.tz).date()
        self._show_day()
        for row in range(self.day_list.count()):
            if self.day_list.item(row).data(Qt.ItemDataRole.UserRole) == key:
                self.day_list.setCurrentRow(row)

    def occurrence(self, key: str | None) -> Occurrence | None:
        if self.shown is None or key is None:
            return None
        for entry in self.shown.period.days:
            for occurrence in entry.occurrences:
                if occurrence.key == key:
                    return occurrence
        return None

    def chosen(self) -> Occurrence | None:
        item = self.day_list.currentItem()
        return self.occurrence(item.data(Qt.ItemDataRole.UserRole) if item else None)

    def _update_buttons(self) -> None:
        chosen = self.chosen()
        self.suggest_button.setEnabled(chosen is not None and chosen.movable)
        self.open_button.setEnabled(chosen is not None and chosen.job_id is not None)
        item = self.conflict_list.currentItem()
        conflict = item.data(Qt.ItemDataRole.UserRole) if item else None
        self.fix_button.setEnabled(
            isinstance(conflict, Conflict) and self._movable_of(conflict) is not None
        )

    def open_chosen_job(self) -> None:
        chosen = self.chosen()
        if chosen is not None and chosen.job_id is not None:
            self.open_job.emit(chosen.job_id)

    # Navigation

    def set_view(self, name: str, day: date | None = None) -> None:
        self.kind = name.lower()
        self.view_buttons[name].setChecked(True)
        if day is not None:
            self.selected = self.anchor = day
        else:
            self.anchor = self.selected
        self.reload()
        (self.month if self.kind == "month" else self.grid).setFocus()

    def step(self, direction: int) -> None:
        if self.kind == "month":
            first = self.anchor.replace(day=1)
            target = (first + timedelta(days=32 * direction if direction > 0 else -1)).replace(
                day=1
            )
        else:
            target = self.anchor + timedelta(days=(7 if self.kind == "week" else 1) * direction)
        self.anchor = target
        self.selected = (
            target if self.kind != "month" else target.replace(day=min(self.selected.day, 28))
        )
        self.reload()

    def go_today(self) -> None:
        self.anchor = self.selected = date.today()
        self.reload()

    # Moving

    def dropped_on_day(self, key: str, day: date) -> None:
        """A drop on the month grid: the same time of day, on that day."""
        occurrence = self.occurrence(key)
        if occurrence is None or self.shown is None:
            self.message.setText("That is no longer on the calendar.")
            return
        local = occurrence.when.astimezone(self.shown.tz)
        self.move_to(key, local_instant(day, local.time().replace(tzinfo=None), self.shown.tz))

    def move_to(self, key: str, when: datetime, record: bool = True) -> None:
        """Ask the planner to move ``key`` to ``when``; refused moves say why."""
        if self.workspace is None:
            return
        workspace = self.workspace
        before = self.occurrence(key)
        name = before.title if before else key

        def done(result: Done) -> None:
            message = result.message
            self.message.setText(f"✓ {message} (Ctrl+Z undoes it)" if record else f"✓ {message}")
            if record and before is not None:
                self.undo.push(MoveCommand(self, key, name, before.when, when))
            self.changed.emit()
            self.reload()

        from app import ops

        self.background.run(lambda: ops.calendar.move(workspace, key, when), done, self._refused)

    def _refused(self, error: BaseException) -> None:
        self.message.setText(f"✗ {error}")
        self.reload()

    def move_chosen_to_free_slot(self) -> None:
        chosen = self.chosen()
        if chosen is not None:
            self.to_free_slot(chosen.key)

    def to_free_slot(self, key: str) -> None:
        if self.workspace is None:
            return
        workspace = self.workspace
        self.background.run(
            lambda: _calendar(workspace).suggestion_for(key),
            lambda when: self.move_to(key, when),
            self._refused,
        )

    def _movable_of(self, conflict: Conflict) -> str | None:
        for key in reversed(conflict.keys):
            occurrence = self.occurrence(key)
            movable = occurrence is None or occurrence.movable
            if movable and key.startswith(("item:", "job:", "run:")):
                return key
        return None

    def fix_conflict(self) -> None:
        item = self.conflict_list.currentItem()
        conflict: Any = item.data(Qt.ItemDataRole.UserRole) if item else None
        if isinstance(conflict, Conflict):
            key = self._movable_of(conflict)
            if key is not None:
                self.to_free_slot(key)


def _calendar(workspace: Services) -> Any:
    from app.queries.calendar import Calendar  # SQLAlchemy: loaded after the first paint

    return Calendar(workspace)
