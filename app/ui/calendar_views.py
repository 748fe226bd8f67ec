"""The calendar's painted views: a month grid and a week/day time grid.

Both draw from the current palette (so they follow a theme switch), take their days as
`DayEntry` values computed off the GUI thread, and say what the user does through signals:
a day chosen, an occurrence chosen, an occurrence dropped on a day or a time. Dragging carries
the occurrence's key under `MIME`; so does the day list beside them, so a video can be dragged
from the list onto the grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta, tzinfo

from PySide6.QtCore import QMimeData, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from app.domain.calendar_plan import STATES, DayEntry, Occurrence
from app.domain.zoned import beside

MIME = "application/x-cadence-occurrence"
STATE_COLOURS = {
    "planned": QColor("#3b82f6"),
    "rendering": QColor("#f59e0b"),
    "ready": QColor("#14b8a6"),
    "uploaded": QColor("#6366f1"),
    "published": QColor("#22c55e"),
    "failed": QColor("#ef4444"),
    "run": QColor("#a855f7"),
}
CONFLICT = QColor("#dc2626")
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SNAP_MINUTES = 15


def occurrence_mime(key: str) -> QMimeData:
    data = QMimeData()
    data.setData(MIME, key.encode())
    data.setText(key)
    return data


def dropped_key(event: QDropEvent | QDragMoveEvent | QDragEnterEvent) -> str | None:
    mime = event.mimeData()
    if mime is None or not mime.hasFormat(MIME):
        return None
    return bytes(mime.data(MIME).data()).decode()


def _summary(entry: DayEntry | None) -> str:
    if entry is None or not entry.total:
        return "nothing planned"
    parts = [f"{entry.counts[s]} {s}" for s in STATES if entry.counts.get(s)]
    if entry.conflicts:
        parts.append(f"{entry.conflicts} {'conflict' if entry.conflicts == 1 else 'conflicts'}")
    return ", ".join(parts)


def at_time(occurrence: Occurrence, shown: tzinfo | None) -> str:
    """An occurrence's time in the view's zone — and in its own beside it when that differs
    (a Berlin schedule's run on a London calendar: "08:00 (09:00 CET)")."""
    own = beside(occurrence.when, occurrence.zone, shown)
    return f"{occurrence.when.astimezone(shown):%H:%M}" + (f" ({own})" if own else "")


class MonthGrid(QWidget):
    """Six weeks, Monday first, painted: per-day counts coloured by state, a conflict mark, a
    heat map of how full each day is, blackout days hatched, other months' days dimmed."""

    day_chosen = Signal(object)  # date
    day_activated = Signal(object)  # date: double-click or Enter
    month_step = Signal(int)  # -1 / +1: PageUp / PageDown, or arrows past the month's edge
    dropped = Signal(str, object)  # key, date

    HEADER = 24

    def __init__(self) -> None:
        super().__init__()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.setMinimumSize(420, 320)
        self.month = date.today().replace(day=1)
        self.selected = date.today()
        self.today = date.today()
        self.entries: dict[date, DayEntry] = {}
        self.heat = False
        self.hover: date | None = None
        self._update_names()

    def sizeHint(self) -> QSize:
        return QSize(700, 480)

    def show_month(self, month: date, entries: Sequence[DayEntry], selected: date) -> None:
        self.month = month.replace(day=1)
        self.entries = {e.day: e for e in entries}
        self.selected = selected
        self.today = date.today()
        self._update_names()
        self.update()

    def set_heat(self, on: bool) -> None:
        self.heat = on
        self.update()

    def _update_names(self) -> None:
        self.setAccessibleName(f"Month: {self.month:%B %Y}")
        self.setAccessibleDescription(
            f"{self.selected:%A %d %B}: {_summary(self.entries.get(self.selected))}"
        )

    @property
    def first_cell(self) -> date:
        return self.month - timedelta(days=self.month.weekday())

    def cell_rect(self, index: int) -> QRectF:
        width = self.width() / 7
        height = (self.height() - self.HEADER) / 6
        row, column = divmod(index, 7)
        return QRectF(column * width, self.HEADER + row * height, width, height)

    def day_at(self, point: QPoint) -> date | None:
        if point.y() < self.HEADER:
            return None
        column = int(point.x() // (self.width() / 7))
        row = int((point.y() - self.HEADER) // ((self.height() - self.HEADER) / 6))
        if not (0 <= column < 7 and 0 <= row < 6):
            return None
        return self.first_cell + timedelta(days=row * 7 + column)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        dim = palette.color(QPalette.ColorRole.PlaceholderText)
        grid = palette.color(QPalette.ColorRole.Mid)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        painter.fillRect(self.rect(), base)
        header_font = QFont(self.font())
        header_font.setBold(True)
        painter.setFont(header_font)
        painter.setPen(text)
        width = self.width() / 7
        for column, name in enumerate(WEEKDAY_NAMES):
            painter.drawText(
                QRectF(column * width, 0, width, self.HEADER), Qt.AlignmentFlag.AlignCenter, name
            )
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, self.font().pointSizeF() - 1))
        busiest = max((e.total for e in self.entries.values()), default=0) or 1
        hatch = QBrush(dim, Qt.BrushStyle.BDiagPattern)
        for index in range(42):
            day = self.first_cell + timedelta(days=index)
            rect = self.cell_rect(index)
            entry = self.entries.get(day)
            inside = day.month == self.month.month
            if not inside:
                painter.fillRect(rect, palette.color(QPalette.ColorRole.AlternateBase))
            if self.heat and entry is not None and entry.total:
                heat = QColor(highlight)
                heat.setAlphaF(0.12 + 0.55 * entry.total / busiest)
                painter.fillRect(rect, heat)
            if entry is not None and entry.allowed == 0:
                painter.fillRect(rect, hatch)
            if day == self.hover:
                hover = QColor(highlight)
                hover.setAlphaF(0.25)
                painter.fillRect(rect, hover)
            painter.setPen(QPen(grid, 1))
            painter.drawRect(rect)
            if day == self.selected:
                painter.setPen(QPen(highlight, 3 if self.hasFocus() else 2))
                painter.drawRect(rect.adjusted(1.5, 1.5, -1.5, -1.5))
            number = rect.adjusted(6, 4, -6, -4)
            painter.setFont(header_font if day == self.today else self.font())
            painter.setPen(highlight if day == self.today else (text if inside else dim))
            painter.drawText(
                number, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, str(day.day)
            )
            if entry is None:
                continue
            if entry.conflicts:
                self._conflict_mark(painter, rect, entry.conflicts, small)
            self._counts(painter, rect, entry, small, text if inside else dim)
        painter.end()

    def _conflict_mark(self, painter: QPainter, rect: QRectF, count: int, font: QFont) -> None:
        size = 16.0
        corner = QRectF(rect.right() - size - 4, rect.top() + 4, size, size)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(CONFLICT)
        painter.drawEllipse(corner)
        painter.setPen(QColor("white"))
        painter.setFont(font)
        painter.drawText(corner, Qt.AlignmentFlag.AlignCenter, "!" if count == 1 else str(count))
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def _counts(
        self, painter: QPainter, rect: QRectF, entry: DayEntry, font: QFont, colour: QColor
    ) -> None:
        painter.setFont(font)
        line = painter.fontMetrics().height() + 1
        y = rect.top() + 6 + line
        shown = [s for s in STATES if entry.counts.get(s)]
        room = max(0, int((rect.bottom() - y - 2) // line))
        for n, state in enumerate(shown):
            if n >= room:
                break
            if n == room - 1 and len(shown) > room:
                rest = sum(entry.counts[s] for s in shown[n:])
                painter.setPen(colour)
                painter.drawText(
                    QRectF(rect.left() + 6, y, rect.width() - 8, line), f"+{rest} more"
                )
                break
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(STATE_COLOURS[state])
            painter.drawEllipse(QRectF(rect.left() + 6, y + line / 2 - 4, 8, 8))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(colour)
            count = entry.counts[state]
            name = "runs" if state == "run" and count != 1 else state
            painter.drawText(
                QRectF(rect.left() + 18, y, rect.width() - 22, line),
                Qt.AlignmentFlag.AlignVCenter,
                f"{count} {name}",
            )
            y += line

    # Mouse and keyboard

    def mousePressEvent(self, event: QMouseEvent) -> None:
        day = self.day_at(event.position().toPoint())
        if day is not None:
            self.choose(day)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        day = self.day_at(event.position().toPoint())
        if day is not None:
            self.day_activated.emit(day)

    def choose(self, day: date) -> None:
        self.selected = day
        self._update_names()
        self.update()
        self.day_chosen.emit(day)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        steps = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -7, Qt.Key.Key_Down: 7}
        if key in steps:
            self.choose(self.selected + timedelta(days=steps[Qt.Key(key)]))
        elif key == Qt.Key.Key_PageUp:
            self.month_step.emit(-1)
        elif key == Qt.Key.Key_PageDown:
            self.month_step.emit(1)
        elif key == Qt.Key.Key_Home:
            self.choose(date.today())
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.day_activated.emit(self.selected)
        else:
            super().keyPressEvent(event)

    # Drops

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_key(event):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        day = self.day_at(event.position().toPoint())
        if day is not None and dropped_key(event):
            self.hover = day
            self.update()
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: object) -> None:
        self.hover = None
        self.update()

    def dropEvent(self, event: QDropEvent) -> None:
        key = dropped_key(event)
        day = self.day_at(event.position().toPoint())
        self.hover = None
        self.update()
        if key and day is not None:
            event.acceptProposedAction()
            self.dropped.emit(key, day)


def drag_pixmap(title: str, palette: QPalette) -> QPixmap:
    pixmap = QPixmap(220, 26)
    pixmap.fill(palette.color(QPalette.ColorRole.Highlight))
    painter = QPainter(pixmap)
    painter.setPen(palette.color(QPalette.ColorRole.HighlightedText))
    painter.drawText(QRect(6, 0, 210, 26), Qt.AlignmentFlag.AlignVCenter, title[:40])
    painter.end()
    return pixmap


class OccurrenceList(QListWidget):
    """The chosen day's videos and runs; an entry drags onto the grid like a block."""

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:
        for item in items:
            key = item.data(Qt.ItemDataRole.UserRole)
            if key:
                return occurrence_mime(str(key))
        return QMimeData()

    def mimeTypes(self) -> list[str]:
        return [MIME]
