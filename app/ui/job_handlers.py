"""What the window does when the user acts on jobs, schedules, approvals and analytics.

Every change goes through the window's `OperationRunner`: the handler asks (a question first
for what cannot be undone), names the operation, and leaves telling the user, waking the
engine and refreshing what changed to the runner's one `did_execute` path.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.changes import Done
from app.domain.errors import UserError
from app.ui.operations import ASKS_FIRST, WindowAction
from app.ui.wording import confirm_text, export_format

if TYPE_CHECKING:
    from app.services import Services
    from app.ui.main_window import MainWindow
    from app.ui.wizard import WizardResult


class JobHandlers:
    def __init__(self, window: MainWindow) -> None:
        self.window = window

    # Jobs

    def act_on_selected(self, action: str) -> None:
        window = self.window
        jobs = window.jobs.selected()
        if not jobs or window.workspace is None:
            return
        if action in ASKS_FIRST:
            answer = QMessageBox.question(
                window,
                action.capitalize(),
                confirm_text(action, [j.title for j in jobs]),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,  # a slip of Enter must not delete or cancel
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.act([j.id for j in jobs], action)

    def act_on_all(self, action: str) -> None:
        from app.ui.pages.jobs import allowed

        rows = [r for r in self.window.jobs.model.all_rows() if allowed(action, r)]
        self.act([r.id for r in rows], action)

    def act(self, job_ids: list[int], action: str) -> None:
        """One action on the jobs (each its own transaction); one job's refusal is said as
        the error it is, several jobs' outcomes in one sentence."""
        from app import ops

        if not job_ids:
            return

        def work(services: Services) -> Done:
            done = ops.jobs.jobs_action(services, job_ids, action)
            refused = done.single_refusal()
            if refused is not None:
                raise refused
            return done

        self.window.runner.run(work)

    def edit_job(self, job_id: int, what: str, value: object) -> None:
        """An inline edit in the table: stored (and checked) in the background; a refusal
        is said in the status bar, and the table keeps the stored value."""
        from app import ops

        window = self.window

        def failed(error: BaseException) -> None:
            text = str(error) if isinstance(error, UserError) else type(error).__name__
            window.statusBar().showMessage(f"Job {job_id}: {text}", 8000)

        window.runner.run(
            lambda services: ops.jobs.edit_job(services, job_id, **{what: value}), failed=failed
        )

    def on_detail_action(self, action: str) -> None:
        """A problem's button in the selected job's Details: retry, approve or sign in."""
        if action == WindowAction.RETRY:
            self.act_on_selected(WindowAction.RETRY)
        else:
            self.window.events.on_alert(action)

    def export_jobs(self) -> None:
        if self.window.workspace is None:
            return
        path, chosen = QFileDialog.getSaveFileName(
            self.window,
            "Export jobs",
            "cadence-jobs.json",
            "JSON (*.json);;CSV (*.csv);;YAML (*.yaml)",
        )
        if path:
            self.export_to(Path(path), export_format(path, chosen))

    def export_to(self, path: Path, fmt: str) -> None:
        """The selected jobs, or those the search and tab show when none is selected."""
        from app import ops

        jobs = self.window.jobs
        ids = [j.id for j in jobs.selected()] or [r.id for r in jobs.model.visible_rows()]
        self.window.runner.run(lambda services: ops.jobs.export(services, fmt, path, ids=ids))

    # New jobs and styles

    def new_job(self) -> None:
        from app import queries

        window = self.window
        workspace = window.workspace
        if workspace is None:
            return
        from app.ui.wizard import JobWizard

        wizard = JobWizard(
            window.background,
            partial(queries.sources.check_source, workspace),
            parent=window,
            channels=lambda: (workspace.channels.records(), workspace.quota_limits().uploads),
            test_footage=partial(queries.settings.test_footage, workspace),
            footage_keys=partial(queries.settings.footage_keys, workspace),
            estimate=partial(queries.estimates.estimate, workspace),
            styles=partial(queries.settings.style_names, workspace),
            tiktok=(
                partial(queries.accounts.accounts, workspace, "tiktok"),
                partial(queries.accounts.tiktok_creator, workspace),
            ),
            accounts=partial(queries.accounts.accounts, workspace),
        )
        wizard.created.connect(self.create_from_wizard)
        window.wizard = wizard
        wizard.open()

    def create_from_wizard(self, result: WizardResult) -> None:
        """The wizard's job — and the schedule that repeats it, in the same transaction."""
        from app import ops
        from app.ops.jobs import CreatedJob, JobRequest

        window = self.window
        request = JobRequest.of(
            result.spec,
            title=result.title,
            priority=result.priority,
            level=result.level,
            output_config=result.output_config,
            style=result.style,
            deadline_minutes=result.deadline_minutes,
            callback_url=result.callback_url,
            scheduling=result.scheduling,
            write_back=result.write_back,
            publish=result.publish,
            repeat=result.recurring,
        )

        def shown(done: Done) -> None:
            assert isinstance(done, CreatedJob)
            window.nav.setCurrentRow(window.page_index("Jobs"))
            window.select_when_shown = done.job_id  # selected once the table has it

        window.runner.run(lambda services: ops.jobs.create_job(services, request), then=shown)

    def new_style(self) -> None:
        """The style editor; a saved style is offered by the wizard from then on."""
        from app import ops

        window = self.window
        if window.workspace is None:
            return
        from app.ui.style_editor import StyleEditor

        editor = StyleEditor(
            window.background, partial(ops.jobs.save_style, window.workspace), window
        )
        window.style_editor = editor

        def done(result: int) -> None:
            if result and editor.saved is not None:
                window.statusBar().showMessage(
                    f"Saved the style {editor.saved.stem} ({editor.saved}) — choose it on a "
                    "new job's Output step",
                    15_000,
                )

        editor.finished.connect(done)
        editor.open()

    # Schedules

    def act_on_schedule(self, schedule_id: int, action: str) -> None:
        from app import ops

        if action == "remove":
            answer = QMessageBox.question(
                self.window,
                "Remove schedule",
                "Remove this schedule? It makes no more jobs; the jobs it made stay.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.window.runner.run(
            lambda services: ops.schedules.schedule_action(services, schedule_id, action)
        )

    def preview_schedule(self, schedule_id: int) -> None:
        from app import queries

        window = self.window
        workspace = window.workspace
        if workspace is None:
            return
        window.background.run(
            lambda: queries.schedules.schedule_preview(workspace, schedule_id),
            lambda runs: window.schedules.show_preview(schedule_id, runs),
            lambda _error: None,  # removed meanwhile: nothing to preview
        )

    # Publishing

    def review_approvals(self) -> None:
        from app import ops, queries

        window = self.window
        workspace = window.workspace
        if workspace is None:
            return
        if window.approvals is None:
            from app.ui.approval import ApprovalDialog

            frames_dir = workspace.paths.cache_dir / "previews"

            def frames(item_id: int, video: str) -> list[Path]:
                from app.pipeline.preview import preview_frames

                return preview_frames(Path(video), frames_dir / f"item-{item_id}")

            window.approvals = ApprovalDialog(
                window.background,
                partial(queries.jobs.approval_items, workspace),
                partial(ops.publishing.approve, workspace),
                partial(ops.publishing.reject, workspace),
                frames,
                parent=window,
                creator=partial(queries.accounts.tiktok_creator, workspace),
            )
            # The dialog runs its own decisions (it shows each one); what they changed
            # reaches the window the way every operation's does.
            window.approvals.decided.connect(window.runner.did_execute.emit)
        window.approvals.show()
        window.approvals.raise_()
        window.approvals.reload()

    def reschedule_item(self, item_id: int, current: str) -> None:
        from app import ops
        from app.ui.reschedule import RescheduleDialog

        window = self.window
        if window.workspace is None:
            return
        dialog = RescheduleDialog(item_id, current, window)
        window.reschedule_dialog = dialog

        def chosen() -> None:
            when = dialog.chosen()
            window.runner.run(lambda services: ops.publishing.reschedule(services, item_id, when))

        dialog.accepted.connect(chosen)
        dialog.open()

    # Analytics

    def load_analytics(self) -> None:
        from app import queries

        window = self.window
        workspace = window.workspace
        if workspace is None:
            return
        channel, job = window.analytics.filters()

        def shown(report: dict[str, Any]) -> None:
            window.analytics.set_choices(report["channels"], report["jobs"])
            window.analytics.show_report(report)

        window.background.run(
            lambda: queries.analytics.analytics_report(workspace, channel, job),
            shown,
            window.on_failed,
        )

    def fetch_analytics(self) -> None:
        """Read the published videos' figures now (the button); the page shows them after."""
        from app import ops

        window = self.window
        button = window.analytics.fetch_button

        def failed(error: BaseException) -> None:
            button.setEnabled(True)
            window.on_failed(error)

        if window.runner.run(
            ops.publishing.fetch_analytics,
            then=lambda _done: button.setEnabled(True),
            failed=failed,
        ):
            button.setEnabled(False)
            window.statusBar().showMessage("Reading the videos' figures from YouTube…")
