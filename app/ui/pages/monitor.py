"""The live monitor: machine load, the app's own footprint, running items, quotas, alerts."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.engine.service import EventKind
from app.ui.background import Background
from app.ui.widgets import heading as title

REFRESH_MS = 2000
LOW_DISK_BYTES = 5 * 1024**3


def free_disk(folder: Path) -> int:
    """Free bytes where videos go (the nearest folder that exists)."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return shutil.disk_usage(probe).free


class MonitorPage(QWidget):
    act = Signal(str)  # an alert was double-clicked: settings | failed | dashboard | approve

    def __init__(self, background: Background) -> None:
        super().__init__()
        self.background = background
        self.process = psutil.Process(os.getpid())
        self.started = time.monotonic()
        self.output_folder: Path | None = None
        self.running: dict[int, dict[str, Any]] = {}  # item id → what the engine said
        self.quota_source: Callable[[], float] | None = None  # seconds Google holds us
        layout = QVBoxLayout(self)
        heading = title("Monitor")
        layout.addWidget(heading)

        machine = QGroupBox("This computer")
        grid = QGridLayout(machine)
        self.cores: list[QProgressBar] = []
        for n in range(psutil.cpu_count() or 1):
            bar = QProgressBar()
            bar.setFormat(f"CPU {n + 1}: %p%")
            bar.setAccessibleName(f"CPU core {n + 1} load")
            grid.addWidget(bar, n // 4, n % 4)
            self.cores.append(bar)
        self.memory = QProgressBar()
        self.memory.setAccessibleName("Memory in use")
        grid.addWidget(self.memory, grid.rowCount(), 0, 1, 4)
        layout.addWidget(machine)

        facts = QGroupBox("Cadence")
        form = QFormLayout(facts)
        self.disk = QLabel("–")
        self.uptime = QLabel("–")
        self.app_memory = QLabel("–")
        self.quota = QLabel("Within Google's quotas")
        self.youtube = QLabel("No uploads today")
        self.youtube.setAccessibleName("YouTube quota today")
        self.youtube.setWordWrap(True)
        form.addRow("Free space for videos", self.disk)
        form.addRow("Running for", self.uptime)
        form.addRow("Memory used by Cadence", self.app_memory)
        form.addRow("Google API", self.quota)
        form.addRow("YouTube today", self.youtube)
        layout.addWidget(facts)

        layout.addWidget(QLabel("<b>Rendering and uploading now</b>"))
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Job", "Row", "Stage", "Progress", "Elapsed"])
        self.table.setAccessibleName("Items rendering now")
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("<b>Alerts</b>"))
        self.alerts = QListWidget()
        self.alerts.setAccessibleName("Alerts")
        self.alerts.setMaximumHeight(110)
        self.alerts.setToolTip("Double-click an alert to deal with it")
        self.alerts.itemActivated.connect(
            lambda item: self.act.emit(str(item.data(Qt.ItemDataRole.UserRole) or ""))
        )
        layout.addWidget(self.alerts)
        self.disk_free: int | None = None
        self.failures: list[tuple[int, str]] = []  # (job id, what failed)
        self.missed = 0
        self.missed_source: Callable[[], int] | None = None  # set once the workspace is open
        self.publishing_source: Callable[[], dict[str, Any]] | None = None
        self.publishing: dict[str, Any] = {}
        self.job_title: Callable[[int], str] = lambda job_id: f"Job {job_id}"
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)
        self.timer.start(REFRESH_MS)
        psutil.cpu_percent(percpu=True)  # the first reading primes the counters

    def engine_event(
        self, kind: str, item_id: int, job_id: int, row: int, data: dict[str, Any]
    ) -> None:
        if kind == EventKind.ITEM_STARTED:
            self.running[item_id] = {
                "job": job_id,
                "row": row,
                "stage": "starting",
                "progress": 0.0,
                "since": time.monotonic(),
            }
        elif kind == EventKind.ITEM_PROGRESSED and item_id in self.running:
            self.running[item_id].update(stage=data["stage"], progress=data["progress"])
        elif kind == EventKind.ITEM_FINISHED:
            self.running.pop(item_id, None)
            if data.get("state") == "failed":
                self.failures = [
                    *self.failures[-9:],
                    (job_id, f"“{self.job_title(job_id)}” row {row}: {data.get('error')}"),
                ]

    def tick(self) -> None:
        """Every 2 s: psutil reads /proc (no disk); free space is read in the background."""
        for bar, load in zip(self.cores, psutil.cpu_percent(percpu=True), strict=False):
            bar.setValue(round(load))
        memory = psutil.virtual_memory()
        self.memory.setValue(round(memory.percent))
        self.memory.setFormat(
            f"Memory: {memory.used / 1024**3:.1f} of {memory.total / 1024**3:.1f} GB (%p%)"
        )
        self.app_memory.setText(f"{self.process.memory_info().rss / 1024**2:.0f} MB")
        minutes = int(time.monotonic() - self.started) // 60
        self.uptime.setText(f"{minutes // 60} h {minutes % 60} min")
        held = self.quota_source() if self.quota_source is not None else 0.0
        if held > 0:
            self.quota.setText(f"Quota used up: requests wait {held:.0f} s more")
        else:
            self.quota.setText("Within Google's quotas")
        if self.output_folder is not None and self.isVisible():
            folder = self.output_folder
            self.background.run(lambda: free_disk(folder), self._show_disk, lambda _e: None)
        if self.missed_source is not None and self.isVisible():
            self.background.run(self.missed_source, self._show_missed, lambda _e: None)
        if self.publishing_source is not None and self.isVisible():
            self.background.run(self.publishing_source, self.show_publishing, lambda _e: None)
        self._show_running()
        self._show_alerts()

    def _show_disk(self, free: int) -> None:
        self.disk_free = free
        self.disk.setText(f"{free / 1024**3:.1f} GB free in {self.output_folder}")

    def _show_missed(self, missed: int) -> None:
        self.missed = missed

    def show_publishing(self, state: dict[str, Any]) -> None:
        """Today's YouTube quota per Google project, and what waits on the user."""
        self.publishing = state
        lines = []
        for quota in state.get("quota", []):
            resets = datetime.fromisoformat(quota["resets_at"]).astimezone()
            left = quota["uploads_limit"] - quota["uploads"]
            lines.append(
                f"{quota['uploads']} of {quota['uploads_limit']} uploads "
                f"({max(left, 0)} left), {quota['units']:,} of {quota['units_limit']:,} units; "
                f"resets {resets:%H:%M}"
            )
        self.youtube.setText("\n".join(lines) or "No uploads today")
        self._show_alerts()

    def _show_running(self) -> None:
        self.table.setRowCount(len(self.running))
        now = time.monotonic()
        for n, info in enumerate(self.running.values()):
            elapsed = int(now - info["since"])
            cells = [
                self.job_title(info["job"]),
                str(info["row"]),
                info["stage"],
                f"{info['progress']:.0%}",
                f"{elapsed // 60}:{elapsed % 60:02d}",
            ]
            for column, text in enumerate(cells):
                self.table.setItem(n, column, QTableWidgetItem(text))

    def _show_alerts(self) -> None:
        alerts: list[tuple[str, str]] = []  # (text, what double-clicking does)
        if self.disk_free is not None and self.disk_free < LOW_DISK_BYTES:
            alerts.append(
                (
                    f"Low disk space: {self.disk_free / 1024**3:.1f} GB left — free space or "
                    "choose another output folder in Settings",
                    "settings",
                )
            )
        if len(self.failures) >= 3:
            alerts.append((f"{len(self.failures)} recent failures — see Jobs › Failed", "failed"))
        if self.missed:
            alerts.append((f"{self.missed} missed scheduled runs", "dashboard"))
        for _channel, why, count in self.publishing.get("held", []):
            alerts.append((f"{count} upload{'s' if count != 1 else ''} on hold: {why}", "settings"))
        approvals = self.publishing.get("awaiting_approval", 0)
        if approvals:
            alerts.append(
                (
                    f"{approvals} video{'s' if approvals != 1 else ''} await"
                    f"{'s' if approvals == 1 else ''} your approval — double-click to review",
                    "approve",
                )
            )
        alerts += [(text, f"job:{job}") for job, text in self.failures[-3:]]
        alerts = alerts or [("No alerts.", "")]
        if [self.alerts.item(i).text() for i in range(self.alerts.count())] != [
            a[0] for a in alerts
        ]:
            self.alerts.clear()
            for text, action in alerts:
                self.alerts.addItem(text)
                self.alerts.item(self.alerts.count() - 1).setData(Qt.ItemDataRole.UserRole, action)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self.tick)  # fresh figures at once, not in up to 2 s
