"""The job creation wizard: source → output → job details → scheduling → publishing → review.

Each page checks its fields before Next and says what is wrong next to the field. Connecting
a sheet runs off the GUI thread with a busy bar and can be cancelled (its answer is then
ignored). Nothing is stored until Create on the last page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.domain.dispatch import Mode, SchedulingConfig
from app.domain.errors import UserError
from app.domain.idea import BUILTIN_STYLES, Priority, Voice
from app.domain.job import DEADLINE_RANGE, DraftError, JobDraft
from app.domain.output import Container, Optimize, OutputConfig, Resolution
from app.domain.publishing import CATEGORIES, Privacy, PublishConfig, parse_interval
from app.domain.resources import parse_resources
from app.domain.schedule import local_zone_name, parse_schedule, zone
from app.domain.storage import parse_target
from app.domain.validation import Level, SheetReport
from app.paths import unwritable
from app.sources.intake import SourceSpec
from app.triggers import preview
from app.ui.background import Background
from app.ui.rule_editor import RuleEditor
from app.ui.widgets import PathField

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


class SourcePage(QWizardPage):
    def __init__(self, background: Background, check: Any) -> None:
        super().__init__()
        self.setTitle("Connect a source")
        self.setSubTitle("A CSV or Excel file, or a Google Sheet URL or ID.")
        self.background = background
        self.check = check  # (SourceSpec) -> SheetReport, run in the background
        self.report: SheetReport | None = None
        self.request = 0
        form = QFormLayout(self)
        source = PathField(
            "Source",
            filter="Idea sheets (*.csv *.tsv *.xlsx *.xlsm);;All files (*)",
            placeholder="ideas.csv, ideas.xlsx or https://docs.google.com/…",
        )
        self.location = source.edit
        form.addRow("Source", source)
        self.tab = QLineEdit()
        self.tab.setAccessibleName("Tab")
        self.tab.setPlaceholderText("first tab")
        form.addRow("Tab", self.tab)
        self.range = QLineEdit()
        self.range.setAccessibleName("Range")
        self.range.setPlaceholderText("A1:J1000 (optional)")
        form.addRow("Range", self.range)
        buttons = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setAccessibleName("Connecting")
        self.busy.hide()
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.busy, 1)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        self.error = _error_label()
        form.addRow(self.error)
        self.summary = QLabel("")
        form.addRow(self.summary)
        self.preview = QTableWidget(0, 3)
        self.preview.setHorizontalHeaderLabels(["Row", "Title", "Check"])
        self.preview.setWordWrap(True)  # a long message wraps, whole, instead of being cut
        self.preview.setAccessibleName("Preview of the first rows")
        self.preview.verticalHeader().hide()
        self.preview.horizontalHeader().setStretchLastSection(True)
        form.addRow(self.preview)
        for edit in (self.location, self.tab, self.range):
            edit.textChanged.connect(self._changed)
            # Enter, leaving the field or choosing with Browse… tests at once: Next is never
            # held back for want of a button press.
            edit.editingFinished.connect(self._test_if_changed)
        source.chosen.connect(self._test_if_changed)

    def spec(self) -> SourceSpec:
        return SourceSpec(
            self.location.text().strip(),
            tab=self.tab.text().strip() or None,
            range=self.range.text().strip() or None,
        )

    def _changed(self) -> None:
        self.report = None
        self.summary.setText("")
        self.error.setText("")  # stale once the text changes
        self.completeChanged.emit()

    def _test_if_changed(self) -> None:
        if self.report is None and self.location.text().strip() and self.cancel_button.isHidden():
            self.test()

    def test(self) -> None:
        if not self.location.text().strip():
            self.error.setText("Name a file or paste a Google Sheet URL first.")
            return
        self.request += 1
        request, spec = self.request, self.spec()
        self.error.setText("")
        self.busy.show()
        self.cancel_button.show()
        self.test_button.setEnabled(False)
        self.background.run(
            lambda: self.check(spec),
            lambda report: self._tested(request, report),
            lambda error: self._failed(request, error),
        )

    def cancel(self) -> None:
        self.request += 1  # the answer, when it comes, is for a request nobody waits for
        self._idle()
        self.summary.setText("Cancelled.")

    def _idle(self) -> None:
        self.busy.hide()
        self.cancel_button.hide()
        self.test_button.setEnabled(True)

    def _tested(self, request: int, report: SheetReport) -> None:
        if request != self.request:
            return
        self._idle()
        self.report = report
        valid, invalid = len(report.valid_rows), len(report.invalid_rows)
        counted = "1 valid row" if valid == 1 else f"{valid} valid rows"
        empty = report.empty_rows
        skipped = (
            f"; empty {'row' if len(empty) == 1 else 'rows'} {_numbers(empty)} skipped"
            if empty
            else ""
        )
        self.summary.setText(f"{counted}, {invalid} with problems{skipped} (at moderate level).")
        if not valid:
            self.error.setText("No row is valid — fix the sheet, or choose another.")
        rows = report.rows[:PREVIEW_ROWS]
        self.preview.setRowCount(len(rows))
        for n, row in enumerate(rows):
            mark = (
                "✗ " + "; ".join(f"{p.place()}: {p.message}" for p in row.errors)
                if row.errors
                else (
                    "⚠ " + "; ".join(f"{p.place()}: {p.message}" for p in row.warnings)
                    if row.warnings
                    else "✓ valid"
                )
            )
            for column, text in enumerate((str(row.row), row.title, mark)):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)  # the whole message, however narrow the column
                self.preview.setItem(n, column, cell)
        self.preview.resizeColumnToContents(0)
        self.preview.setColumnWidth(1, min(260, max(120, self.preview.sizeHintForColumn(1))))
        self.preview.resizeRowsToContents()
        self.completeChanged.emit()

    def _failed(self, request: int, error: BaseException) -> None:
        if request != self.request:
            return
        self._idle()
        self.error.setText(
            str(error)
            if isinstance(error, UserError)
            else f"Could not read it ({type(error).__name__})."
        )
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.report is not None and bool(self.report.valid_rows)


FOOTAGE_CHOICES = (
    ("As in Settings", ""),
    ("Stock footage from Pexels (your API key)", "pexels"),
    ("Stock footage from Pixabay (your API key)", "pixabay"),
    ("Pictures and clips from the assets folder", "local"),
    ("The style's background only", "none"),
)


FOOTAGE_NAMES = {
    "pexels": "Pexels footage",
    "pixabay": "Pixabay footage",
    "local": "assets folder",
    "none": "style only",
}


class OutputPage(QWizardPage):
    def __init__(
        self,
        background: Background | None = None,
        test_footage: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__()
        self.background, self.test_footage = background, test_footage
        self.setTitle("Output")
        self.setSubTitle("How the videos are made.")
        form = _top_form(self)

        def combo(name: str, values: list[str], default: str) -> QComboBox:
            box = QComboBox()
            box.addItems(values)
            box.setCurrentText(default)
            box.setAccessibleName(name)
            form.addRow(name, box)
            return box

        self.container = combo("Container", [c.value for c in Container], "mp4")
        self.video_codec = combo("Video codec", ["h264", "h265", "vp9"], "h264")
        self.audio_codec = combo("Audio codec", ["aac", "opus"], "aac")
        self.resolution = combo("Resolution", [r.value for r in Resolution], "1080p")
        self.orientation = combo(
            "Orientation", ["landscape (16:9)", "vertical (9:16)"], "landscape (16:9)"
        )
        self.optimize = combo("Optimise for", [o.value for o in Optimize], "balanced")
        self.style_box = combo("Style", list(BUILTIN_STYLES), "modern")
        self.style_box.setToolTip("Settings › New style… makes a style of your own")
        self.voice = combo("Voice (rows that name none)", [v.value for v in Voice], "neutral")
        self.footage = QComboBox()
        self.footage.setAccessibleName("Backgrounds")
        for label, value in FOOTAGE_CHOICES:
            self.footage.addItem(label, value)
        self.test_key = QPushButton("Test key")
        self.test_key.setToolTip("Search the provider once with the key kept in Settings")
        self.test_key.clicked.connect(self._test_key)
        row = QHBoxLayout()
        row.addWidget(self.footage, 1)
        row.addWidget(self.test_key)
        form.addRow("Backgrounds", row)
        self.footage_note = Note()
        form.addRow("", self.footage_note)
        self.footage.currentIndexChanged.connect(self._footage_changed)
        self._footage_changed()
        folder = PathField("Output folder", placeholder="Videos/Cadence/job-… (default)")
        self.folder = folder.edit
        form.addRow("Folder", folder)
        self.errors = FieldErrors()
        self.folder_error = self.errors.beside(form, ("folder",), self.folder.textChanged)
        self.storage = QLineEdit()
        self.storage.setAccessibleName("Storage")
        self.storage.setPlaceholderText("as in Settings — or s3://bucket/folder, gs://…, none")
        self.storage.setToolTip(
            "Also deliver this job's videos to object storage (each file checked there)"
        )
        form.addRow("Storage", self.storage)
        self.storage_error = self.errors.beside(form, ("storage",), self.storage.textChanged)
        self.needs = QLineEdit()
        self.needs.setAccessibleName("Cluster workers must offer")
        self.needs.setPlaceholderText("as in Settings — or e.g. GPU=1")
        self.needs.setToolTip(
            "When rendering on your other computers: only workers offering this render the job"
        )
        form.addRow("Workers must offer", self.needs)
        self.needs_error = self.errors.beside(form, ("needs",), self.needs.textChanged)
        self.error = self.errors.general
        form.addRow(self.error)
        self.container.currentTextChanged.connect(self._container_changed)
        self._container_changed(self.container.currentText())

    def add_styles(self, names: list[str]) -> None:
        """Styles made from templates, after the built-in ones."""
        known = {self.style_box.itemText(n) for n in range(self.style_box.count())}
        for name in names:
            if name not in known:
                self.style_box.addItem(name)

    def _footage_changed(self) -> None:
        provider = self.footage.currentData()
        self.test_key.setEnabled(
            provider in ("pexels", "pixabay") and self.test_footage is not None
        )
        self.footage_note.setText(
            "Each sentence gets a matching clip; without a key, a connection or results, the "
            "assets folder and then the style's background stand in (the item says so). "
            "Credits go into the description."
            if provider in ("pexels", "pixabay")
            else ""
        )

    def _test_key(self) -> None:
        provider, test = self.footage.currentData(), self.test_footage
        if test is None or self.background is None:
            return
        self.test_key.setEnabled(False)
        self.footage_note.setText("Asking…")

        def done(text: str) -> None:
            self.footage_note.setText(f"✓ {text}")
            self.test_key.setEnabled(True)

        def failed(error: BaseException) -> None:
            self.footage_note.setText(f"✗ {error}" if isinstance(error, UserError) else "✗ Failed")
            self.test_key.setEnabled(True)

        self.background.run(lambda: test(provider), done, failed)

    def _container_changed(self, container: str) -> None:
        """Offer only the codecs the container can hold (H.264 is no choice for WebM)."""
        video, audio = CODECS.get(container, (["h264", "h265", "vp9"], ["aac", "opus"]))
        for box, choices in ((self.video_codec, video), (self.audio_codec, audio)):
            current = box.currentText()
            box.blockSignals(True)
            box.clear()
            box.addItems(choices)
            box.setCurrentText(current if current in choices else choices[0])
            box.blockSignals(False)

    def config(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "container": self.container.currentText(),
            "video_codec": self.video_codec.currentText(),
            "audio_codec": self.audio_codec.currentText(),
            "resolution": self.resolution.currentText(),
            "vertical": self.orientation.currentIndex() == 1,
            "optimize": self.optimize.currentText(),
        }
        if self.folder.text().strip():
            data["folder"] = self.folder.text().strip()
        if self.footage.currentData():
            data["footage"] = self.footage.currentData()
        if self.storage.text().strip():
            data["storage"] = self.storage.text().strip()
        if self.needs.text().strip():
            data["needs"] = self.needs.text().strip()
        return data

    def validatePage(self) -> bool:
        try:
            OutputConfig.from_dict({k: v for k, v in self.config().items() if k != "folder"})
        except UserError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        folder = self.folder.text().strip()
        if folder:  # only a folder the user typed: a quick check, not a walk of the disk
            why = unwritable(Path(folder).expanduser())
            if why is not None:
                self.folder_error.setText(
                    f"Videos cannot be written to {folder} ({why}) — choose another folder."
                )
                return False
        self.folder_error.setText("")
        storage = self.storage.text().strip()
        if storage and storage.lower() != "none":
            try:
                parse_target(storage)
            except UserError as exc:
                self.storage_error.setText(f"{exc}.")
                return False
        self.storage_error.setText("")
        try:
            parse_resources(self.needs.text(), "Workers must offer")
        except UserError as exc:
            self.needs_error.setText(f"{exc}.")
            return False
        self.needs_error.setText("")
        return True


class DetailsPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Job details")
        self.setSubTitle("Name the job; choose its priority and how strictly rows are checked.")
        form = _top_form(self)
        self.title_edit = QLineEdit()
        self.title_edit.setAccessibleName("Title")
        form.addRow("Title", self.title_edit)
        self.errors = FieldErrors()
        self.title_error = self.errors.beside(form, ("title",), self.title_edit.textChanged)
        self.priority = QComboBox()
        self.priority.addItems([p.value for p in Priority])
        self.priority.setCurrentText("normal")
        self.priority.setAccessibleName("Priority")
        form.addRow("Priority", self.priority)
        self.deadline = QSpinBox()
        self.deadline.setRange(0, DEADLINE_RANGE[1])
        self.deadline.setSpecialValueText("none")
        self.deadline.setSuffix(" min")
        self.deadline.setAccessibleName("Processing deadline in minutes")
        form.addRow("Processing deadline", self.deadline)
        self.errors.beside(form, ("deadline",), self.deadline.valueChanged)
        self.callback = QLineEdit()
        self.callback.setPlaceholderText("https://example.com/hook (optional)")
        self.callback.setAccessibleName("Callback URL")
        form.addRow("Callback URL", self.callback)
        self.callback_error = self.errors.beside(form, ("callback URL",), self.callback.textChanged)
        self.level = QComboBox()
        self.level.addItems([lvl.value for lvl in Level])
        self.level.setCurrentText("moderate")
        self.level.setAccessibleName("Validation level")
        form.addRow("Validation level", self.level)
        self.write_back = QCheckBox("Show each row's status in the Google Sheet")
        form.addRow("", self.write_back)
        self.errors.beside(form, ("write-back",), self.write_back.toggled)
        self.error = self.errors.general
        form.addRow(self.error)

    def initializePage(self) -> None:
        wizard = self.wizard()
        assert isinstance(wizard, JobWizard)
        spec = wizard.source.spec()
        if not self.title_edit.text():
            name = Path(spec.location).stem if spec.kind != "gsheet" else "Google Sheet"
            self.title_edit.setText(f"{name} — {datetime.now():%d %b %Y}")
        self.write_back.setEnabled(spec.kind == "gsheet")
        if spec.kind != "gsheet":
            self.write_back.setChecked(False)

    def validatePage(self) -> bool:
        wizard = self.wizard()
        assert isinstance(wizard, JobWizard)
        self.errors.clear()
        try:
            wizard.draft(scheduling={}).checked()
        except DraftError as exc:
            self.errors.show(exc.field, str(exc))
            return False
        return True


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


class PublishPage(QWizardPage):
    """Where the videos go: render only, or upload to a signed-in YouTube channel."""

    def __init__(self, background: Background, channels: Any) -> None:
        super().__init__()
        self.setTitle("Publishing")
        self.setSubTitle("Upload each video to YouTube when it is rendered — or only render.")
        self.background = background
        self.channels = channels  # () -> (channel records, uploads a day), in the background
        self.daily_uploads = 100
        form = _top_form(self)
        self.enabled = QCheckBox("Upload to YouTube")
        self.enabled.setAccessibleName("Upload to YouTube")
        form.addRow("", self.enabled)
        self.channel = QComboBox()
        self.channel.setAccessibleName("Channel")
        form.addRow("Channel", self.channel)
        self.errors = FieldErrors()
        self.channel_error = self.errors.beside(
            form, ("channel",), self.channel.currentIndexChanged
        )
        self.channel_hint = Note(name="Channels")
        form.addRow(self.channel_hint)
        self.privacy = QComboBox()
        self.privacy.addItems([p.value for p in Privacy])
        self.privacy.setCurrentText("public")
        self.privacy.setAccessibleName("Privacy")
        form.addRow("Privacy", self.privacy)
        self.when_group = QButtonGroup(self)
        self.at_once = QRadioButton("As soon as each video is ready")
        self.at_time = QRadioButton("All at one time")
        self.spaced = QRadioButton("One every")
        self.into_slots = QRadioButton("Each into the channel's next free calendar slot")
        self.into_slots.setToolTip(
            "The Calendar's posting slots and rules for this channel (gaps, daily maximum, "
            "blackout days) decide the times"
        )
        for n, button in enumerate((self.at_once, self.at_time, self.spaced, self.into_slots)):
            self.when_group.addButton(button, n)
        self.at_once.setChecked(True)
        form.addRow("Publish", self.at_once)
        self.publish_at = QDateTimeEdit(QDateTime.currentDateTime().addDays(1))
        self.publish_at.setCalendarPopup(True)
        self.publish_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.publish_at.setAccessibleName("Publish time")
        row = QHBoxLayout()
        row.addWidget(self.at_time)
        row.addWidget(self.publish_at, 1)
        form.addRow("", row)
        self.errors.beside(
            form, ("publish at",), self.publish_at.dateTimeChanged, self.when_group.idToggled
        )
        self.every = QLineEdit("1d")
        self.every.setAccessibleName("Interval between videos")
        self.every.setToolTip("1d, 12h, 90m or 1d12h")
        self.first = QDateTimeEdit(QDateTime.currentDateTime().addDays(1))
        self.first.setCalendarPopup(True)
        self.first.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.first.setAccessibleName("First publish time")
        spaced_row = QHBoxLayout()
        spaced_row.addWidget(self.spaced)
        spaced_row.addWidget(self.every)
        spaced_row.addWidget(QLabel("from"))
        spaced_row.addWidget(self.first, 1)
        form.addRow("", spaced_row)
        form.addRow("", self.into_slots)
        self.every_error = self.errors.beside(
            form,
            ("publish every", "first"),
            self.every.textChanged,
            self.first.dateTimeChanged,
            self.when_group.idToggled,
        )
        self.playlist = QLineEdit()
        self.playlist.setAccessibleName("Playlist ID")
        self.playlist.setPlaceholderText("PL… (optional)")
        form.addRow("Playlist", self.playlist)
        self.errors.beside(form, ("playlist",), self.playlist.textChanged)
        self.category = QComboBox()
        for key, name in sorted(CATEGORIES.items(), key=lambda kv: kv[1]):
            self.category.addItem(name, key)
        self.category.setCurrentText(CATEGORIES["27"])
        self.category.setAccessibleName("Category")
        form.addRow("Category", self.category)
        self.kids_group = QButtonGroup(self)
        self.kids_yes = QRadioButton("Yes, made for kids")
        self.kids_no = QRadioButton("No, not made for kids")
        self.kids_group.addButton(self.kids_yes)
        self.kids_group.addButton(self.kids_no)
        kids_row = QHBoxLayout()
        kids_row.addWidget(self.kids_no)
        kids_row.addWidget(self.kids_yes)
        kids_row.addStretch()
        form.addRow("Audience", kids_row)
        self.kids_error = self.errors.beside(
            form, ("made for kids",), self.kids_group.buttonToggled
        )
        self.synthetic = QCheckBox("Contains altered or synthetic content (YouTube's disclosure)")
        form.addRow("", self.synthetic)
        self.approve = QCheckBox("Let me approve each video before it uploads")
        self.approve.setAccessibleName("Approve before upload")
        form.addRow("", self.approve)
        self.quota = Note("#b45309", "Quota")
        form.addRow(self.quota)
        self.error = self.errors.general
        form.addRow(self.error)
        self.enabled.toggled.connect(self._enable)
        self.when_group.idToggled.connect(lambda *_a: self._enable(self.enabled.isChecked()))
        self.every.textChanged.connect(self._quota_warning)
        self._enable(False)

    def initializePage(self) -> None:
        self.background.run(self.channels, self._show_channels, self._no_channels)
        self._quota_warning()

    def _show_channels(self, found: tuple[list[Any], int]) -> None:
        records, self.daily_uploads = found
        current = self.channel.currentData()
        self.channel.clear()
        for record in records:
            self.channel.addItem(record.label, record.id)
        if current:
            self.channel.setCurrentIndex(max(0, self.channel.findData(current)))
        self.channel_hint.setText(
            ""
            if records
            else "No channel yet: add one in Settings › YouTube channels, then come back."
        )
        self._quota_warning()

    def _no_channels(self, error: BaseException) -> None:
        self.channel_hint.setText(f"Channels could not be read ({error}).")

    def _enable(self, on: bool) -> None:
        for widget in (
            self.channel,
            self.privacy,
            self.at_once,
            self.at_time,
            self.spaced,
            self.into_slots,
            self.playlist,
            self.category,
            self.kids_yes,
            self.kids_no,
            self.synthetic,
            self.approve,
        ):
            widget.setEnabled(on)
        self.publish_at.setEnabled(on and self.at_time.isChecked())
        self.every.setEnabled(on and self.spaced.isChecked())
        self.first.setEnabled(on and self.spaced.isChecked())
        self._quota_warning()

    def videos(self) -> int:
        wizard = self.wizard()
        report = wizard.source.report if isinstance(wizard, JobWizard) else None
        return len(report.valid_rows) if report else 0

    def _quota_warning(self, *_args: Any) -> None:
        """Warn when the plan uploads more a day than YouTube's quota allows."""
        text = ""
        count = self.videos()
        if self.enabled.isChecked() and count:
            per_day = float(count)
            if self.spaced.isChecked():
                try:
                    per_day = min(count, 86400 / parse_interval(self.every.text()).total_seconds())
                except UserError:
                    per_day = count
            if per_day > self.daily_uploads:
                text = (
                    f"⚠ This plans about {per_day:.0f} uploads a day; YouTube allows "
                    f"{self.daily_uploads} a day by default — the rest wait for the next day."
                )
        self.quota.setText(text)

    def publish(self) -> dict[str, Any]:
        if not self.enabled.isChecked():
            return {}
        kids = True if self.kids_yes.isChecked() else False if self.kids_no.isChecked() else None
        data: dict[str, Any] = {
            "target": "youtube",
            "channel": self.channel.currentData() or "",
            "privacy": self.privacy.currentText(),
            "category": self.category.currentData(),
            "made_for_kids": kids,
            "synthetic_media": self.synthetic.isChecked(),
            "approve": self.approve.isChecked(),
            "timezone": local_zone_name(),
        }
        if self.at_time.isChecked():
            data["publish_at"] = _local(self.publish_at).isoformat()
        elif self.spaced.isChecked():
            data["every"] = self.every.text().strip()
            data["first"] = _local(self.first).isoformat()
        elif self.into_slots.isChecked():
            data["slots"] = True
        if self.playlist.text().strip():
            data["playlist"] = self.playlist.text().strip()
        return data

    def validatePage(self) -> bool:
        self.errors.clear()
        data = self.publish()
        if not data:
            return True
        # The window's own words for what the command line asks with flags.
        if not data["channel"]:
            self.channel_error.setText(
                "Choose a channel — add one in Settings › YouTube channels first."
            )
            return False
        if data["made_for_kids"] is None:
            self.kids_error.setText(
                "Answer whether the videos are made for kids — YouTube requires it."
            )
            return False
        try:
            PublishConfig.from_dict(data).checked()
        except DraftError as exc:
            self.errors.show(exc.field, str(exc))
            return False
        now = datetime.now().astimezone()
        for when, edit in ((self.at_time, self.publish_at), (self.spaced, self.first)):
            if when.isChecked() and _local(edit) <= now:
                field_name = "publish at" if edit is self.publish_at else "first"
                self.errors.show(
                    field_name,
                    "The publish time is in the past — pick a later time, "
                    "or choose “As soon as each video is ready”.",
                )
                return False
        return True


class ReviewPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Review")
        self.setSubTitle("Check, then Create.")
        layout = QVBoxLayout(self)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setAccessibleName("Summary")
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #b45309;")
        self.cost = QLabel("")
        self.cost.setWordWrap(True)
        self.cost.setAccessibleName("What the job will cost")
        layout.addWidget(self.summary)
        layout.addWidget(self.cost)
        layout.addWidget(self.warnings)
        layout.addStretch()
        self.estimating = 0

    def initializePage(self) -> None:
        wizard = self.wizard()
        assert isinstance(wizard, JobWizard)
        result = wizard.result()
        report = wizard.source.report
        rows = len(report.valid_rows) if report else 0
        if result.level is not Level.MODERATE and report is not None:
            rows_text = f"… videos (counting at the {result.level.value} level)"
            self.recount(wizard, result.spec, result.level)
        else:
            rows_text = "1 video" if rows == 1 else f"{rows} videos"
        lines = [
            f"<b>{result.title}</b> — {result.priority.value} priority",
            f"Source: {result.spec.location}"
            + (f" › {result.spec.tab}" if result.spec.tab else "")
            + (f" ({result.spec.range})" if result.spec.range else ""),
            f"{rows_text} · {result.output_config['resolution']} "
            f"{'vertical' if result.output_config['vertical'] else 'landscape'} "
            f"{result.output_config['container'].upper()} · style {result.style}"
            + (
                f" · backgrounds: {FOOTAGE_NAMES[result.output_config['footage']]}"
                if result.output_config.get("footage")
                else ""
            ),
            f"Mode: {result.scheduling['mode']}"
            + (
                f", at most {result.scheduling['max_concurrent']} at once"
                if "max_concurrent" in result.scheduling
                else ""
            )
            + (", priority queue" if result.scheduling["priority_queue"] else ""),
        ]
        lines.append(f"Validation: {result.level.value}")
        folder = result.output_config.get("folder")
        lines.append(f"Folder: {folder}" if folder else "Folder: the default, one per job")
        storage = str(result.output_config.get("storage") or "")
        if storage:
            lines.append("Storage: none" if storage.lower() == "none" else f"Also to: {storage}")
        if result.output_config.get("needs"):
            lines.append(f"Cluster workers offering: {result.output_config['needs']}")
        if result.scheduling.get("start_at"):
            lines.append(f"Starts: {result.scheduling['start_at'][:16].replace('T', ' ')}")
        if result.scheduling.get("end_at"):
            lines.append(
                f"Nothing starts after: {result.scheduling['end_at'][:16].replace('T', ' ')}"
            )
        rules = result.scheduling.get("rules") or []
        if rules:
            names = ", ".join(str(r.get("name") or r.get("id") or "rule") for r in rules)
            lines.append(f"Rules: {names}")
        if result.deadline_minutes:
            lines.append(f"Deadline: {result.deadline_minutes} minutes after the job starts")
        if result.recurring:
            lines.append(
                f"Repeats: {result.recurring['expression']} ({result.recurring['timezone']})"
            )
        if result.write_back:
            lines.append("Row statuses are written back to the sheet.")
        publish = result.publish
        if publish:
            when = (
                f"at {publish['publish_at'][:16].replace('T', ' ')}"
                if publish.get("publish_at")
                else f"one every {publish['every']} from {publish['first'][:16].replace('T', ' ')}"
                if publish.get("every")
                else "each in the channel's next free calendar slot"
                if publish.get("slots")
                else "as soon as each is ready"
            )
            lines.append(
                f"Publish to YouTube ({wizard.publishing.channel.currentText()}), "
                f"{publish['privacy']}, {when}"
                + (", after your approval" if publish.get("approve") else "")
            )
            if result.recurring and (publish.get("publish_at") or publish.get("every")):
                lines.append("Repeated runs publish each video as soon as it is ready.")
        else:
            lines.append("Render only (nothing is uploaded).")
        self.summary.setText("<br>".join(lines))
        self.warnings.setText("<br>".join(f"⚠ {w}" for w in result.warnings))
        self.show_cost(wizard, result)

    def show_cost(
        self, wizard: JobWizard, result: WizardResult, report: SheetReport | None = None
    ) -> None:
        """Render time, disk space, quota and when the last video is ready, estimated in the
        background from what will really be rendered (each row's script) and this machine's
        recent renders. ``report``: the rows at the job's level, once counted."""
        self.estimating += 1
        ticket = self.estimating
        if result.level is not Level.MODERATE and report is None:
            self.cost.setText("<i>Estimating what it will take…</i>")
            return  # the rows at the job's level are being counted: shown with them
        report = report or wizard.source.report
        if wizard.estimate is None or report is None:
            self.cost.setText("")
            return
        ideas = [r.idea for r in report.valid_rows if r.idea]
        left_out = len(report.invalid_rows)
        self.cost.setText("<i>Estimating what it will take…</i>")
        estimate = wizard.estimate

        def shown(found: Any) -> None:
            if ticket == self.estimating:
                self.cost.setText("<br>".join(f"<b>{line}</b>" for line in found.lines()))

        def failed(error: BaseException) -> None:
            if ticket == self.estimating:
                self.cost.setText(f"No estimate: {error}")

        wizard.source.background.run(
            lambda: estimate(
                ideas,
                result.output_config,
                result.scheduling,
                bool(result.publish),
                style=result.style,
                left_out=left_out,
            ),
            shown,
            failed,
        )

    def recount(self, wizard: JobWizard, spec: SourceSpec, level: Level) -> None:
        """The videos the job will really have: its rows checked at the level chosen on the
        details page (the preview checked at moderate)."""
        self.counting = getattr(self, "counting", 0) + 1
        ticket = self.counting

        def counted(report: SheetReport) -> None:
            if ticket != self.counting:
                return
            valid = len(report.valid_rows)
            text = self.summary.text().replace(
                f"… videos (counting at the {level.value} level)",
                f"{valid} {'video' if valid == 1 else 'videos'} (at the {level.value} level)",
            )
            self.summary.setText(text)
            self.show_cost(wizard, wizard.result(), report)
            if not valid:
                self.warnings.setText(
                    f"⚠ No row is valid at the {level.value} level — go back and choose another."
                )

        wizard.source.background.run(
            lambda: wizard.source.check(spec, level),
            counted,
            lambda error: self.warnings.setText(f"⚠ {error}"),
        )


