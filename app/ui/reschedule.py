"""A new publish time for a video that is not public yet."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QLabel,
    QWidget,
)

from app.ui.widgets import ok_cancel


class RescheduleDialog(QDialog):
    def __init__(self, item_id: int, current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reschedule")
        self.item_id = item_id
        form = QFormLayout(self)
        form.addRow(
            QLabel(
                "YouTube publishes the video at the new time; until then it stays private."
                if current
                else "The video will upload as private and publish at this time."
            )
        )
        start = (
            QDateTime.fromSecsSinceEpoch(int(datetime.fromisoformat(current).timestamp()))
            if current
            else QDateTime.currentDateTime().addDays(1)
        )
        self.when = QDateTimeEdit(start)
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.when.setAccessibleName("New publish time")
        form.addRow("Publish at", self.when)
        form.addRow(ok_cancel(self, "Reschedule"))

    def chosen(self) -> datetime:
        moment = self.when.dateTime().toPython()
        assert isinstance(moment, datetime)
        return moment.astimezone()
