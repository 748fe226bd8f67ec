"""The live monitor: machine load and Cadence's throughput as charts over the last hour, the
app's own footprint, the running items with their progress, quotas and alerts.

Samples are taken every two seconds whether or not the page is shown (reading /proc costs
a fraction of a millisecond), so the charts have their hour when it opens; widgets are only
touched while it is visible. The charts are built after the page's first paint."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.resources import worker_label
from app.engine.events import EventKind
from app.ui.background import Background
from app.ui.series import Counter, Series
from app.ui.widgets import heading as title

if TYPE_CHECKING:
    from app.ui.charts import Bars, LiveChart

REFRESH_MS = 2000
RUNNING_COLUMNS = ("Job", "Row", "Stage", "Progress", "Elapsed", "Left")
LOW_DISK_BYTES = 5 * 1024**3


def clock_text(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def left_text(left: float | None, said_ago: float) -> str:
    """Time left as the engine last worked it out (the stage's own rate, then what the later
    stages take here), counted down since; "–" until it has said."""
    if left is None:
        return "–"
    return clock_text(max(0.0, left - said_ago))


def free_disk(folder: Path) -> int:
    """Free bytes where videos go (the nearest folder that exists)."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return shutil.disk_usage(probe).free


class MonitorPage(QWidget):
    # What an operation's `Changes` must touch for this page, when shown, to read again
    # (live: it follows the engine's events, not operations).
    CARES: tuple[str, ...] = ()
    act = Signal(str)  # an alert was double-clicked: settings | failed | dashboard | approve

    def __init__(self, background: Background, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.background = background
        self.clock = clock
        self.process = psutil.Process(os.getpid())
        self.started = clock()
        self.output_folder: Path | None = None
        self.running: dict[int, dict[str, Any]] = {}  # item id → what the engine said
        self.quota_source: Callable[[], float] | None = None  # seconds Google holds us
        cores = psutil.cpu_count() or 1
        self.cpu = [Series(clock=clock) for _ in range(cores + 1)]  # total, then each core
        self.memory = Series(clock=clock)  # percent of the machine's memory in use
        self.made = Counter(clock=clock)  # videos finished, per five minutes
        self.cpu_chart: LiveChart | None = None
        self.memory_chart: LiveChart | None = None
        self.made_chart: Bars | None = None
        layout = QVBoxLayout(self)
        heading = title("Monitor")
        layout.addWidget(heading)

        self.machine = QGroupBox("This computer, the last hour")
        self.chart_row = QHBoxLayout(self.machine)
        self.chart_note = QLabel("Drawing the charts…")
        self.chart_row.addWidget(self.chart_note)
        self.machine.setMinimumHeight(190)
        layout.addWidget(self.machine)

        middle = QHBoxLayout()
        facts = QGroupBox("Cadence")
        form = QFormLayout(facts)
        self.disk = QLabel("")
        self.disk.setWordWrap(True)  # a long folder path must not widen the window
        self.uptime = QLabel("")
        self.app_memory = QLabel("")
        self.quota = QLabel("Within Google's quotas")
        self.youtube = QLabel("No uploads today")
        self.youtube.setAccessibleName("YouTube quota today")
        self.youtube.setWordWrap(True)
        form.addRow("Free space for videos", self.disk)
        form.addRow("Running for", self.uptime)
        form.addRow("Memory used by Cadence", self.app_memory)
        form.addRow("Google API", self.quota)
        form.addRow("YouTube today", self.youtube)
        self.tiktok = QLabel("")
        self.tiktok.setAccessibleName("Posts in the last 24 hours, per account")
        self.tiktok.setWordWrap(True)
        self.tiktok_label = QLabel("Posts (24 h)")
        form.addRow(self.tiktok_label, self.tiktok)
        self.tiktok.setVisible(False)
        self.tiktok_label.setVisible(False)
        self.cluster = QLabel("This computer")
        self.cluster.setAccessibleName("Where videos render")
        self.cluster.setWordWrap(True)
        form.addRow("Rendering on", self.cluster)
        middle.addWidget(facts, 1)
        alerts_box = QGroupBox("Alerts")
        alerts_layout = QVBoxLayout(alerts_box)
        self.alerts = QListWidget()
        self.alerts.setAccessibleName("Alerts")
        self.alerts.setToolTip("Double-click an alert (or press Enter) to deal with it")
        self.alerts.itemActivated.connect(
            lambda item: self.act.emit(str(item.data(Qt.ItemDataRole.UserRole) or ""))
        )
        alerts_layout.addWidget(self.alerts)
        middle.addWidget(alerts_box, 1)
        facts.setMaximumHeight(190)
        alerts_box.setMaximumHeight(190)
        layout.addLayout(middle)

        layout.addWidget(QLabel("<b>Rendering and uploading now</b>"))
        self.table = QTableWidget(0, len(RUNNING_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(RUNNING_COLUMNS))
        self.table.setAccessibleName("Items rendering now")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(RUNNING_COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        self.disk_free: int | None = None
        self.failures: list[tuple[int, str]] = []  # (job id, what failed)
        self.missed = 0
        self.missed_source: Callable[[], int] | None = None  # set once the workspace is open
        self.publishing_source: Callable[[], dict[str, Any]] | None = None
        self.cluster_source: Callable[[], dict[str, Any] | None] | None = None
        self.asking_cluster = False
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
                "since": self.clock(),
                "left": None,
                "said": self.clock(),
            }
        elif kind == EventKind.ITEM_PROGRESSED and item_id in self.running:
            self.running[item_id].update(
                stage=data["stage"],
                progress=data["progress"],
                left=data.get("left"),
                said=self.clock(),
            )
        elif kind == EventKind.ITEM_FINISHED:
            self.running.pop(item_id, None)
            if data.get("state") == "completed":
                self.made.add()
            if data.get("state") == "failed":
                self.failures = [
                    *self.failures[-9:],
                    (job_id, f"“{self.job_title(job_id)}” row {row}: {data.get('error')}"),
                ]

    def sample(self) -> None:
        """psutil reads /proc (no disk): a fraction of a millisecond."""
        cores = psutil.cpu_percent(percpu=True)
        self.cpu[0].add(sum(cores) / max(len(cores), 1))
        for series, load in zip(self.cpu[1:], cores, strict=False):
            series.add(load)
        self.memory.add(psutil.virtual_memory().percent)

    def tick(self) -> None:
        """Every 2 s: a sample; while shown, the figures (free space read in the background)."""
        self.sample()
        if not self.isVisible():
            return
        self.show_charts()
        self.app_memory.setText(f"{self.process.memory_info().rss / 1024**2:.0f} MB")
        minutes = int(self.clock() - self.started) // 60
        self.uptime.setText(f"{minutes // 60} h {minutes % 60} min")
        held = self.quota_source() if self.quota_source is not None else 0.0
        if held > 0:
            self.quota.setText(f"Quota used up: requests wait {held:.0f} s more")
        else:
            self.quota.setText("Within Google's quotas")
        if self.output_folder is not None:
            folder = self.output_folder
            self.background.run(lambda: free_disk(folder), self._show_disk, lambda _e: None)
        if self.missed_source is not None:
            self.background.run(self.missed_source, self._show_missed, lambda _e: None)
        if self.publishing_source is not None:
            self.background.run(self.publishing_source, self.show_publishing, lambda _e: None)
        if self.cluster_source is not None and not self.asking_cluster:
            self.asking_cluster = True  # an unreachable scheduler takes seconds to say so

            def answered(status: dict[str, Any] | None) -> None:
                self.asking_cluster = False
                self.show_cluster(status)

            def failed(_error: BaseException) -> None:
                self.asking_cluster = False

            self.background.run(self.cluster_source, answered, failed)
        self._show_running()
        self._show_alerts()

    def _show_disk(self, free: int) -> None:
        self.disk_free = free
        self.disk.setText(f"{free / 1024**3:.1f} GB free in {self.output_folder}")

    def _show_missed(self, missed: int) -> None:
        self.missed = missed

    def show_cluster(self, status: dict[str, Any] | None) -> None:
        """Where videos render: this computer, or the cluster's workers and what each does."""
        if status is None:
            self.cluster.setText("This computer")
            return
        if status["error"]:
            self.cluster.setText(f"{status['address']}: {status['error']}")
            return
        lines = []
        for worker in status["workers"]:
            doing = ", ".join(
                f"“{self.job_title(self.running[i]['job'])}” row {self.running[i]['row']}"
                if i in self.running else f"item {i}"
                for i in worker["items"]
            ) or "idle"  # fmt: skip
            version = "" if worker["version_ok"] else f" — Cadence {worker['version']}, not used"
            lines.append(f"{worker_label(worker)}: {doing}{version}")
        self.cluster.setText(
            f"{status['address']}, {len(lines)} worker(s)\n" + "\n".join(lines)
            if lines
            else f"{status['address']}: no worker connected — run `cadence worker "
            f"{status['address']}` on a computer"
        )

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
        posts = [
            f"{t['account']}: {t['posts']} of about {t['cap']} posts in the last 24 hours"
            for t in state.get("tiktok", [])
        ]
        self.tiktok.setText("\n".join(posts))
        self.tiktok.setVisible(bool(posts))
        self.tiktok_label.setVisible(bool(posts))
        self._show_alerts()

    def build_charts(self) -> None:
        """After the first paint: pyqtgraph takes half a second to import."""
        if self.cpu_chart is not None:  # asked twice (shown twice before the first build)
            return
        from app.ui.charts import GOOD, Bars, LiveChart

        names = ["All cores"] + [f"Core {n}" for n in range(1, len(self.cpu))]
        self.cpu_chart = LiveChart("CPU", names, "%", 100)
        self.memory_chart = LiveChart("Memory", ["In use"], "%", 100)
        self.made_chart = Bars("Videos made", [("finished", GOOD)], bottom="minutes ago", width=4)
        for chart in (self.cpu_chart, self.memory_chart, self.made_chart):
            self.chart_row.addWidget(chart, 1)
        self.show_charts()

    def show_charts(self) -> None:
        if self.cpu_chart is None or self.memory_chart is None or self.made_chart is None:
            return
        if self.cpu[0].latest is None:  # no figure yet: no chart, not an empty frame
            return
        self.chart_note.hide()
        self.cpu_chart.show_points([series.points() for series in self.cpu])
        cores = ", ".join(f"{s.latest:.0f}" for s in self.cpu[1:] if s.latest is not None)
        total = self.cpu[0].latest
        self.cpu_chart.set_title(
            f"CPU {total:.0f} % (cores: {cores} %)" if total is not None else "CPU"
        )
        self.memory_chart.show_points([self.memory.points()])
        memory = psutil.virtual_memory()
        self.memory_chart.set_title(
            f"Memory {memory.used / 1024**3:.1f} of {memory.total / 1024**3:.1f} GB "
            f"({memory.percent:.0f} %)"
        )
        starts, counts = self.made.counts()
        self.made_chart.show_bars([s / 60 + 2.5 for s in starts], [counts])
        made = sum(counts)
        self.made_chart.set_title(f"{made} video{'s' if made != 1 else ''} made in the last hour")

    def _show_running(self) -> None:
        self.table.setRowCount(len(self.running))
        now = self.clock()
        for n, info in enumerate(self.running.values()):
            elapsed = now - info["since"]
            cells = [
                self.job_title(info["job"]),
                str(info["row"]),
                info["stage"],
                "",
                clock_text(elapsed),
                left_text(info["left"], now - info["said"]),
            ]
            for column, text in enumerate(cells):
                self.table.setItem(n, column, QTableWidgetItem(text))
            bar = self.table.cellWidget(n, 3)
            if not isinstance(bar, QProgressBar):
                bar = QProgressBar()
                bar.setAccessibleName("Progress")
                self.table.setCellWidget(n, 3, bar)
            bar.setValue(round(100 * info["progress"]))

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
        if self.cpu_chart is None:
            QTimer.singleShot(0, self.build_charts)
        QTimer.singleShot(0, self.tick)  # fresh figures at once, not in up to 2 s
