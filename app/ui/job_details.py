"""The selected job's story (the Jobs view's *Details* tab): its problems, each with the button
that fixes it, its scheduling settings in words, and its timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QListWidget,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.domain.job_story import problems, scheduling_words, timeline
from app.ui.widgets import action_row, clear_layout, emphasised, muted


class JobDetails(QScrollArea):
    act = Signal(str)  # a problem's fix: retry | approve | settings

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        self.setWidget(body)
        layout = QVBoxLayout(body)
        layout.addWidget(emphasised(QLabel("Problems")))
        self.problem_rows = QVBoxLayout()
        layout.addLayout(self.problem_rows)
        layout.addWidget(emphasised(QLabel("Scheduling")))
        self.scheduling = QLabel("")
        self.scheduling.setWordWrap(True)
        self.scheduling.setAccessibleName("Scheduling settings")
        layout.addWidget(self.scheduling)
        layout.addWidget(emphasised(QLabel("Timeline")))
        self.timeline = QListWidget()
        self.timeline.setAccessibleName("Timeline")
        self.timeline.setMinimumHeight(140)
        layout.addWidget(self.timeline, 1)

    def show_record(self, record: dict[str, Any], now: datetime | None = None) -> None:
        clear_layout(self.problem_rows)
        found = problems(record, now or datetime.now(UTC))
        if not found:
            self.problem_rows.addWidget(muted(QLabel("None.")))
        for problem in found:
            self.problem_rows.addWidget(
                action_row(
                    problem.text,
                    problem.button if problem.action else "",
                    partial(self.act.emit, problem.action),
                )
            )
        self.scheduling.setText("\n".join(scheduling_words(record.get("scheduling") or {})))
        self.timeline.clear()
        for moment in timeline(record):
            self.timeline.addItem(f"{moment.at.astimezone():%a %d %b %H:%M:%S}  {moment.text}")

    def clear(
        self, why: str = "Select one job to see its problems, settings and timeline."
    ) -> None:
        """Nothing to tell (no job, or several, selected): nothing of the last job stays."""
        clear_layout(self.problem_rows)
        self.problem_rows.addWidget(muted(QLabel(why)))
        self.scheduling.setText("")
        self.timeline.clear()
