"""The job creation wizard itself: its pages in order, and Create."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QWidget,
    QWizard,
)

from app.domain.idea import Priority
from app.domain.job import JobDraft
from app.domain.validation import Level
from app.ui.background import Background
from app.ui.wizard.output import DetailsPage, OutputPage
from app.ui.wizard.parts import (
    WizardResult,
    _numbers,
)
from app.ui.wizard.publish import PublishPage
from app.ui.wizard.review import ReviewPage
from app.ui.wizard.source import SourcePage
from app.ui.wizard.timing import SchedulingPage


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
        footage_keys: Callable[[], tuple[set[str], bool]] | None = None,
        tiktok: Any = None,
        accounts: Any = None,
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
        self.publishing = PublishPage(background, channels, tiktok, accounts)
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
        if footage_keys is not None:  # which keys are set (read off the window's thread)
            background.run(footage_keys, self.output.know_keys, lambda _error: None)
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
