"""The wizard's first page: the source (a Google Sheet or a CSV/XLSX file), checked, previewed."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWizardPage,
)

from app.domain.errors import UserError
from app.domain.validation import SheetReport
from app.sources.intake import SourceSpec
from app.ui.background import Background
from app.ui.widgets import PathField
from app.ui.wizard.parts import (
    PREVIEW_ROWS,
    _error_label,
    _numbers,
)


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
