"""The dashboard: how production is going, at a glance.

Totals as cards; what needs the user (failed jobs, videos awaiting approval, channels whose
uploads wait) as cards that take them where to act; videos made per day over 30 days and
the success rate's trend; the next seven days as a strip of planned moments. The charts are
built after the page's first paint (pyqtgraph takes half a second to import).
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.domain.daily import Day
from app.domain.zoned import DAY_TIME, zone_of, zoned
from app.ui.widgets import action_row, clear_layout, emphasised, muted
from app.ui.widgets import heading as title

if TYPE_CHECKING:
    from app.ui.charts import Bars, Trend, WeekStrip

PLANNED_KINDS = {"video": "#0072B2", "job starts": "#E69F00", "schedule run": "#009E73"}


def _card(title: str) -> tuple[QFrame, QLabel]:
    frame = QFrame()
    frame.setFrameShape(QFrame.Shape.StyledPanel)
    layout = QVBoxLayout(frame)
    value = emphasised(QLabel(""), 22)  # nothing until a figure comes (no dash placeholders)
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


def attention_text(card: dict[str, Any]) -> tuple[str, str, str]:
    """(what is wrong, the button's text, the action it asks the window for)."""
    count = card.get("count", 0)
    videos = f"{count} video{'s' if count != 1 else ''}"
    kind = card["kind"]
    if kind == "failed":
        return (f"“{card['title']}”: {videos} failed", "Open job", f"job:{card['job_id']}")
    if kind == "approval":
        verb = "awaits" if count == 1 else "await"
        return (f"{videos} {verb} your approval", "Review", "approve")
    if kind == "held":
        return (f"{videos} on hold for {card['channel']}: {card['why']}", "Settings", "settings")
    return (f"{videos} wait for a channel that is not signed in", "Sign in", "settings")


WELCOME_STEPS = (
    ("sheet", "Connect your idea sheet — a Google Sheet, CSV or Excel file — or try the demo job "
     "that is already here", "Connect a sheet…", "new"),
    ("channel", "Sign in a YouTube channel, so finished videos can be published (optional: "
     "Cadence also just makes the files)", "Sign in a channel…", "channel"),
    ("video", "Make your first video: resume the demo job, or create a job from your sheet",
     "Open the demo job", "demo"),
)  # fmt: skip


class WelcomePanel(QFrame):
    """The first run's three steps, each ticked when done; gone for good once dismissed."""

    chosen = Signal(str)  # new | channel | demo
    dismissed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Welcome")
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(
            emphasised(QLabel("Welcome to Cadence — three steps to your first videos"), 13)
        )
        top.addStretch()
        close = QPushButton("Got it")
        close.setToolTip("Hide these steps (they do not come back)")
        close.clicked.connect(self.dismissed.emit)
        top.addWidget(close)
        layout.addLayout(top)
        self.marks: dict[str, QLabel] = {}
        for n, (key, text, button_text, action) in enumerate(WELCOME_STEPS, 1):
            row = QHBoxLayout()
            mark = QLabel(f"{n}.")
            mark.setMinimumWidth(24)
            self.marks[key] = mark
            label = QLabel(text)
            label.setWordWrap(True)
            button = QPushButton(button_text)
            button.setAccessibleName(button_text.rstrip("…"))
            button.clicked.connect(lambda _c=False, a=action: self.chosen.emit(a))
            row.addWidget(mark)
            row.addWidget(label, 1)
            row.addWidget(button)
            layout.addLayout(row)

    def show_steps(self, done: dict[str, bool]) -> None:
        for n, (key, *_rest) in enumerate(WELCOME_STEPS, 1):
            finished = done.get(key, False)
            self.marks[key].setText("✓" if finished else f"{n}.")
            self.marks[key].setAccessibleName("done" if finished else "to do")


class DashboardPage(QWidget):
    # What an operation's `Changes` must touch for this page, when shown, to read again
    # (its totals follow the job table's rows (they are recomputed when rows change)).
    CARES: tuple[str, ...] = ("schedules", "settings")
    create_job = Signal()
    show_job = Signal(int)
    act = Signal(str)  # an attention card's action: job:ID | approve | settings
    welcome_chosen = Signal(str)  # a welcome step's button: new | channel | demo

    def welcome_gone(self) -> None:
        """The welcome panel is dismissed: the page stays where it was (the focus goes to the
        button above the panel, not to whatever widget below would scroll into view)."""
        bar = self.scroller.verticalScrollBar()
        where = bar.value()
        self.new_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self.welcome.hide()
        bar.setValue(min(where, bar.maximum()))

    def __init__(self) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setAccessibleName("Dashboard")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        top = QHBoxLayout()
        heading = title("Dashboard")
        top.addWidget(heading)
        top.addStretch()
        self.new_button = QPushButton("Create a job…")
        self.new_button.setAccessibleName("Create a job")
        self.new_button.clicked.connect(self.create_job.emit)
        top.addWidget(self.new_button)
        layout.addLayout(top)
        self.welcome = WelcomePanel()
        self.welcome.chosen.connect(self.welcome_chosen.emit)
        self.welcome.dismissed.connect(self.welcome_gone)
        self.welcome.hide()  # shown on a first run, once the workspace says what is done
        self.welcome_wanted = False
        layout.addWidget(self.welcome)
        self.scroller = scroll

        grid = QGridLayout()
        self.values: dict[str, QLabel] = {}
        cards = (
            ("all", "Jobs in all"),
            ("running", "Running"),
            ("completed", "Completed"),
            ("failed", "Failed or canceled"),
            ("success", "Success rate"),
            ("throughput", "Videos in the last 24 h"),
            ("quota", "YouTube quota units left today"),
            ("next", "Next planned video"),
        )
        for n, (key, caption) in enumerate(cards):
            frame, value = _card(caption)
            self.values[key] = value
            grid.addWidget(frame, n // 4, n % 4)
        layout.addLayout(grid)
        self.next_step = QLabel("")
        self.next_step.setWordWrap(True)
        self.next_step.setAccessibleName("What to do next")
        layout.addWidget(self.next_step)

        layout.addWidget(emphasised(QLabel("Needs your attention")))
        self.attention = QVBoxLayout()
        layout.addLayout(self.attention)

        self.chart_row = QHBoxLayout()
        self.chart_note = muted(QLabel("Drawing the charts…"))
        self.chart_row.addWidget(self.chart_note)
        layout.addLayout(self.chart_row)
        self.week_row = QHBoxLayout()
        layout.addLayout(self.week_row)
        self.made_chart: Bars | None = None
        self.rate_chart: Trend | None = None
        self.week_chart: WeekStrip | None = None
        self.shown: dict[str, Any] | None = None

        lists = QHBoxLayout()
        left, right = QVBoxLayout(), QVBoxLayout()
        left.addWidget(QLabel("<b>Next scheduled runs</b>"))
        self.next_runs = QListWidget()
        self.next_runs.setAccessibleName("Next scheduled runs")
        self.next_runs.setMinimumHeight(120)
        left.addWidget(self.next_runs)
        right.addWidget(QLabel("<b>Recent failures</b>"))
        self.failures = QListWidget()
        self.failures.setAccessibleName("Recent failures")
        self.failures.setMinimumHeight(120)
        self.failures.itemActivated.connect(
            lambda item: self.show_job.emit(int(item.data(Qt.ItemDataRole.UserRole)))
        )
        right.addWidget(self.failures)
        lists.addLayout(left)
        lists.addLayout(right)
        layout.addLayout(lists, 1)

    def cards(self) -> str:
        """The figures on the cards, to show at the next start until new ones come."""
        return json.dumps({key: label.text() for key, label in self.values.items()})

    def show_cards(self, saved: str) -> None:
        """The last session's figures (`cards`), shown before this session's arrive."""
        try:
            figures = json.loads(saved)
        except ValueError:
            return
        if not isinstance(figures, dict):
            return
        for key, label in self.values.items():
            if isinstance(figures.get(key), str) and not label.text():
                label.setText(figures[key])

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
        if "units_left" in overview:
            self.values["quota"].setText(f"{overview['units_left']:,}")
            self.values["quota"].setToolTip(f"of {overview['units_limit']:,} units a day")
        videos = sorted(when for when, kind, _job in overview.get("planned", ()) if kind == "video")
        self.values["next"].setText(f"{videos[0].astimezone():%a %H:%M}" if videos else "–")
        self.next_runs.clear()
        for when, name in overview["next_runs"]:
            self.next_runs.addItem(f"{zoned(when, zone_of(when), fmt=DAY_TIME)}  —  {name}")
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
        self._show_attention(overview.get("attention", []))
        if self.welcome_wanted and "welcome" in overview:
            self.welcome.show_steps(overview["welcome"])
            self.welcome.show()
        self.shown = overview
        self._show_charts()

    def _show_attention(self, cards: list[dict[str, Any]]) -> None:
        clear_layout(self.attention)
        if not cards:
            self.attention.addWidget(muted(QLabel("Nothing needs you right now.")))
            return
        for card in cards:
            text, button_text, action = attention_text(card)
            self.attention.addWidget(
                action_row(text, button_text, partial(self.act.emit, action), framed=True)
            )

    def build_charts(self) -> None:
        if self.made_chart is not None:  # asked twice (shown twice before the first build)
            return
        from app.ui.charts import BAD, GOOD, Bars, Trend, WeekStrip

        self.made_chart = Bars(
            "Videos made per day, last 30 days", [("completed", GOOD), ("failed", BAD)]
        )
        self.rate_chart = Trend("Success rate per day", "%", ymax=100)
        self.week_chart = WeekStrip("Planned, the next 7 days", PLANNED_KINDS, self._picked)
        self.chart_row.addWidget(self.made_chart, 3)
        self.chart_row.addWidget(self.rate_chart, 2)
        self.week_row.addWidget(self.week_chart)
        self._show_charts()

    def _picked(self, job_id: object) -> None:
        if isinstance(job_id, int):
            self.show_job.emit(job_id)

    def _show_charts(self) -> None:
        shown = self.shown
        if shown is None or self.made_chart is None or "made" not in shown:
            return
        from app.ui.charts import day_ticks

        assert self.rate_chart is not None and self.week_chart is not None
        self.chart_note.hide()
        made: list[Day] = shown["made"]
        xs = list(range(len(made)))
        self.made_chart.show_bars(xs, [[d.completed for d in made], [d.failed for d in made]])
        ticks = day_ticks([d.day for d in made])
        self.made_chart.getPlotItem().getAxis("bottom").setTicks(ticks)
        total = sum(d.completed for d in made)
        self.made_chart.set_title(f"Videos made per day, last 30 days: {total} in all")
        self.rate_chart.show_values([d.success_rate for d in made])
        self.rate_chart.getPlotItem().getAxis("bottom").setTicks(ticks)
        rates = [d.success_rate for d in made[-7:] if d.success_rate is not None]
        self.rate_chart.set_title(
            f"Success rate per day (last 7 days: {sum(rates) / len(rates):.0f} %)"
            if rates
            else "Success rate per day"
        )
        moments = [
            (when.astimezone(), kind, job)
            for when, kind, job in shown["planned"]
            if isinstance(when, datetime)
        ]
        self.week_chart.show_moments(shown["today"], 7, moments)
        count = sum(1 for _w, kind, _j in moments if kind == "video")
        self.week_chart.set_title(
            f"Planned, the next 7 days: {count} video{'s' if count != 1 else ''} to publish"
        )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.made_chart is None:
            QTimer.singleShot(0, self.build_charts)
