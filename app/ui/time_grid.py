"""The week and day views of the content calendar: hours down, days across; videos, job
starts and runs placed at their times, dragged to move them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QDrag,
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
)
from PySide6.QtWidgets import QApplication, QWidget

from app.domain.calendar_config import local_instant
from app.domain.calendar_plan import DayEntry, Occurrence
from app.ui.calendar_views import (
    SNAP_MINUTES,
    STATE_COLOURS,
    at_time,
    drag_pixmap,
    dropped_key,
    occurrence_mime,
)


class TimeGrid(QWidget):
    """A week's or a day's columns of hours: posting slots shaded, blackout days hatched,
    each occurrence a block coloured by its state. Blocks drag to another day or time
    (snapped to 15 minutes); with the keyboard, Alt+arrows move the chosen block."""

    chosen = Signal(str)  # an occurrence's key
    day_chosen = Signal(object)  # date
    dropped = Signal(str, object)  # key, aware datetime

    HEADER = 30
    GUTTER = 52
    HOUR = 44.0

    def __init__(self) -> None:
        super().__init__()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.days: list[DayEntry] = []
        self.tz = ZoneInfo("UTC")
        self.selected_key: str | None = None
        self.selected_day: date | None = None
        self.ghost: datetime | None = None
        self.press: QPoint | None = None
        self.setMinimumHeight(int(self.HEADER + 24 * self.HOUR))
        self.setAccessibleName("Time grid")

    def sizeHint(self) -> QSize:
        return QSize(700, int(self.HEADER + 24 * self.HOUR))

    def show_days(self, days: Sequence[DayEntry], tz: ZoneInfo, selected: date) -> None:
        self.days = list(days)
        self.tz = tz
        self.selected_day = selected if any(d.day == selected for d in days) else days[0].day
        keys = {o.key for d in days for o in d.occurrences}
        if self.selected_key not in keys:
            self.selected_key = None
        self._update_names()
        self.update()

    def _update_names(self) -> None:
        span = (
            f"{self.days[0].day:%a %d %b}"
            if len(self.days) == 1
            else f"{self.days[0].day:%d %b} – {self.days[-1].day:%d %b %Y}"
            if self.days
            else ""
        )
        self.setAccessibleName(f"{'Day' if len(self.days) == 1 else 'Week'}: {span}")
        chosen = self.occurrence(self.selected_key) if self.selected_key else None
        self.setAccessibleDescription(
            f"{chosen.title} at {chosen.when.astimezone(self.tz):%a} {at_time(chosen, self.tz)}"
            f" ({chosen.state})"
            if chosen
            else "No video chosen"
        )

    def occurrence(self, key: str | None) -> Occurrence | None:
        for entry in self.days:
            for occurrence in entry.occurrences:
                if occurrence.key == key:
                    return occurrence
        return None

    def column_width(self) -> float:
        return (self.width() - self.GUTTER) / max(1, len(self.days))

    def _y(self, moment: datetime, day: date) -> float:
        local = moment.astimezone(self.tz)
        midnight = local_instant(day, time(0), self.tz)
        hours = (local.timestamp() - midnight.timestamp()) / 3600  # real time from midnight
        return self.HEADER + hours * self.HOUR

    def block_rect(self, column: int, occurrence: Occurrence, lane: int, lanes: int) -> QRectF:
        width = self.column_width()
        top = self._y(occurrence.when, self.days[column].day)
        lane_width = (width - 6) / lanes
        return QRectF(
            self.GUTTER + column * width + 3 + lane * lane_width,
            top,
            lane_width - 2,
            max(22.0, self.HOUR / 2),
        )

    def blocks(self) -> list[tuple[QRectF, Occurrence]]:
        """Each block's place: blocks closer than half an hour share the width side by side,
        within their cluster only."""
        placed: list[tuple[QRectF, Occurrence]] = []
        near = timedelta(minutes=30)
        for column, entry in enumerate(self.days):
            clusters: list[list[Occurrence]] = []
            for occurrence in sorted(entry.occurrences, key=lambda o: o.when):
                if clusters and occurrence.when - clusters[-1][-1].when < near:
                    clusters[-1].append(occurrence)
                else:
                    clusters.append([occurrence])
            for cluster in clusters:
                lanes: list[list[Occurrence]] = []
                for occurrence in cluster:
                    for lane in lanes:
                        if occurrence.when - lane[-1].when >= near:
                            lane.append(occurrence)
                            break
                    else:
                        lanes.append([occurrence])
                for index, lane in enumerate(lanes):
                    for occurrence in lane:
                        rect = self.block_rect(column, occurrence, index, len(lanes))
                        placed.append((rect, occurrence))
        return placed

    def first_busy_y(self) -> int:
        """Where the day's work starts on screen (an hour before the first block or slot)."""
        tops = [self._y(s, e.day) for e in self.days for s in e.slots]
        tops += [rect.top() for rect, _o in self.blocks()]
        return int(max(0.0, min(tops, default=self.HEADER + 8 * self.HOUR) - self.HOUR))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        dim = palette.color(QPalette.ColorRole.PlaceholderText)
        grid = palette.color(QPalette.ColorRole.Mid)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        width = self.column_width()
        slot_fill = QColor(highlight)
        slot_fill.setAlphaF(0.13)
        hatch = QBrush(dim, Qt.BrushStyle.BDiagPattern)
        bold = QFont(self.font())
        bold.setBold(True)
        for column, entry in enumerate(self.days):
            left = self.GUTTER + column * width
            body = QRectF(left, self.HEADER, width, 24 * self.HOUR)
            if entry.allowed == 0:
                painter.fillRect(body, hatch)
            for slot in entry.slots:
                top = self._y(slot, entry.day)
                painter.fillRect(QRectF(left, top, width, self.HOUR / 2), slot_fill)
        for hour in range(25):
            y = self.HEADER + hour * self.HOUR
            painter.setPen(QPen(grid, 1))
            painter.drawLine(int(self.GUTTER), int(y), self.width(), int(y))
            if hour < 24:
                painter.setPen(dim)
                painter.drawText(
                    QRectF(0, y, self.GUTTER - 6, 16),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                    f"{hour:02d}:00",
                )
        painter.setPen(QPen(grid, 1))
        for column in range(len(self.days) + 1):
            x = int(self.GUTTER + column * width)
            painter.drawLine(x, 0, x, self.height())
        for rect, occurrence in self.blocks():
            colour = QColor(STATE_COLOURS.get(occurrence.state, highlight))
            fill = QColor(colour)
            fill.setAlphaF(0.28)
            painter.setBrush(fill)
            thick = 3 if occurrence.key == self.selected_key else 1
            painter.setPen(QPen(highlight if thick == 3 else colour, thick))
            painter.drawRoundedRect(rect, 4, 4)
            painter.setPen(text)
            painter.drawText(
                rect.adjusted(5, 2, -3, -2),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"{at_time(occurrence, self.tz)} {occurrence.title}",
            )
        painter.setBrush(Qt.BrushStyle.NoBrush)
        self._paint_header(painter, width, bold, text, highlight, grid)
        if self.ghost is not None:
            target = self._column_of(self.ghost.astimezone(self.tz).date())
            if target is not None:
                y = self._y(self.ghost, self.days[target].day)
                painter.setPen(QPen(highlight, 2, Qt.PenStyle.DashLine))
                left = self.GUTTER + target * width
                painter.drawLine(int(left), int(y), int(left + width), int(y))
                painter.drawText(
                    QRectF(left + 4, y - 18, width - 8, 16),
                    Qt.AlignmentFlag.AlignRight,
                    f"{self.ghost.astimezone(self.tz):%H:%M}",
                )
        painter.end()

    def header_top(self) -> int:
        """Where the day names are drawn: the top of what the scroll area shows, so they
        stay in view while the hours scroll."""
        return max(0, self.visibleRegion().boundingRect().top())

    def _paint_header(
        self,
        painter: QPainter,
        width: float,
        bold: QFont,
        text: QColor,
        highlight: QColor,
        grid: QColor,
    ) -> None:
        top = self.header_top()
        band = QRectF(0, top, self.width(), self.HEADER)
        painter.fillRect(band, self.palette().color(QPalette.ColorRole.Window))
        painter.setPen(QPen(grid, 1))
        painter.drawLine(0, int(top + self.HEADER), self.width(), int(top + self.HEADER))
        for column, entry in enumerate(self.days):
            left = self.GUTTER + column * width
            painter.setFont(bold if entry.day == date.today() else self.font())
            painter.setPen(highlight if entry.day == self.selected_day else text)
            label = f"{entry.day:%a %d}" + (f"  ⚠{entry.conflicts}" if entry.conflicts else "")
            counted = entry.counts.get("run", 0) - sum(
                1 for o in entry.occurrences if o.state == "run"
            )
            if counted > 0:  # runs of hundreds of schedules: counted, not drawn
                label += f"  +{counted} runs"
            painter.drawText(
                QRectF(left, top, width, self.HEADER), Qt.AlignmentFlag.AlignCenter, label
            )
        painter.setFont(self.font())

    def _column_of(self, day: date) -> int | None:
        for column, entry in enumerate(self.days):
            if entry.day == day:
                return column
        return None

    def time_at(self, point: QPoint) -> datetime | None:
        """The snapped wall-clock time under a point, as an aware instant."""
        if point.x() < self.GUTTER or point.y() < self.HEADER or not self.days:
            return None
        column = int((point.x() - self.GUTTER) // self.column_width())
        if not 0 <= column < len(self.days):
            return None
        minutes = (point.y() - self.HEADER) / self.HOUR * 60
        minutes = max(0, min(24 * 60 - SNAP_MINUTES, round(minutes / SNAP_MINUTES) * SNAP_MINUTES))
        at = time(int(minutes // 60), int(minutes % 60))
        return local_instant(self.days[column].day, at, self.tz)

    def block_at(self, point: QPoint) -> Occurrence | None:
        for rect, occurrence in reversed(self.blocks()):
            if rect.contains(point.toPointF()):
                return occurrence
        return None

    # Mouse and keyboard

    def mousePressEvent(self, event: QMouseEvent) -> None:
        point = event.position().toPoint()
        if point.y() < self.header_top() + self.HEADER:
            column = int((point.x() - self.GUTTER) // self.column_width())
            if point.x() >= self.GUTTER and 0 <= column < len(self.days):
                self.selected_day = self.days[column].day
                self.update()
                self.day_chosen.emit(self.selected_day)
            return
        found = self.block_at(point)
        self.press = point if found is not None and found.movable else None
        if found is not None:
            self.choose(found.key)
        else:
            moment = self.time_at(point)
            if moment is not None:
                self.selected_day = moment.astimezone(self.tz).date()
                self.update()
                self.day_chosen.emit(self.selected_day)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.press is None or self.selected_key is None:
            return
        distance = (event.position().toPoint() - self.press).manhattanLength()
        if distance < QApplication.startDragDistance():
            return
        self.press = None
        drag = QDrag(self)
        drag.setMimeData(occurrence_mime(self.selected_key))
        chosen = self.occurrence(self.selected_key)
        if chosen is not None:
            drag.setPixmap(drag_pixmap(chosen.title, self.palette()))
        drag.exec(Qt.DropAction.MoveAction)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self.press = None

    def choose(self, key: str) -> None:
        self.selected_key = key
        chosen = self.occurrence(key)
        if chosen is not None:
            self.selected_day = chosen.when.astimezone(self.tz).date()
        self._update_names()
        self.update()
        self.chosen.emit(key)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        chosen = self.occurrence(self.selected_key)
        alt = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
        moves = {
            Qt.Key.Key_Left: timedelta(days=-1),
            Qt.Key.Key_Right: timedelta(days=1),
            Qt.Key.Key_Up: timedelta(minutes=-SNAP_MINUTES),
            Qt.Key.Key_Down: timedelta(minutes=SNAP_MINUTES),
        }
        if alt and chosen is not None and chosen.movable and key in moves:
            local = chosen.when.astimezone(self.tz)
            target = datetime.combine(local.date(), local.time()) + moves[Qt.Key(key)]
            self.dropped.emit(chosen.key, local_instant(target.date(), target.time(), self.tz))
            return
        ordered = [o for _r, o in sorted(self.blocks(), key=lambda b: b[1].when)]
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Tab) and ordered:
            keys = [o.key for o in ordered]
            if self.selected_key in keys:
                step = -1 if key == Qt.Key.Key_Up else 1
                index = (keys.index(self.selected_key) + step) % len(keys)
            else:
                index = 0
            self.choose(keys[index])
            return
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and self.days and self.selected_day:
            step = -1 if key == Qt.Key.Key_Left else 1
            day = self.selected_day + timedelta(days=step)
            self.selected_day = day
            self.update()
            self.day_chosen.emit(day)
            return
        super().keyPressEvent(event)

    # Drops

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_key(event):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        moment = self.time_at(event.position().toPoint())
        if moment is None or not dropped_key(event):
            event.ignore()
            return
        self.ghost = moment
        self.update()
        event.acceptProposedAction()

    def dragLeaveEvent(self, event: object) -> None:
        self.ghost = None
        self.update()

    def dropEvent(self, event: QDropEvent) -> None:
        key = dropped_key(event)
        moment = self.time_at(event.position().toPoint())
        self.ghost = None
        self.update()
        if key and moment is not None:
            event.acceptProposedAction()
            self.dropped.emit(key, moment)
