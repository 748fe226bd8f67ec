"""The dashboard: totals, success rate, throughput, next runs, recent failures."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.widgets import emphasised, muted
from app.ui.widgets import heading as title


def _card(title: str) -> tuple[QFrame, QLabel]:
    frame = QFrame()
    frame.setFrameShape(QFrame.Shape.StyledPanel)
    layout = QVBoxLayout(frame)
    value = emphasised(QLabel("–"), 22)
    caption = muted(QLabel(title))
    layout.addWidget(value)
    layout.addWidget(caption)
    value.setAccessibleName(title)
    return frame, value


def next_step(totals: dict[str, Any]) -> str:
    """One sentence for a newcomer: what to do now."""
    states = totals["jobs_by_state"]
    if not totals["jobs_total"]:
        return "➜ Next: press <b>Create a job…</b> and choose your idea sheet."
    if states.get("paused", 0) and not totals["items_completed"]:
        return (
            "➜ Next: a job is paused (the demo starts that way) — open <b>Jobs</b>, select it "
            "and press <b>Resume</b> (Ctrl+R) to make its videos."
        )
    return ""


class DashboardPage(QWidget):
    create_job = Signal()
    show_job = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        heading = title("Dashboard")
        top.addWidget(heading)
        top.addStretch()
        self.new_button = QPushButton("Create a job…")
        self.new_button.setAccessibleName("Create a job")
        self.new_button.clicked.connect(self.create_job.emit)
        top.addWidget(self.new_button)
        layout.addLayout(top)

        grid = QGridLayout()
        self.values: dict[str, QLabel] = {}
        cards = (
            ("all", "Jobs in all"),
            ("running", "Running"),
            ("completed", "Completed"),
            ("failed", "Failed or canceled"),
            ("success", "Success rate"),
            ("throughput", "Videos in the last 24 h"),
        )
        for n, (key, caption) in enumerate(cards):
            frame, value = _card(caption)
            self.values[key] = value
            grid.addWidget(frame, n // 3, n % 3)
        layout.addLayout(grid)
        self.next_step = QLabel("")
        self.next_step.setWordWrap(True)
        self.next_step.setAccessibleName("What to do next")
        layout.addWidget(self.next_step)

        lists = QHBoxLayout()
        left, right = QVBoxLayout(), QVBoxLayout()
        left.addWidget(QLabel("<b>Next scheduled runs</b>"))
        self.next_runs = QListWidget()
        self.next_runs.setAccessibleName("Next scheduled runs")
        left.addWidget(self.next_runs)
        right.addWidget(QLabel("<b>Recent failures</b>"))
        self.failures = QListWidget()
        self.failures.setAccessibleName("Recent failures")
        self.failures.itemActivated.connect(
            lambda item: self.show_job.emit(int(item.data(Qt.ItemDataRole.UserRole)))
        )
        right.addWidget(self.failures)
        lists.addLayout(left)
        lists.addLayout(right)
        layout.addLayout(lists, 1)

    def show_overview(self, overview: dict[str, Any]) -> None:
        totals = overview["totals"]
        states = totals["jobs_by_state"]
        self.values["all"].setText(str(totals["jobs_total"]))
        self.values["running"].setText(str(states.get("running", 0)))
        self.values["completed"].setText(str(states.get("completed", 0)))
        self.values["failed"].setText(str(states.get("failed", 0) + states.get("canceled", 0)))
        self.next_step.setText(next_step(totals))
        rate = totals["success_rate"]
        self.values["success"].setText(f"{rate:g}%" if rate is not None else "–")
        self.values["throughput"].setText(str(totals["completed_last_day"]))
        self.next_runs.clear()
        for when, name in overview["next_runs"]:
            self.next_runs.addItem(f"{when.astimezone():%a %d %b %H:%M}  —  {name}")
        if not overview["next_runs"]:
            self.next_runs.addItem(
                "No schedules yet — tick Repeat on the Scheduling step of a new job"
            )
        self.failures.clear()
        for failure in overview["failures"]:
            self.failures.addItem(
                f"{failure['job']} · row {failure['row']}: {failure['error'] or 'failed'}"
            )
            self.failures.item(self.failures.count() - 1).setData(
                Qt.ItemDataRole.UserRole, failure["job_id"]
            )
        if not overview["failures"]:
            self.failures.addItem("Nothing has failed.")
