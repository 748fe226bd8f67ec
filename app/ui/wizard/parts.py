"""Pieces every page of the job wizard uses: notes, field errors, the wizard's result."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PySide6.QtWidgets import (
    QDateTimeEdit,
    QFormLayout,
    QFrame,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.domain.idea import Priority
from app.domain.job import DraftError
from app.domain.validation import Level
from app.sources.intake import SourceSpec

PREVIEW_ROWS = 20
CODECS: dict[str, tuple[list[str], list[str]]] = {  # what each container can hold
    "mp4": (["h264", "h265"], ["aac", "opus"]),
    "mov": (["h264", "h265"], ["aac"]),
    "webm": (["vp9"], ["opus"]),
}


def _local(edit: QDateTimeEdit) -> datetime:
    moment = edit.dateTime().toPython()
    assert isinstance(moment, datetime)
    return moment.astimezone()


_RULE_FIELD = re.compile(r"^rules\[(\d+)\](?:\.settings)?\.?(\w*)$")


def friendly(error: DraftError, rules: list[Any]) -> str:
    """A scheduling problem in words: "Rule 1 (“Nights only”), time window: …" instead of the
    developer's ``rules[1].settings.time_window``."""
    message = str(error).split(": ", 1)[-1]
    match = _RULE_FIELD.match(error.field)
    if not match:
        return f"{error.field.replace('_', ' ').capitalize()}: {message}"
    number, name = int(match.group(1)), match.group(2).replace("_", " ")
    rule = rules[number - 1] if 0 < number <= len(rules) else {}
    title = rule.get("name") if isinstance(rule, dict) else None
    label = f"Rule {number}" + (f" (“{title}”)" if title else "")
    return f"{label}, {name}: {message}" if name else f"{label}: {message}"


def _top_form(page: QWidget, scroll: bool = False) -> QFormLayout:
    """A form held at the top of its page: the space left over stays below it instead of
    opening gaps between the rows. ``scroll``: a form that can outgrow the page scrolls
    instead of squeezing its rows."""
    outer = QVBoxLayout(page)
    holder: QWidget = page
    if scroll:
        outer.setContentsMargins(0, 0, 0, 0)
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget()
        area.setWidget(holder)
        outer.addWidget(area)
        outer = QVBoxLayout(holder)
    form = QFormLayout()
    outer.addLayout(form)
    outer.addStretch(1)
    return form


class Note(QLabel):
    """A line of text that takes no room while it is empty (an empty row in a form would
    leave a gap under its field), starting with a capital ("callback URL: …" is a sentence)."""

    def __init__(self, colour: str = "", name: str = "Note") -> None:
        super().__init__("")
        if colour:
            self.setStyleSheet(f"color: {colour};")
        self.setWordWrap(True)
        self.setAccessibleName(name)
        self.setVisible(False)

    def setText(self, text: str) -> None:
        text = text[:1].upper() + text[1:]
        super().setText(text)
        self.setVisible(bool(text))


class ErrorLabel(Note):
    """A problem, in red, beside its field."""

    def __init__(self) -> None:
        super().__init__("#dc2626", "Problem")


def _error_label() -> QLabel:
    return ErrorLabel()


class FieldErrors:
    """Each problem shown beside the field it is about, and gone as soon as that field is
    edited; a problem no field owns goes to the page's own line.

    `beside` makes the label for a field (by the `DraftError.field` names it answers to —
    a name ending in "*" matches as a prefix) and adds it as the next row of the form.
    """

    def __init__(self) -> None:
        self.labels: list[tuple[tuple[str, ...], QLabel]] = []
        self.general = _error_label()

    def beside(self, form: QFormLayout, fields: tuple[str, ...], *changed: Any) -> QLabel:
        label = _error_label()
        form.addRow(label)
        self.labels.append((fields, label))
        for signal in changed:
            signal.connect(lambda *_a, label=label: label.setText(""))
        return label

    def label_for(self, field_name: str) -> QLabel:
        for fields, label in self.labels:
            for name in fields:
                if field_name == name or (name.endswith("*") and field_name.startswith(name[:-1])):
                    return label
        return self.general

    def show(self, field_name: str, text: str) -> None:
        self.clear()
        self.label_for(field_name).setText(text)

    def clear(self) -> None:
        self.general.setText("")
        for _fields, label in self.labels:
            label.setText("")

    def shown(self) -> str:
        """Every message on the page, for tests and screen readers."""
        texts = [label.text() for _f, label in self.labels] + [self.general.text()]
        return " ".join(t for t in texts if t)


@dataclass
class WizardResult:
    """Everything the wizard collected, ready for `Services.create_job`."""

    spec: SourceSpec
    title: str
    priority: Priority
    level: Level
    output_config: dict[str, Any]
    style: str | None
    deadline_minutes: int | None
    callback_url: str | None
    scheduling: dict[str, Any]
    write_back: bool
    recurring: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    publish: dict[str, Any] = field(default_factory=dict)


def _numbers(rows: list[int], most: int = 12) -> str:
    """Row numbers as a person reads them: ``3, 7 and 12`` (the first ``most``, then a count)."""
    shown = [str(n) for n in rows[:most]]
    if len(rows) > most:
        return f"{', '.join(shown)} and {len(rows) - most} more"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
