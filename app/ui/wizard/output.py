"""The wizard's Output and Job details pages: how the videos are made; the job's own settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWizardPage,
)

from app.domain.errors import UserError
from app.domain.idea import BUILTIN_STYLES, Priority, Voice
from app.domain.job import DEADLINE_RANGE, DraftError
from app.domain.output import Container, Optimize, Resolution, codec_config
from app.domain.resources import parse_resources
from app.domain.storage import parse_target
from app.domain.validation import Level
from app.paths import unwritable
from app.ui.background import Background
from app.ui.widgets import PathField
from app.ui.wizard.parts import (
    CODECS,
    FieldErrors,
    Note,
    _top_form,
)

FOOTAGE_CHOICES = (
    ("As in Settings", ""),
    ("Stock footage if a key is set, else pictures that need no key", "auto"),
    ("Pictures that need no key (Openverse, Wikimedia Commons, NASA)", "free"),
    ("Stock footage from Pexels (your API key)", "pexels"),
    ("Stock footage from Pixabay (your API key)", "pixabay"),
    ("Pictures and clips from the assets folder", "local"),
    ("The style's background only", "none"),
)


FOOTAGE_NAMES = {
    "auto": "stock footage or free pictures",
    "free": "free pictures",
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
        # Stock providers whose key is set and whether key-free pictures may stand in, once
        # known; and the choice already warned about (a second Next goes on).
        self.keys: tuple[set[str], bool] | None = None
        self.warned: str | None = None
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
            provider in ("pexels", "pixabay", "free") and self.test_footage is not None
        )
        notes = {
            "pexels": "Each sentence gets a matching clip; without a key, a connection or "
            "results, pictures that need no key, the assets folder and then the style's "
            "background stand in (the item says so). Credits go into the description.",
            "auto": "Stock footage when a Pexels or Pixabay key is set in Settings; otherwise "
            "pictures that need no key — Openverse, Wikimedia Commons, NASA — matched to each "
            "sentence, panned and zoomed. Credits go into the description.",
            "free": "Pictures matched to each sentence from Openverse, Wikimedia Commons and "
            "NASA — only those that may be used commercially — credited in the description.",
        }
        notes["pixabay"] = notes["pexels"]
        self.footage_note.setText(notes.get(provider, ""))

    def know_keys(self, keys: tuple[set[str], bool]) -> None:
        self.keys = keys

    def missing_key(self) -> str | None:
        """What the videos will show instead, when the chosen stock provider has no key."""
        provider = self.footage.currentData()
        if self.keys is None or provider not in ("pexels", "pixabay"):
            return None
        keyed, free = self.keys
        if provider in keyed:
            return None
        name = FOOTAGE_NAMES[provider].split()[0]
        instead = (
            "pictures that need no key (Openverse, Wikimedia Commons, NASA)"
            if free
            else "the assets folder or the style's colours in motion"
        )
        return (
            f"No {name} API key is set, so these videos will show {instead} instead. Add the "
            "key in Settings › Footage and voices, choose another source, or press Next again "
            "to go on."
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
            codec_config(self.config())
        except UserError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        missing = self.missing_key()
        if missing is not None and self.warned != self.footage.currentData():
            self.warned = self.footage.currentData()
            self.footage_note.setText(f"⚠ {missing}")
            return False
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
        from app.ui.wizard.dialog import JobWizard  # it holds this page

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
        from app.ui.wizard.dialog import JobWizard  # it holds this page

        assert isinstance(wizard, JobWizard)
        self.errors.clear()
        try:
            wizard.draft(scheduling={}).checked()
        except DraftError as exc:
            self.errors.show(exc.field, str(exc))
            return False
        return True