class JobWizard(QWizard):
    created = Signal(object)  # WizardResult

    def __init__(
        self,
        background: Background,
        check: Any,
        parent: QWidget | None = None,
        channels: Any = lambda: ([], 100),
        test_footage: Callable[[str], str] | None = None,
        estimate: Callable[..., Any] | None = None,
        styles: Callable[[], list[str]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.estimate = estimate  # (ideas, output config, scheduling, upload, style=, left_out=)
        self.setWindowTitle("New job")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Create")
        self.resize(840, 660)
        self.source = SourcePage(background, check)
        self.output = OutputPage(background, test_footage)
        self.details = DetailsPage()
        self.scheduling_page = SchedulingPage()
        self.publishing = PublishPage(background, channels)
        self.review = ReviewPage()
        for page in (
            self.source,
            self.output,
            self.details,
            self.scheduling_page,
            self.publishing,
            self.review,
        ):
            self.addPage(page)
        if styles is not None:  # the user's own styles (templates) beside the built-in ones
            background.run(styles, self.output.add_styles, lambda _error: None)
        pages = self.pageIds()
        for n, page_id in enumerate(pages, start=1):  # where the user is, on every page
            step = self.page(page_id)
            step.setTitle(f"Step {n} of {len(pages)}: {step.title()}")
        self.untouched = self.typed()
        self.asking: QMessageBox | None = None

    def typed(self) -> list[str]:
        """What the user has put in: every text field's text."""
        texts = [edit.text() for edit in self.findChildren(QLineEdit)]
        return texts + [edit.toPlainText() for edit in self.findChildren(QPlainTextEdit)]

    def reject(self) -> None:
        """Esc or the close button: with nothing entered (still on the first page, no field
        changed) it closes; else it asks first."""
        if self.currentId() in (-1, self.startId()) and self.typed() == self.untouched:
            super().reject()
            return
        if self.asking is not None:
            self.asking.raise_()
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Discard this job?",
            "Close the wizard and discard what you entered? Nothing was created yet.",
            parent=self,
        )
        box.setObjectName("discard-job")
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep editing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)

        def answered(_code: int) -> None:
            self.asking = None
            if box.clickedButton() is discard:
                QWizard.reject(self)

        box.finished.connect(answered)
        self.asking = box
        box.open()

    def draft(self, scheduling: dict[str, Any]) -> JobDraft:
        spec = self.source.spec()
        return JobDraft(
            title=self.details.title_edit.text(),
            source_kind=spec.kind,
            source_location=spec.location,
            priority=Priority(self.details.priority.currentText()),
            validation_level=Level(self.details.level.currentText()),
            deadline_minutes=self.details.deadline.value() or None,
            callback_url=self.details.callback.text().strip() or None,
            output_config=self.output.config(),
            scheduling=scheduling,
            write_back=self.details.write_back.isChecked(),
        )

    def result(self) -> WizardResult:  # type: ignore[override]
        spec = self.source.spec()
        scheduling = self.scheduling_page.scheduling()
        warnings = []
        report = self.source.report
        if report and report.invalid_rows:
            bad = [r.row for r in report.invalid_rows]
            warnings.append(
                f"{'Row' if len(bad) == 1 else 'Rows'} {_numbers(bad)} "
                f"{'has problems and is' if len(bad) == 1 else 'have problems and are'} left "
                "out; the job keeps the reasons (Details)."
            )
        if report and report.empty_rows:
            empty = report.empty_rows
            warnings.append(
                f"Empty {'row' if len(empty) == 1 else 'rows'} {_numbers(empty)} skipped."
            )
        if spec.kind == "gsheet" and report and len(report.valid_rows) > 50:
            warnings.append("Large sheet: status write-back uses Google quota as rows finish.")
        if scheduling.get("start_at"):
            warnings.append(
                f"Nothing starts before {scheduling['start_at'][:16].replace('T', ' ')}."
            )
        recurring = None
        if self.scheduling_page.recurring.isChecked():
            recurring = {
                "expression": self.scheduling_page.expression.text().strip(),
                "timezone": self.scheduling_page.zone.currentText(),
            }
        return WizardResult(
            spec=spec,
            title=self.details.title_edit.text().strip(),
            priority=Priority(self.details.priority.currentText()),
            level=Level(self.details.level.currentText()),
            output_config=self.output.config(),
            style=self.output.style_box.currentText(),
            deadline_minutes=self.details.deadline.value() or None,
            callback_url=self.details.callback.text().strip() or None,
            scheduling=scheduling,
            write_back=self.details.write_back.isChecked(),
            recurring=recurring,
            warnings=warnings,
            publish=self.publishing.publish(),
        )

    def accept(self) -> None:
        self.created.emit(self.result())
        super().accept()
