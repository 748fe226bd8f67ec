"""The schedules that make jobs: see them, pause, resume, run now, remove, preview."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.zoned import zoned, zoned_iso
from app.ui.widgets import heading

COLUMNS = ("Name", "Schedule", "Time zone", "State", "Next run", "Last run")


class SchedulesPage(QWidget):
    # What an operation's `Changes` must touch for this page, when shown, to read again
    # (the schedules).
    CARES: tuple[str, ...] = ("schedules",)
    act = Signal(int, str)  # schedule id, pause | resume | run | remove
    preview_requested = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Schedules"))
        hint = QLabel(
            "Schedules make a job again and again. Make one with <i>Repeat</i> on the "
            "Scheduling step of a new job."
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setAccessibleName("Schedules")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selected)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for action, text in (
            ("pause", "Pause"),
            ("resume", "Resume"),
            ("run", "Run now"),
            ("remove", "Remove…"),
        ):
            button = QPushButton(text)
            button.setAccessibleName(f"{text.rstrip('…')} the selected schedule")
            button.clicked.connect(lambda _c=False, a=action: self._act(a))
            buttons.addWidget(button)
            self.buttons[action] = button
        buttons.addStretch()
        layout.addLayout(buttons)
        self.preview = QLabel("")
        self.preview.setAccessibleName("Next runs of the selected schedule")
        self.preview.setWordWrap(True)
        layout.addWidget(self.preview)
        self.rows: list[dict[str, Any]] = []
        self._selected()

    def show_rows(self, rows: list[dict[str, Any]]) -> None:
        chosen = self.selected_id()
        self.rows = rows
        self.table.setRowCount(len(rows))
        for n, row in enumerate(rows):
            last = row.get("last")
            cells = (
                row["name"],
                row["expression"],
                row["timezone"],
                row["state"],
                zoned_iso(row["next_run"], row["timezone"]),
                f"{last['what']} {zoned_iso(last['at'], row['timezone'])}" if last else "—",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(str(text))
                item.setData(Qt.ItemDataRole.UserRole, row["id"])
                if last and column == 5:
                    item.setToolTip(str(last.get("detail") or ""))
                self.table.setItem(n, column, item)
            if row["id"] == chosen:
                self.table.selectRow(n)
        self.table.resizeColumnsToContents()
        if not rows:
            self.preview.setText("No schedules yet.")
        self._selected()

    def selected_id(self) -> int | None:
        items = self.table.selectedItems()
        value = items[0].data(Qt.ItemDataRole.UserRole) if items else None
        return int(value) if value is not None else None

    def _selected(self) -> None:
        chosen = self.selected_id()
        row = next((r for r in self.rows if r["id"] == chosen), None)
        for action, button in self.buttons.items():
            enabled = row is not None and (
                (action == "pause" and row["state"] == "active")
                or (action == "resume" and row["state"] == "paused")
                or action in ("run", "remove")
            )
            button.setEnabled(enabled)
        if chosen is not None:
            self.preview_requested.emit(chosen)

    def show_preview(self, schedule_id: int, runs: list[datetime]) -> None:
        if schedule_id != self.selected_id():
            return
        zone = next((r["timezone"] for r in self.rows if r["id"] == schedule_id), "")
        listed = "; ".join(zoned(run, zone) for run in runs) or "none ahead"
        self.preview.setText(f"Next runs: {listed}")

    def _act(self, action: str) -> None:
        chosen = self.selected_id()
        if chosen is not None:
            self.act.emit(chosen, action)
