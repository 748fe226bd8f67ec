"""What the window hears and where it leads: engine events (the monitor, the status bar,
notifications once per burst), and the buttons of alerts, notifications and the welcome."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from app.engine.events import EngineEvent, EventKind
from app.store.job_row import JobRow

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


class WindowNews:
    def __init__(self, window: MainWindow) -> None:
        self.window = window

    def on_engine_event(self, event: EngineEvent) -> None:
        window = self.window
        if window.local_api is not None:
            window.local_api.engine_event(event)  # to the API's live event stream
        window.monitor.engine_event(event.kind, event.item_id, event.job_id, event.row, event.data)
        if event.kind == EventKind.ITEM_PROGRESSED:
            verb = "Uploading" if event.data["stage"] == "upload" else "Rendering"
            window.statusBar().showMessage(
                f"{verb} row {event.row} of “{window.job_title(event.job_id)}”: "
                f"{event.data['stage']} {event.data['progress']:.0%}",
                5000,
            )
        elif event.kind == EventKind.ITEM_AWAITING_APPROVAL:
            window.approval_news += 1
        elif event.kind == EventKind.CHANNEL_ON_HOLD and window.tray is not None:
            window.tray.notify(
                "Uploads on hold — sign in again",
                f"{event.data['message']} — click to open Settings",
                failed=True,
                action="settings",
            )
        elif event.kind == EventKind.UPLOADS_WAITING and window.tray is not None:
            until = event.data.get("until")
            if until != window.quota_told:  # once per wait, not once per video
                window.quota_told = until
                when = datetime.fromisoformat(until).astimezone() if until else None
                window.tray.notify(
                    "Uploads wait for YouTube's quota",
                    f"{event.data.get('message') or 'The daily quota is used up'}"
                    + (f"; they go on at {when:%a %H:%M}" if when else "")
                    + " — click to see the Monitor",
                    action="monitor",
                )
        if event.job_id:
            window.news.add(event.job_id)
        window.refresh_timer.start()

    def on_engine_failed(self, text: str) -> None:
        """The engine stopped for a reason the user must fix: said where it stays in sight
        (the status bar until something else is said, the tray)."""
        window = self.window
        window.statusBar().showMessage(text)
        if window.tray is not None:
            window.tray.notify("Cadence stopped working", text, failed=True)

    def tell_approvals(self) -> None:
        """One notification for the videos that newly await approval (engine news comes in
        bursts), and the approval window refreshed if it is open."""
        window = self.window
        count, window.approval_news = window.approval_news, 0
        if not count:
            return
        if window.approvals is not None and window.approvals.isVisible():
            window.approvals.reload()
        if window.tray is not None:
            window.tray.notify(
                "Videos await your approval",
                f"{count} video{'s are' if count != 1 else ' is'} ready — click to review",
                action="approve",
            )

    def notify_finished(self, row: JobRow) -> None:
        window = self.window
        if window.tray is None:
            return
        if row.state == "completed":
            window.tray.notify(
                "Job completed",
                f"“{row.title}”: {row.items_completed} videos made — click to open it",
                action=f"job:{row.id}",
            )
        else:
            window.tray.notify(
                "Job failed",
                f"“{row.title}”: {row.items_failed} items failed — click to see why",
                failed=True,
                action=f"job:{row.id}",
            )

    def on_alert(self, action: str) -> None:
        window = self.window
        if action.startswith("job:"):  # a failure: straight to its job
            window.show_job(int(action.removeprefix("job:")))
            return
        if action == "approve":
            window.job_handlers.review_approvals()
            return
        if action == "settings":
            window.nav.setCurrentRow(window.page_index("Settings"))
        elif action == "failed":
            window.nav.setCurrentRow(window.page_index("Jobs"))
            window.jobs.tabs.setCurrentIndex(2)  # Failed
        elif action == "dashboard":
            window.nav.setCurrentRow(window.page_index("Dashboard"))
        elif action == "monitor":
            window.nav.setCurrentRow(window.page_index("Monitor"))

    def on_welcome(self, step: str) -> None:
        """A first-run step's button: make a job, sign a channel in, or open the demo job."""
        window = self.window
        if step == "new":
            window.job_handlers.new_job()
        elif step == "channel":
            window.settings_handlers.add_channel()
        else:
            demo = next((r for r in window.snapshot.values() if r.title.startswith("Demo:")), None)
            if demo is None:
                window.job_handlers.new_job()
            else:
                window.show_job(demo.id)
                window.statusBar().showMessage(
                    "The demo job waits, paused — press Resume (Ctrl+R) to make its videos", 15_000
                )

    def welcome_done(self) -> None:
        window = self.window
        window.dashboard.welcome_wanted = False
        if window.ui_settings is not None:
            window.ui_settings.setValue("welcome/done", True)
