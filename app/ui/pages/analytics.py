"""How the published videos do: views over their first days, the best and the worst, and the
weekdays and hours that worked — per channel and per job. Figures are read once a day by
the engine, or now with "Read figures now"; signed out or offline, the last ones stay with
their date.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.analytics import Ranked
from app.ui.widgets import emphasised, muted
from app.ui.widgets import heading as title

if TYPE_CHECKING:
    from app.ui.charts import Bars, LiveChart

SHOWN = 5
CURVE_DAYS = 30


def ranked_text(item: Ranked) -> str:
    basis = f"at {item.at_days} days" if item.at_days else "so far"
    return f"{item.video.title} — {item.views:,} views {basis}"


class AnalyticsPage(QWidget):
    # What an operation's `Changes` must touch for this page, when shown, to read again
    # (figures read now, channels signed in or out).
    CARES: tuple[str, ...] = ("settings",)
    changed = Signal()  # the channel or job filter changed: read the report again
    fetch = Signal()
    show_job = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(title("Analytics"))
        top.addStretch()
        self.channel = QComboBox()
        self.channel.setAccessibleName("Channel")
        self.channel.addItem("All channels", None)
        self.job = QComboBox()
        self.job.setAccessibleName("Job")
        self.job.addItem("All jobs", None)
        for combo in (self.channel, self.job):  # long titles must not widen the window
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(16)
        self.fetch_button = QPushButton("Read figures now")
        self.fetch_button.setToolTip(
            "Ask YouTube for every published video's figures (1 unit per 50)"
        )
        for widget in (
            QLabel("Channel:"),
            self.channel,
            QLabel("Job:"),
            self.job,
            self.fetch_button,
        ):
            top.addWidget(widget)
        layout.addLayout(top)
        self.status = muted(QLabel("Figures are read once a day."))
        self.status.setWordWrap(True)
        self.status.setAccessibleName("When the figures were read")
        layout.addWidget(self.status)
        self.channel.currentIndexChanged.connect(lambda _n: self.changed.emit())
        self.job.currentIndexChanged.connect(lambda _n: self.changed.emit())
        self.fetch_button.clicked.connect(self.fetch.emit)

        self.chart_row = QHBoxLayout()
        self.chart_note = muted(QLabel("Drawing the charts…"))
        self.chart_row.addWidget(self.chart_note)
        layout.addLayout(self.chart_row)
        self.curve_chart: LiveChart | None = None
        self.weekday_chart: Bars | None = None
        self.hour_chart: Bars | None = None

        lists = QHBoxLayout()
        self.best = self._list(lists, "Best videos")
        self.worst = self._list(lists, "Worst videos")
        layout.addLayout(lists)
        self.best_hours = emphasised(QLabel(""))
        self.best_hours.setWordWrap(True)
        layout.addWidget(self.best_hours)
        layout.addStretch(1)
        self.report: dict[str, Any] | None = None

    def _list(self, row: QHBoxLayout, caption: str) -> QListWidget:
        column = QVBoxLayout()
        column.addWidget(emphasised(QLabel(caption)))
        listing = QListWidget()
        listing.setAccessibleName(caption)
        listing.setMaximumHeight(140)
        listing.setToolTip("Double-click (or Enter) to open the video's job")
        listing.itemActivated.connect(
            lambda item: self.show_job.emit(int(item.data(Qt.ItemDataRole.UserRole)))
        )
        column.addWidget(listing)
        row.addLayout(column)
        return listing

    def filters(self) -> tuple[str | None, int | None]:
        return self.channel.currentData(), self.job.currentData()

    def set_choices(self, channels: list[tuple[str, str]], jobs: list[tuple[int, str]]) -> None:
        """Channels (id, title) and jobs (id, title) that have published videos."""
        for combo, choices in ((self.channel, channels), (self.job, jobs)):
            chosen = combo.currentData()
            combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for key, text in choices:
                combo.addItem(text, key)
            index = combo.findData(chosen)
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)

    def show_report(self, report: dict[str, Any]) -> None:
        self.report = report
        last: datetime | None = report["last_read"]
        videos = report["videos"]
        if not videos:
            self.status.setText(
                "Nothing is published yet: videos appear here once they are on YouTube."
            )
        else:
            when = f"{last.astimezone():%a %d %b %H:%M}" if last else "never yet"
            self.status.setText(
                f"{len(videos)} published videos · figures read {when} "
                "(the engine reads them once a day)"
            )
        ranked: list[Ranked] = report["ranked"]
        for listing, chosen in (
            (self.best, ranked[:SHOWN]),
            (self.worst, list(reversed(ranked[SHOWN:]))[:SHOWN]),
        ):
            listing.clear()
            for item in chosen:
                entry = QListWidgetItem(ranked_text(item))
                entry.setData(Qt.ItemDataRole.UserRole, item.video.job_id)
                listing.addItem(entry)
            if not chosen:
                listing.addItem("–")
        hours = report["best_hours"]
        self.best_hours.setText(
            "Best hours for this channel: "
            + ", ".join(f"{h:02d}:00" for h in hours)
            + " — new jobs and the calendar's suggestions prefer them"
            if hours
            else "Best hours: not enough videos a week old yet to tell."
        )
        self._show_charts()

    def build_charts(self) -> None:
        if self.curve_chart is not None:  # asked twice (shown twice before the first build)
            return
        from app.ui.charts import NEUTRAL, Bars, LiveChart

        self.curve_chart = LiveChart(
            "Median views, first 30 days", ["median"], "views", None, per=1.0
        )
        self.curve_chart.setXRange(0, CURVE_DAYS, padding=0)
        self.curve_chart.getPlotItem().getAxis("bottom").setLabel("days after publishing")
        self.weekday_chart = Bars("Mean views by weekday published", [("views", NEUTRAL)])
        self.hour_chart = Bars("Mean views by hour published", [("views", NEUTRAL)])
        for chart in (self.curve_chart, self.weekday_chart, self.hour_chart):
            chart.setMinimumWidth(220)
            self.chart_row.addWidget(chart, 1)
        self._show_charts()

    def _show_charts(self) -> None:
        report = self.report
        if report is None or self.curve_chart is None:
            return
        assert self.weekday_chart is not None and self.hour_chart is not None
        self.chart_note.hide()
        medians = report["median_curve"]
        self.curve_chart.show_points([medians])
        self.curve_chart.setXRange(0, CURVE_DAYS, padding=0)
        weekday = report["weekday"]
        self.weekday_chart.show_bars(
            list(range(len(weekday))), [[b.mean_views or 0 for b in weekday]]
        )
        self.weekday_chart.getPlotItem().getAxis("bottom").setTicks(
            [[(float(n), b.label) for n, b in enumerate(weekday)]]
        )
        hours = report["hour"]
        self.hour_chart.show_bars(list(range(len(hours))), [[b.mean_views or 0 for b in hours]])
        self.hour_chart.getPlotItem().getAxis("bottom").setTicks(
            [[(float(h), f"{h:02d}") for h in range(0, 24, 3)]]
        )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.curve_chart is None:
            QTimer.singleShot(0, self.build_charts)
