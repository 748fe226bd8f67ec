"""Scheduling rules as a form, not YAML: a list of rules and, for the chosen one, its type and
typed fields — a time window with two time pickers (delay or only), days of the week as
toggles, a concurrency cap, a minimum interval, tags and a priority threshold — checked as
you type by the same `SchedulingRule.from_dict` the engine uses, the field named beside it.

The rules stay a list of plain dicts (the YAML the command line and the API take), so *Edit
as YAML* shows the same rules as text and takes them back.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from PySide6.QtCore import QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.dispatch import DAY_NAMES, RuleType, SchedulingRule
from app.domain.errors import DraftError

TYPES = {
    RuleType.TIME_BASED: "Time (a window, days of the week)",
    RuleType.CONTENT_BASED: "Content (rows with these tags)",
    RuleType.PRIORITY_BASED: "Priority (rows at or above a priority)",
}
PRIORITIES = ("", "low", "normal", "high")
_FIELD = re.compile(r"^rule(?:\.settings)?\.?(\w*)$")


PLAIN = {  # the engine's words for the form's
    "content_based": "content",
    "time_based": "time",
    "priority_based": "priority",
    "content_tags": "tags",
    "time_window or days_of_week": "a time window or days",
    "priority_threshold": "a priority",
}


def plain(message: str) -> str:
    for word, said in PLAIN.items():
        message = message.replace(word, said)
    return message


def rule_problem(rule: dict[str, Any]) -> tuple[str, str] | None:
    """(field, message) of what is wrong with one rule, or None."""
    try:
        SchedulingRule.from_dict(rule, "rule")
    except DraftError as exc:
        match = _FIELD.match(exc.field)
        field = match.group(1) if match else ""
        return field or "settings", plain(str(exc).split(": ", 1)[-1])
    return None


class RuleEditor(QWidget):
    changed = Signal()  # the rules changed (a valid or an invalid state)

    def __init__(self) -> None:
        super().__init__()
        self.rules: list[dict[str, Any]] = []
        self.loading = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        # A hint, not a problem: muted, shown while there are no rules.
        self.hint = QLabel(
            "No rules: rows render whenever the schedule allows. Add a rule to "
            "limit when, how many or which rows render."
        )
        self.hint.setWordWrap(True)
        self.hint.setEnabled(False)  # the palette's muted text, in light and dark themes
        self.hint.setAccessibleName("About rules")
        outer.addWidget(self.hint)
        row = QHBoxLayout()
        left = QVBoxLayout()
        self.listing = QListWidget()
        self.listing.setAccessibleName("Rules")
        self.listing.setMaximumWidth(160)
        self.listing.currentRowChanged.connect(self._chosen)
        left.addWidget(self.listing)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add rule")
        self.add_button.clicked.connect(self.add_rule)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_rule)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        left.addLayout(buttons)
        row.addLayout(left)

        self.form_box = QWidget()
        form = QFormLayout(self.form_box)
        self.name = QLineEdit()
        self.name.setAccessibleName("Rule name")
        form.addRow("Name", self.name)
        self.kind = QComboBox()
        self.kind.setAccessibleName("Rule type")
        for kind, text in TYPES.items():
            self.kind.addItem(text, kind.value)
        form.addRow("Type", self.kind)
        self.enabled = QCheckBox("On")
        form.addRow("", self.enabled)
        self.use_window = QCheckBox("Time window")
        window = QHBoxLayout()
        self.window_start = QTimeEdit(QTime(9, 0))
        self.window_start.setAccessibleName("Window starts")
        self.window_end = QTimeEdit(QTime(17, 0))
        self.window_end.setAccessibleName("Window ends")
        self.action = QComboBox()
        self.action.setAccessibleName("Inside the window")
        self.action.addItem("start only inside it", "only")
        self.action.addItem("wait until it ends", "delay")
        for widget in (self.use_window, self.window_start, QLabel("to"), self.window_end):
            window.addWidget(widget)
        window.addStretch()
        form.addRow("When", window)
        form.addRow("Inside it", self.action)  # its own row: the form fits a narrow page
        days = QHBoxLayout()
        self.days: list[QPushButton] = []
        for name in DAY_NAMES:
            toggle = QPushButton(name.capitalize())
            toggle.setCheckable(True)
            toggle.setAccessibleName(f"Only on {name.capitalize()}")
            toggle.setMaximumWidth(40)
            days.addWidget(toggle)
            self.days.append(toggle)
        days.addStretch()
        form.addRow("Days", days)
        self.max_concurrent = QSpinBox()
        self.max_concurrent.setRange(0, 16)
        self.max_concurrent.setSpecialValueText("no cap")
        self.max_concurrent.setAccessibleName("At most at once")
        form.addRow("At most at once", self.max_concurrent)
        self.interval = QSpinBox()
        self.interval.setRange(0, 7 * 24 * 60)
        self.interval.setSuffix(" min")
        self.interval.setSpecialValueText("none")
        self.interval.setAccessibleName("Minimum minutes between starts")
        form.addRow("Between starts", self.interval)
        self.tags = QLineEdit()
        self.tags.setPlaceholderText("science, space")
        self.tags.setAccessibleName("Tags")
        form.addRow("Tags", self.tags)
        self.threshold = QComboBox()
        self.threshold.setAccessibleName("Priority at least")
        for value in PRIORITIES:
            self.threshold.addItem(value or "any", value)
        form.addRow("Priority at least", self.threshold)
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b91c1c;")
        self.problem.setAccessibleName("Problem with the rule")
        form.addRow(self.problem)
        row.addWidget(self.form_box, 1)
        outer.addLayout(row)

        yaml_row = QHBoxLayout()
        self.as_yaml = QCheckBox("Edit as YAML")
        self.as_yaml.toggled.connect(self._yaml_mode)
        yaml_row.addWidget(self.as_yaml)
        yaml_row.addStretch()
        outer.addLayout(yaml_row)
        self.text = QPlainTextEdit()
        self.text.setAccessibleName("Rules (YAML)")
        self.text.setMaximumHeight(120)
        self.text.hide()
        outer.addWidget(self.text)

        for signal in (
            self.name.textChanged, self.kind.currentIndexChanged, self.enabled.toggled,
            self.use_window.toggled, self.window_start.timeChanged, self.window_end.timeChanged,
            self.action.currentIndexChanged, self.max_concurrent.valueChanged,
            self.interval.valueChanged, self.tags.textChanged, self.threshold.currentIndexChanged,
        ):  # fmt: skip
            signal.connect(self._edited)
        for toggle in self.days:
            toggle.toggled.connect(self._edited)
        self._show_form(None)

    # The list

    def set_rules(self, rules: list[dict[str, Any]]) -> None:
        self.rules = [dict(rule) for rule in rules]
        self.listing.clear()
        for rule in self.rules:
            self.listing.addItem(str(rule.get("name") or rule.get("id") or "rule"))
        if self.rules:
            self.listing.setCurrentRow(0)
        else:
            self._show_form(None)
        self._sync_text()

    def add_rule(self) -> None:
        taken = {str(r.get("id")) for r in self.rules}
        number = next(n for n in range(1, 1000) if f"rule-{n}" not in taken)
        self.rules.append(
            {
                "id": f"rule-{number}",
                "name": f"Rule {number}",
                "type": "time_based",
                "enabled": True,
                "settings": {"time_window": "09:00-17:00", "action": "only"},
            }
        )
        self.listing.addItem(f"Rule {number}")
        self.listing.setCurrentRow(len(self.rules) - 1)
        self._sync_text()
        self.changed.emit()

    def remove_rule(self) -> None:
        row = self.listing.currentRow()
        if row < 0:
            return
        del self.rules[row]
        self.listing.takeItem(row)
        if not self.rules:
            self._show_form(None)
        self._sync_text()
        self.changed.emit()

    def problems(self) -> list[str]:
        """Every rule's problem, in words with its name."""
        found = []
        for n, rule in enumerate(self.rules, 1):
            problem = rule_problem(rule)
            if problem:
                field, message = problem
                label = rule.get("name") or f"Rule {n}"
                found.append(f"“{label}”, {field.replace('_', ' ')}: {message}")
        return found

    # The form

    def _chosen(self, row: int) -> None:
        self._show_form(self.rules[row] if 0 <= row < len(self.rules) else None)

    def _show_form(self, rule: dict[str, Any] | None) -> None:
        self.form_box.setEnabled(rule is not None)
        self.remove_button.setEnabled(rule is not None)
        self.hint.setVisible(not self.rules)
        if rule is None:
            self.problem.setText("")
            return
        settings = rule.get("settings") or {}
        self.loading = True
        try:
            self.name.setText(str(rule.get("name") or ""))
            self.kind.setCurrentIndex(max(0, self.kind.findData(str(rule.get("type")))))
            self.enabled.setChecked(rule.get("enabled", True) is not False)
            window = str(settings.get("time_window") or "")
            self.use_window.setChecked(bool(window))
            if "-" in window:
                start, end = (QTime.fromString(p.strip(), "HH:mm") for p in window.split("-", 1))
                if start.isValid() and end.isValid():
                    self.window_start.setTime(start)
                    self.window_end.setTime(end)
            self.action.setCurrentIndex(max(0, self.action.findData(settings.get("action"))))
            chosen = {str(d).lower()[:3] for d in settings.get("days_of_week") or []}
            for name, toggle in zip(DAY_NAMES, self.days, strict=True):
                toggle.setChecked(name in chosen)
            self.max_concurrent.setValue(int(settings.get("max_concurrent") or 0))
            self.interval.setValue(int(settings.get("min_interval_ms") or 0) // 60_000)
            tags = settings.get("content_tags") or []
            self.tags.setText(", ".join(tags) if isinstance(tags, list) else str(tags))
            threshold = str(settings.get("priority_threshold") or "")
            self.threshold.setCurrentIndex(max(0, self.threshold.findData(threshold)))
        finally:
            self.loading = False
        self._check(rule)

    def _from_form(self, rule: dict[str, Any]) -> dict[str, Any]:
        settings: dict[str, Any] = {}
        if self.use_window.isChecked():
            start = self.window_start.time().toString("HH:mm")
            settings["time_window"] = f"{start}-{self.window_end.time().toString('HH:mm')}"
            settings["action"] = self.action.currentData()
        days = [n for n, toggle in zip(DAY_NAMES, self.days, strict=True) if toggle.isChecked()]
        if days:
            settings["days_of_week"] = days
        if self.max_concurrent.value():
            settings["max_concurrent"] = self.max_concurrent.value()
        if self.interval.value():
            settings["min_interval_ms"] = self.interval.value() * 60_000
        tags = [t.strip() for t in self.tags.text().split(",") if t.strip()]
        if tags:
            settings["content_tags"] = tags
        if self.threshold.currentData():
            settings["priority_threshold"] = self.threshold.currentData()
        return {
            "id": rule.get("id"),
            "name": self.name.text().strip(),
            "type": self.kind.currentData(),
            "enabled": self.enabled.isChecked(),
            "settings": settings,
        }

    def _edited(self, *_args: object) -> None:
        row = self.listing.currentRow()
        if self.loading or not 0 <= row < len(self.rules):
            return
        self.rules[row] = self._from_form(self.rules[row])
        item = self.listing.item(row)
        if item is not None:
            item.setText(self.rules[row]["name"] or self.rules[row]["id"])
        self._check(self.rules[row])
        self._sync_text()
        self.changed.emit()

    def _check(self, rule: dict[str, Any]) -> None:
        problem = rule_problem(rule)
        if problem is None:
            self.problem.setText("")
        else:
            field, message = problem
            if field == "settings":  # what the rule as a whole lacks
                self.problem.setText(f"This rule needs {message.split(' needs ', 1)[-1]}.")
            else:
                self.problem.setText(f"{plain(field).replace('_', ' ').capitalize()}: {message}")

    # YAML

    def _dump(self) -> str:
        return yaml.safe_dump(self.rules, sort_keys=False, allow_unicode=True) if self.rules else ""

    def _sync_text(self) -> None:
        if not self.as_yaml.isChecked():
            self.text.setPlainText(self._dump())

    def _yaml_mode(self, on: bool) -> None:
        """Show the rules as YAML; back in the form, take the YAML's rules if it reads."""
        self.text.setVisible(on)
        if on:
            self.text.setPlainText(self._dump())
            return
        try:
            rules = yaml.safe_load(self.text.toPlainText() or "[]")
        except yaml.YAMLError:
            rules = None
        if isinstance(rules, list) and all(isinstance(r, dict) for r in rules):
            self.set_rules(rules)
            self.changed.emit()
        else:
            self.problem.setText("The YAML is not a list of rules — fix it, or it is not used.")
            self.as_yaml.blockSignals(True)
            self.as_yaml.setChecked(True)
            self.as_yaml.blockSignals(False)
            self.text.show()

    def yaml_text(self) -> str:
        """The rules as the wizard stores them: the YAML box while it is being edited, else the
        form's rules."""
        return self.text.toPlainText() if self.as_yaml.isChecked() else self._dump()
