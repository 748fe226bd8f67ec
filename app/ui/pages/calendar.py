"""The content calendar: scheduled runs and planned job starts, by day."""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QDate
from PySide6.QtGui import QTextCharFormat
from PySide6.QtWidgets import (
    QCalendarWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from app.ui.widgets import emphasised
from app.ui.widgets import heading as title


class CalendarPage(QWidget):
    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        heading = title("Calendar")
        layout.addWidget(heading)
        row = QHBoxLayout()
        self.calendar = QCalendarWidget()
        self.calendar.setAccessibleName("Content calendar")
        self.calendar.setGridVisible(True)
        self.calendar.selectionChanged.connect(self._show_day)
        row.addWidget(self.calendar, 2)
        right = QVBoxLayout()
        self.day_heading = emphasised(QLabel())
        self.day = QListWidget()
        self.day.setAccessibleName("Planned for the selected day")
        right.addWidget(self.day_heading)
        right.addWidget(self.day)
        row.addLayout(right, 1)
        layout.addLayout(row, 1)
        self.events: dict[date, list[tuple[datetime, str]]] = {}

    def show_events(self, events: list[tuple[datetime, str]]) -> None:
        """(local time, what) for the coming weeks: marked on the calendar, listed by day."""
        self.calendar.setDateTextFormat(QDate(), QTextCharFormat())  # clear marks
        self.events = {}
        for when, what in events:
            self.events.setdefault(when.date(), []).append((when, what))
        marked = QTextCharFormat()
        marked.setFontWeight(700)
        marked.setFontUnderline(True)
        for day, planned in self.events.items():
            stamp = QDate(day.year, day.month, day.day)
            self.calendar.setDateTextFormat(stamp, marked)
            self.calendar.setToolTip("")
            _ = planned
        self._show_day()

    def _show_day(self) -> None:
        chosen = self.calendar.selectedDate().toPython()
        assert isinstance(chosen, date)
        planned = sorted(self.events.get(chosen, []))
        self.day_heading.setText(f"{chosen:%A %d %B %Y}")
        self.day.clear()
        self.day.addItems(
            [f"{when:%H:%M}  {what}" for when, what in planned] or ["Nothing planned."]
        )
