"""The wizard's Scheduling page: when the job runs, how many at once, rules, and repeating it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml
from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWizardPage,
)

from app.domain.dispatch import Mode, SchedulingConfig
from app.domain.errors import UserError
from app.domain.job import DraftError
from app.domain.schedule import local_zone_name, parse_schedule, zone
from app.triggers import preview
from app.ui.rule_editor import RuleEditor
from app.ui.wizard.parts import (
    FieldErrors,
    _local,
    _top_form,
    friendly,
)


class SchedulingPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Scheduling")
        self.setSubTitle("When and how the items render; optionally, repeat this job.")
        form = _top_form(self, scroll=True)  # with Repeat ticked it is longer than the page
        self.mode = QComboBox()
        self.mode.addItems([m.value for m in Mode])
        self.mode.setCurrentText("smart")
        self.mode.setAccessibleName("Mode")
        form.addRow("Mode", self.mode)
        self.start_now = QCheckBox("Start immediately")
        self.start_now.setChecked(True)
        form.addRow("", self.start_now)
        self.start = QDateTimeEdit(QDateTime.currentDateTime().addSecs(3600))
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.start.setAccessibleName("Start time")
        self.end = QDateTimeEdit(QDateTime.currentDateTime().addDays(1))
        self.end.setCalendarPopup(True)
        self.end.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.end.setAccessibleName("End time")
        self.use_end = QCheckBox("Start nothing after")
        form.addRow("Start at", self.start)
        self.errors = FieldErrors()
        self.start_error = self.errors.beside(
            form, ("start time",), self.start.dateTimeChanged, self.start_now.toggled
        )
        end_row = QHBoxLayout()
        end_row.addWidget(self.use_end)
        end_row.addWidget(self.end, 1)
        form.addRow("End", end_row)
        self.end_error = self.errors.beside(
            form,
            ("end time",),
            self.end.dateTimeChanged,
            self.use_end.toggled,
            self.start.dateTimeChanged,
        )
        self.max_concurrent = QSpinBox()
        self.max_concurrent.setRange(0, 16)
        self.max_concurrent.setSpecialValueText("engine default")
        self.max_concurrent.setAccessibleName("Maximum at once")
        form.addRow("At most at once", self.max_concurrent)
        self.errors.beside(form, ("max_concurrent",), self.max_concurrent.valueChanged)
        self.priority_queue = QCheckBox("Higher-priority rows first (priority queue)")
        self.priority_queue.setChecked(True)
        form.addRow("", self.priority_queue)
        self.rule_editor = RuleEditor()
        # The YAML behind the form: what the job stores; editable with "Edit as YAML".
        self.rules = self.rule_editor.text
        self.rules.setPlaceholderText(
            '- id: nights\n  name: Nights only\n  type: time_based\n  settings: {time_window: "22:00-06:00"}'  # noqa: E501
        )
        form.addRow("Rules", self.rule_editor)
        self.rules_error = self.errors.beside(form, ("rules*",), self.rules.textChanged)
        self.recurring = QCheckBox("Repeat: make this job again on a schedule")
        form.addRow("", self.recurring)
        self.expression = QLineEdit("weekly@mon@09:00")
        self.expression.setAccessibleName("Schedule expression")
        form.addRow("Schedule", self.expression)
        self.expression_error = self.errors.beside(form, ("schedule",), self.expression.textChanged)
        self.zone = QComboBox()
        self.zone.setEditable(True)
        self.zone.addItems(
            sorted(
                {
                    local_zone_name(),
                    "UTC",
                    "Europe/Berlin",
                    "Europe/London",
                    "America/New_York",
                    "America/Los_Angeles",
                    "Asia/Kolkata",
                    "Asia/Tokyo",
                }
            )
        )
        self.zone.setCurrentText(local_zone_name())
        self.zone.setAccessibleName("Time zone")
        line = self.zone.lineEdit()
        if line is not None:
            line.setAccessibleName("Time zone")
        form.addRow("Time zone", self.zone)
        self.zone_error = self.errors.beside(
            form, ("timezone", "time zone"), self.zone.currentTextChanged
        )
        self.preview = QLabel("")
        self.preview.setAccessibleName("Next five runs")
        form.addRow("Next runs", self.preview)
        self.error = self.errors.general
        form.addRow(self.error)
        for signal in (
            self.expression.textChanged,
            self.zone.currentTextChanged,
            self.recurring.toggled,
        ):
            signal.connect(self.update_preview)
        self.start_now.toggled.connect(lambda on: self.start.setEnabled(not on))
        self.start.setEnabled(False)
        self.use_end.toggled.connect(self.end.setEnabled)
        self.end.setEnabled(False)
        self.recurring.toggled.connect(self._repeat_toggled)
        self._repeat_toggled(False)
        self.update_preview()

    def _repeat_toggled(self, on: bool) -> None:
        """The schedule's own fields are editable only when the job repeats."""
        self.expression.setEnabled(on)
        self.zone.setEnabled(on)

    def update_preview(self, *_args: Any) -> None:
        if not self.recurring.isChecked():
            self.preview.setText("—")
            return
        try:
            spec = parse_schedule(self.expression.text())
            tz = zone(self.zone.currentText())
            runs = preview(spec, tz, datetime.now(UTC), 5)
        except UserError as exc:
            self.preview.setText(f"✗ {exc}")
            return
        self.preview.setText("\n".join(f"{r:%a %d %b %Y %H:%M %Z}" for r in runs))

    def scheduling(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "mode": self.mode.currentText(),
            "priority_queue": self.priority_queue.isChecked(),
            "timezone": self.zone.currentText(),
        }
        if self.max_concurrent.value():
            data["max_concurrent"] = self.max_concurrent.value()
        if not self.start_now.isChecked():
            data["start_at"] = _local(self.start).isoformat()
        if self.use_end.isChecked():
            data["end_at"] = _local(self.end).isoformat()
        text = self.rules.toPlainText().strip()
        if text:
            try:
                rules = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
                problem = getattr(exc, "problem", None) or "not valid YAML"
                raise DraftError("rules", f"{where}{problem}") from None
            data["rules"] = rules
        return data

    def validatePage(self) -> bool:
        self.errors.clear()
        try:
            SchedulingConfig.from_dict(self.scheduling())
        except DraftError as exc:
            self.errors.show(exc.field, friendly(exc, self.scheduling_rules()))
            return False
        except UserError as exc:
            self.error.setText(str(exc))
            return False
        now = datetime.now().astimezone()
        if self.use_end.isChecked() and _local(self.end) <= now:
            self.end_error.setText("End time: is in the past — pick a later time, or untick it.")
            return False
        if self.recurring.isChecked():
            try:
                parse_schedule(self.expression.text())
            except UserError as exc:
                self.expression_error.setText(str(exc))
                return False
            try:
                zone(self.zone.currentText())
            except UserError as exc:
                self.zone_error.setText(str(exc))
                return False
        return True

    def scheduling_rules(self) -> list[Any]:
        try:
            rules = yaml.safe_load(self.rules.toPlainText() or "[]")
        except yaml.YAMLError:
            return []
        return rules if isinstance(rules, list) else []
