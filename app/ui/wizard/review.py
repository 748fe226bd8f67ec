"""The wizard's Review page: everything chosen, and what the job will take."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLabel,
    QVBoxLayout,
    QWizardPage,
)

from app.domain.validation import Level, SheetReport
from app.sources.intake import SourceSpec
from app.ui.wizard.output import FOOTAGE_NAMES
from app.ui.wizard.parts import (
    WizardResult,
)

if TYPE_CHECKING:
    from app.ui.wizard.dialog import JobWizard


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
        from app.ui.wizard.dialog import JobWizard  # it holds this page

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
            page = wizard.publishing
            places = []
            if page.enabled.isChecked():
                places.append(f"YouTube ({page.channel.currentText()}), {publish['privacy']}")
            if page.tiktok_on.isChecked():
                post = page.tiktok.post()
                label = page.tiktok.privacy.currentText()
                places.append(
                    f"TikTok ({page.tiktok.account.currentText()}), {label}"
                    + (f", labelled “{post.label()}”" if post.label() else "")
                )
            for platform, (box, combo) in page.reels.items():
                if box.isChecked():
                    name = "Instagram Reels" if platform == "instagram_reels" else "Facebook Reels"
                    places.append(f"{name} ({combo.currentText()})")
            where = ", ".join(places[:-1]) + (" and " if len(places) > 1 else "") + places[-1]
            if page.from_sheet.isChecked():
                where = f"where each row says — {where} where its Platforms cell is empty"
            lines.append(
                f"Publish to {where}, {when}"
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
                "youtube" in str((result.publish or {}).get("target", "")),  # its quota
                style=result.style,
                left_out=left_out,
                publish=result.publish,
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
