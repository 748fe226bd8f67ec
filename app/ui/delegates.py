"""Painting helpers for the job table: a real progress bar in the progress column."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import (
    QAbstractItemModel,
    QDateTime,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDateTimeEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QWidget,
)

from app.ui.job_table import PercentRole


def draw_progress(painter: QPainter, rect: QRect, percent: float, text: str) -> None:
    """The platform's own progress bar, drawn into a cell or a card."""
    bar = QStyleOptionProgressBar()
    bar.rect = rect
    bar.minimum, bar.maximum = 0, 100
    bar.progress = round(percent)
    bar.text = text
    bar.textVisible = True
    bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
    QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class ProgressDelegate(QStyledItemDelegate):
    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        percent = index.data(PercentRole)
        if percent is None:
            super().paint(painter, option, index)
            return
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        text = index.data(Qt.ItemDataRole.DisplayRole)
        draw_progress(painter, option.rect.adjusted(4, 6, -4, -6), percent, text)


class EditDelegate(QStyledItemDelegate):
    """Priority as a choice of three; next run as a date and time, in the future."""

    def createEditor(
        self,
        parent: QWidget,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> QWidget:
        if index.column() == 2:
            box = QComboBox(parent)
            box.addItems(["high", "normal", "low"])
            box.setAccessibleName("Priority")
            return box
        edit = QDateTimeEdit(parent)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        edit.setMinimumDateTime(QDateTime.currentDateTime())
        edit.setAccessibleName("Next run")
        return edit

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        value = index.data(Qt.ItemDataRole.EditRole)
        if isinstance(editor, QComboBox):
            editor.setCurrentText(str(value))
        elif isinstance(editor, QDateTimeEdit):
            start = value.astimezone() if isinstance(value, datetime) else None
            editor.setDateTime(
                QDateTime.fromSecsSinceEpoch(int(start.timestamp()))
                if start
                else QDateTime.currentDateTime().addSecs(3600)
            )

    def setModelData(
        self, editor: QWidget, model: QAbstractItemModel, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText())
        elif isinstance(editor, QDateTimeEdit):
            moment = editor.dateTime().toPython()
            if isinstance(moment, datetime):
                model.setData(index, moment.astimezone())


class CardDelegate(QStyledItemDelegate):
    """A job as a card: title, state badge (symbol and word), progress bar, items."""

    SIZE = QSize(250, 86)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return self.SIZE

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        model = index.model()
        row = index.row()

        def text(column: int) -> str:
            return str(model.index(row, column).data() or "")

        rect = option.rect.adjusted(6, 6, -6, -6)
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        painter.setPen(palette.highlight().color() if selected else palette.mid().color())
        painter.setBrush(
            palette.alternateBase() if not selected else palette.highlight().color().lighter(185)
        )
        painter.drawRoundedRect(rect, 8, 8)
        inner = rect.adjusted(10, 8, -10, -8)
        font = QFont(option.font)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(palette.text().color())
        metrics = QFontMetrics(font)
        title = metrics.elidedText(text(0), Qt.TextElideMode.ElideRight, inner.width())
        painter.drawText(inner.topLeft() + QPoint(0, metrics.ascent()), title)
        painter.setFont(option.font)
        colour = model.index(row, 1).data(Qt.ItemDataRole.ForegroundRole)
        if isinstance(colour, QColor):
            painter.setPen(colour)
        line = QFontMetrics(option.font).height()
        painter.drawText(inner.topLeft() + QPoint(0, metrics.height() + line), text(1))
        painter.setPen(palette.text().color())
        painter.drawText(
            inner.topLeft() + QPoint(110, metrics.height() + line), text(2) + " priority"
        )
        top = inner.top() + metrics.height() + line + 8
        percent = model.index(row, 3).data(PercentRole) or 0
        draw_progress(painter, QRect(inner.left(), top, inner.width(), 16), percent, text(4))
        painter.restore()
