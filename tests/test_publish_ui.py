"""Publishing in the window: the wizard's Publish step, the approval preview, channels in
Settings, items' YouTube links and rescheduling — and the whole way from the wizard to links
in the job table, with the engine on the window's qasync loop and the loopback YouTube."""

from __future__ import annotations

import asyncio
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox, QWizard
from pytestqt.qtbot import QtBot

from app import queries
from app.changes import Changes, Done
from app.engine import rendering
from app.google.channels import ChannelRecord
from app.paths import DEMO_SHEET, AppPaths
from app.services import Services
from app.ui.approval import ApprovalDialog
from app.ui.background import Background
from app.ui.main_window import PAGES, MainWindow
from app.ui.wizard import JobWizard
from tests.conftest import DesktopOpener, desktop_client
from tests.fake_google import Google
from tests.youtube_helpers import sign_in_channel, stand_in_render

CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"


def open_window(qtbot: QtBot, workspace: Services, **kwargs: Any) -> MainWindow:
    window = MainWindow(lambda: workspace, **kwargs)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.workspace is not None, timeout=15_000)
    return window


def through_to_publishing(qtbot: QtBot, window: MainWindow) -> Any:
    window.job_handlers.new_job()
    wizard = window.wizard
    wizard.source.location.setText(str(DEMO_SHEET))
    wizard.source.test()
    qtbot.waitUntil(lambda: wizard.source.isComplete(), timeout=30_000)
    for _ in range(4):
        wizard.next()
    assert wizard.currentPage() is wizard.publishing
    return wizard


def test_the_publish_step_asks_what_youtube_needs(
    qtbot: QtBot, google: Google, data_dir: Path
) -> None:
    workspace = Services(AppPaths.resolve(data_dir))
    sign_in_channel(workspace, google)
    window = open_window(qtbot, workspace)
    wizard = through_to_publishing(qtbot, window)
    page = wizard.publishing
    qtbot.waitUntil(lambda: page.channel.count() == 1, timeout=30_000)
    assert page.channel.currentText() == "Cadence Test Channel (@cadencetest)"
    page.enabled.setChecked(True)
    assert page.channel.isEnabled() and not page.publish_at.isEnabled()
    wizard.next()  # made-for-kids not answered: refused beside the question
    assert wizard.currentPage() is page
    assert "made for kids" in page.kids_error.text()
    page.kids_no.setChecked(True)
    page.spaced.setChecked(True)
    assert page.every.isEnabled() and page.first.isEnabled()
    page.every.setText("5 minutes")
    wizard.next()
    assert wizard.currentPage() is page and "not an interval" in page.every_error.text()
    assert page.error.text() == ""  # beside the interval, not at the page's foot
    page.every.setText("10m")  # 144 a day for 8 videos: more than the daily quota allows?
    assert page.quota.text() == ""  # 8 videos never exceed 100 a day
    page.daily_uploads = 5
    page._quota_warning()
    assert "uploads a day" in page.quota.text()
    page.approve.setChecked(True)
    wizard.next()
    assert wizard.currentPage() is wizard.review
    summary = wizard.review.summary.text()
    assert (
        "Publish to YouTube (Cadence Test Channel (@cadencetest)), public, one every 10m" in summary
    )
    assert "after your approval" in summary
    # What it will cost, estimated in the background: 8 videos, nothing rendered here yet.
    qtbot.waitUntil(lambda: "Disk space" in wizard.review.cost.text(), timeout=15_000)
    cost = wizard.review.cost.text()
    assert "a guess — nothing was rendered here yet" in cost
    assert "YouTube quota: 13,632 units — 2 days of quota" in cost  # 8 × (1,600 + 104)
    result = wizard.result()
    assert result.publish["channel"] == CHANNEL and result.publish["approve"] is True
    assert result.publish["made_for_kids"] is False
    wizard.accept()
    qtbot.waitUntil(
        lambda: any(r.title.startswith("ideas") for r in window.jobs.model.all_rows()),
        timeout=15_000,
    )
    window.close()
    window.shutdown()


def consenting_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    """A browser that gives consent at once: Google's redirect goes straight back to the
    sign-in's one-off server on 127.0.0.1."""
    import threading
    import urllib.parse
    import urllib.request

    class Browser:
        def open(self, url: str, *args: Any, **kwargs: Any) -> bool:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
            back = f"{query['redirect_uri'][0]}?code=yes&state={query['state'][0]}"
            threading.Thread(target=lambda: urllib.request.urlopen(back, timeout=10).read()).start()
            return True

    monkeypatch.setattr("webbrowser.get", lambda *_a, **_k: Browser())


def fake_records(tmp_path: Path) -> list[dict[str, Any]]:
    video = tmp_path / "002.mp4"
    video.write_bytes(b"video")
    return [
        {
            "id": n,
            "row": n + 1,
            "title": f"Idea {n}",
            "job": "A job",
            "job_id": 1,
            "outputs": {"video": str(video), "thumbnail": ""},
            "metadata": {"title": f"Idea {n}", "description": "About it.", "tags": ["a", "b"]},
            "upload": {"privacy": "public", "publish_at": "2027-01-05T14:30:00+00:00"},
        }
        for n in (1, 2)
    ]


def test_the_approval_preview_approves_and_rejects(
    qtbot: QtBot, tmp_path: Path, desktop_opener: DesktopOpener
) -> None:
    records = fake_records(tmp_path)
    calls: list[tuple[str, Any]] = []

    def approve(ids: list[int]) -> Done:
        calls.append(("approve", ids))
        return Done("Approved", Changes.of(items=ids))

    def reject(ids: list[int], reason: str, again: bool) -> Done:
        calls.append(("reject", (ids, reason, again)))
        return Done("Rejected", Changes.of(items=ids))

    def frames(item_id: int, video: str) -> list[Path]:
        from PySide6.QtGui import QImage

        path = tmp_path / f"frame-{item_id}.png"
        QImage(32, 18, QImage.Format.Format_RGB32).save(str(path))
        return [path] * 4

    background = Background()
    dialog = ApprovalDialog(background, lambda: records, approve, reject, frames)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.list.count() == 2, timeout=5000)
    assert dialog.title_label.text() == "Idea 1"
    assert dialog.tags.text() == "a, b" and "private until then, then public" in dialog.when.text()
    qtbot.waitUntil(lambda: not dialog.frame_labels[0].pixmap().isNull(), timeout=5000)
    dialog.approve_selected()
    qtbot.waitUntil(lambda: calls == [("approve", [1])], timeout=5000)
    desktop_opener.fails()  # no video player installed on this desktop: xdg-open exits 3
    dialog.play_video()
    qtbot.waitUntil(lambda: "No application plays videos here" in dialog.message.text())
    box = dialog.findChild(QMessageBox, "nothing-opens")
    assert box is not None and records[0]["outputs"]["video"] in box.informativeText()
    box.close()
    dialog.list.setCurrentRow(1)
    dialog.reject_selected()
    dialog.reject_dialog.reason.setText("too loud")
    dialog.reject_dialog.again.setChecked(True)
    dialog.reject_dialog.accept()
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=5000)
    assert calls[1] == ("reject", ([2], "too loud", True))
    dialog.close()
    background.shutdown()


def test_approvals_with_nothing_to_approve_say_so(qtbot: QtBot, tmp_path: Path) -> None:
    """Not four grey tiles and blank fields: one sentence, until a video waits — and again
    once the last one is approved."""
    records = fake_records(tmp_path)[:1]
    waiting: list[list[dict[str, Any]]] = [[]]

    def approve(ids: list[int]) -> Done:
        waiting[0] = []
        return Done("Approved", Changes.of(items=ids))

    background = Background()
    dialog = ApprovalDialog(
        background, lambda: waiting[0], approve, lambda *_a: Done("x"), lambda *_a: []
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.empty.text().startswith("Nothing to approve."), timeout=5000)
    assert dialog.pages.currentWidget() is dialog.empty
    assert not dialog.approve_button.isEnabled()
    waiting[0] = records
    dialog.reload()
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 1, timeout=5000)
    assert dialog.title_label.text() == "Idea 1"
    dialog.approve_selected()
    qtbot.waitUntil(lambda: dialog.pages.currentWidget() is dialog.empty, timeout=5000)
    dialog.close()
    background.shutdown()


def test_settings_lists_channels_and_removes_one_after_asking(
    qtbot: QtBot, google: Google, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = Services(AppPaths.resolve(data_dir))
    sign_in_channel(workspace, google)
    window = open_window(qtbot, workspace)
    window.nav.setCurrentRow(PAGES.index("Settings"))
    page = window.settings_page
    qtbot.waitUntil(lambda: page.channels.count() == 1, timeout=30_000)
    assert page.channels.item(0).text() == "YouTube · Cadence Test Channel (@cadencetest)"
    assert not page.remove_channel_button.isEnabled()
    page.channels.setCurrentRow(0)
    assert page.remove_channel_button.isEnabled()
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.Yes)
    page.remove_channel_button.click()
    qtbot.waitUntil(lambda: "Removed the channel" in page.message.text(), timeout=30_000)
    qtbot.waitUntil(lambda: "No account yet" in page.channels.item(0).text(), timeout=30_000)
    assert workspace.channels.records() == []
    window.close()
    window.shutdown()


def test_channel_records_show_why_they_wait() -> None:
    from app.ui.pages.settings_page import SettingsPage

    page = SettingsPage()
    page.show_channels([ChannelRecord("UC1", "Mine", "@mine", "sign in to Mine again", 3)])
    assert page.channels.item(0).text() == "YouTube · Mine (@mine) — on hold: sign in to Mine again"


@pytest.mark.qasync
@pytest.mark.qt_log_ignore("does not support raise")  # offscreen: no window manager
def test_from_the_wizard_through_approval_to_links_in_the_job_table(
    qtbot: QtBot, google: Google, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A channel signed in, a "render, approve, upload" job made in the wizard from the demo
    sheet, every video approved in the preview: the items show their YouTube links."""
    import qasync

    monkeypatch.setattr(rendering, "run_render", stand_in_render)
    paths = AppPaths.resolve(data_dir)
    with closing(Services(paths)) as ws:
        sign_in_channel(ws, google)
        (data_dir / "videos").mkdir()
        ws.settings.set("output.folder", str(data_dir / "videos"))
    loop = qasync.QEventLoop(QApplication.instance())
    asyncio.set_event_loop(loop)
    window = MainWindow(lambda: Services(paths, front_end="gui"), run_engine=True)
    qtbot.addWidget(window)
    window.tray = None

    async def scenario() -> None:
        while window.workspace is None or not window.engine.running:
            await asyncio.sleep(0.05)
        window.job_handlers.new_job()
        wizard = window.wizard
        wizard.source.location.setText(str(DEMO_SHEET))
        wizard.source.test()
        while not wizard.source.isComplete():
            await asyncio.sleep(0.05)
        for _ in range(4):
            wizard.next()
        page = wizard.publishing
        while page.channel.count() == 0:
            await asyncio.sleep(0.05)
        page.enabled.setChecked(True)
        page.kids_no.setChecked(True)
        page.approve.setChecked(True)
        wizard.next()
        assert wizard.currentPage() is wizard.review
        wizard.details.title_edit.setText("Publish from the wizard")
        wizard.button(QWizard.WizardButton.FinishButton).click()
        workspace = window.workspace
        assert workspace is not None
        for _ in range(600):
            if queries.dashboard.publishing_state(workspace)["awaiting_approval"] == 8:
                break
            await asyncio.sleep(0.05)
        assert queries.dashboard.publishing_state(workspace)["awaiting_approval"] == 8
        assert not google.youtube.videos  # nothing goes up before approval
        window.job_actions["approve"].trigger()
        dialog = window.approvals
        assert dialog is not None
        while dialog.list.count() < 8:
            await asyncio.sleep(0.05)
        dialog.list.selectAll()
        dialog.approve_button.click()
        for _ in range(600):
            rows = {r.title: r for r in window.jobs.model.all_rows()}
            made = rows.get("Publish from the wizard")
            if made is not None and made.state == "completed":
                break
            await asyncio.sleep(0.05)
        made = {r.title: r for r in window.jobs.model.all_rows()}["Publish from the wizard"]
        assert made.state == "completed" and made.items_completed == 8
        assert made.publishing == "8 published"
        window.show_job(made.id)
        while window.jobs.items_model.rowCount() != 8 or not window.jobs.items_model.upload(0):
            await asyncio.sleep(0.05)
        for _ in range(100):
            if (window.jobs.items_model.upload(7) or {}).get("url"):
                break
            await asyncio.sleep(0.05)
        column = len(window.jobs.items_model.columns) - 1
        links = [window.jobs.items_model.index(n, column).data() for n in range(8)]
        assert all("https://www.youtube.com/watch?v=" in text for text in links), links
        assert len(google.youtube.videos) == 8
        menu = window.jobs.item_menu(0)
        assert "Open on YouTube" in [a.text() for a in menu.actions()]
        await window.stop_engine()

    try:
        with loop:
            loop.run_until_complete(asyncio.wait_for(scenario(), 120))
    finally:
        window.shutdown()
        asyncio.set_event_loop(None)


def test_adding_a_channel_from_settings_signs_in_through_the_browser(
    qtbot: QtBot, google: Google, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings › Accounts › Add YouTube channel…: the installed-app flow runs off the GUI thread; a
    browser stand-in gives consent; the channel appears in the list."""

    client = desktop_client(tmp_path)
    google.grant_scope = "https://www.googleapis.com/auth/youtube"

    consenting_browser(monkeypatch)
    workspace = Services(AppPaths.resolve(data_dir))
    workspace.settings.set("google.client_secrets", str(client))
    window = open_window(qtbot, workspace)
    window.nav.setCurrentRow(PAGES.index("Settings"))
    page = window.settings_page
    qtbot.waitUntil(lambda: page.channels.count() == 1, timeout=30_000)
    page.add_channel_button.click()
    qtbot.waitUntil(
        lambda: "Added the YouTube channel Cadence Test Channel" in page.message.text(),
        timeout=30_000,
    )
    qtbot.waitUntil(lambda: "Cadence Test Channel" in page.channels.item(0).text(), timeout=30_000)
    assert page.add_channel_button.isEnabled()
    assert [c.id for c in workspace.channels.records()] == [CHANNEL]
    window.close()
    window.shutdown()


def test_the_source_preview_names_every_problem_with_its_column(
    qtbot: QtBot, data_dir: Path
) -> None:
    from app.domain.validation import Rules, SourceRow, validate_rows

    workspace = Services(AppPaths.resolve(data_dir))
    window = open_window(qtbot, workspace)
    window.job_handlers.new_job()
    page = window.wizard.source
    assert page.title() == "Step 1 of 6: Connect a source"
    report = validate_rows(
        [
            SourceRow(1, ["Title", "Script", "Duration", "Voice"]),
            SourceRow(2, ["Bad row", "Words.", "soon", "robot"]),
        ],
        Rules(),
    )
    report.empty_rows = [3]
    page._tested(page.request, report)
    text = page.preview.item(0, 2).text()
    assert "column C “Duration”" in text and "column D “Voice”" in text
    assert page.preview.item(0, 2).toolTip() == text  # the whole message, never cut
    assert page.preview.wordWrap()
    assert "empty row 3 skipped" in page.summary.text()
    window.close()
    window.shutdown()


def test_the_wizard_tests_by_itself_checks_the_folder_and_words_its_errors(
    qtbot: QtBot, data_dir: Path, tmp_path: Path
) -> None:
    """Enter tests the source (no button needed); a folder that cannot be written is refused
    beside it; rule and YAML problems read as words; Review counts at the chosen level."""
    import csv as csv_module

    from tests.conftest import HEADER, full_row

    sheet = tmp_path / "mixed.csv"
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        writer = csv_module.writer(fh)
        writer.writerow(HEADER)
        writer.writerow(full_row(idea_title="Complete"))
        writer.writerow(full_row(idea_title="No description", description=""))
        writer.writerow(full_row(idea_title="No tone", tone=""))
    workspace = Services(AppPaths.resolve(data_dir))
    window = open_window(qtbot, workspace)
    window.job_handlers.new_job()
    wizard = window.wizard
    wizard.source.location.setText(str(sheet))
    wizard.source.location.editingFinished.emit()  # Enter, or leaving the field
    qtbot.waitUntil(lambda: wizard.source.isComplete(), timeout=30_000)
    assert "3 valid rows" in wizard.source.summary.text()
    wizard.next()
    wizard.output.folder.setText("/proc/cadence-nope")
    wizard.next()
    assert wizard.currentPage() is wizard.output
    assert "cannot be written to /proc/cadence-nope" in wizard.output.folder_error.text()
    wizard.output.folder.setText("")
    assert wizard.output.folder_error.text() == ""  # gone once the field is edited
    wizard.output.storage.setText("my-bucket/videos")
    wizard.next()
    assert wizard.currentPage() is wizard.output
    assert "'my-bucket/videos' is not a storage address" in wizard.output.storage_error.text()
    wizard.output.storage.setText("s3://my-bucket/videos")
    wizard.output.needs.setText("GPU")
    wizard.next()
    assert wizard.currentPage() is wizard.output
    assert "'GPU' is not NAME=AMOUNT" in wizard.output.needs_error.text()
    wizard.output.needs.setText("GPU=1")
    assert wizard.output.config()["storage"] == "s3://my-bucket/videos"
    assert wizard.output.config()["needs"] == "GPU=1"
    wizard.next()
    wizard.details.level.setCurrentText("strict")
    wizard.next()
    page = wizard.scheduling_page
    page.rules.setPlainText(
        "- id: n\n  name: Nights only\n  type: time_based\n  settings: {time_window: 9-5}"
    )
    wizard.next()
    assert wizard.currentPage() is page
    assert page.rules_error.text().startswith("Rule 1 (“Nights only”), time window:")
    assert "rules[" not in page.rules_error.text()
    page.rules.setPlainText("- id: x\n  name: [unclosed\n")
    assert page.rules_error.text() == ""
    wizard.next()
    assert "line 2, column 18" in page.rules_error.text()
    assert "ParserError" not in page.rules_error.text()
    page.rules.setPlainText("")
    wizard.next()
    wizard.next()  # publishing: render only
    assert wizard.currentPage() is wizard.review
    qtbot.waitUntil(lambda: "(at the strict level)" in wizard.review.summary.text(), timeout=30_000)
    assert "1 video (at the strict level)" in wizard.review.summary.text()
    assert "Also to: s3://my-bucket/videos" in wizard.review.summary.text()
    assert "Cluster workers offering: GPU=1" in wizard.review.summary.text()
    window.close()
    window.shutdown()


def test_settings_signs_in_to_google_and_keeps_the_script_writer(
    qtbot: QtBot,
    google: Google,
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sign in… runs the browser flow from the window; the script writer's address, model and
    key are saved (the key to the keyring, never shown again)."""
    import base64
    import json

    from tests.conftest import desktop_client

    client = desktop_client(tmp_path)
    claims = base64.urlsafe_b64encode(json.dumps({"email": "me@example.com"}).encode()).decode()
    google.id_token = f"e30.{claims.rstrip('=')}.c2ln"

    consenting_browser(monkeypatch)
    workspace = Services(AppPaths.resolve(data_dir))
    workspace.settings.set("google.client_secrets", str(client))
    window = open_window(qtbot, workspace)
    window.nav.setCurrentRow(PAGES.index("Settings"))
    page = window.settings_page
    qtbot.waitUntil(lambda: not page.sign_out_button.isEnabled(), timeout=30_000)  # loaded
    assert page.sign_in_button.isEnabled()
    page.sign_in_button.click()
    qtbot.waitUntil(lambda: "me@example.com" in page.account.text(), timeout=30_000)
    assert page.sign_out_button.isEnabled() and not page.sign_in_button.isEnabled()
    page.llm_endpoint.setText("http://127.0.0.1:11434/v1")
    page.llm_model.setText("llama3")
    page.llm_key.setText("sk-secret-value")
    page.save_button.click()
    qtbot.waitUntil(lambda: page.message.text() == "Saved.", timeout=30_000)
    assert workspace.settings.get("llm.model") == "llama3"
    assert workspace.settings.get("llm.api_key") == "sk-secret-value"
    window.show_page(PAGES.index("Settings"))
    qtbot.waitUntil(lambda: "in the keyring" in page.llm_key.placeholderText(), timeout=30_000)
    assert page.llm_key.text() == ""  # the key is never put back on screen
    window.close()
    window.shutdown()


def test_every_wizard_problem_shows_beside_its_field_and_goes_when_fixed(
    qtbot: QtBot, data_dir: Path
) -> None:
    """One wrong entry per field: each message appears under that field (not at the page's
    foot), speaks the window's language, and is gone once the field is edited."""
    from PySide6.QtCore import QDateTime

    from app.sources.intake import load_report

    background = Background()
    wizard = JobWizard(background, lambda spec, *_level: load_report(spec))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.source.location.setText(str(DEMO_SHEET))
    wizard.source.location.editingFinished.emit()
    qtbot.waitUntil(lambda: wizard.source.isComplete(), timeout=30_000)
    wizard.next()
    wizard.next()

    details = wizard.details
    assert wizard.currentPage() is details
    details.callback.setText("ftp://example.com/hook")
    wizard.next()
    assert wizard.currentPage() is details
    assert details.callback_error.text() == "Callback URL: must be an http:// or https:// address"
    assert details.callback_error.isVisible()
    assert details.error.text() == "" and details.title_error.text() == ""
    assert not details.title_error.isVisible()  # an empty message takes no room
    details.callback.setText("https://example.com/hook")
    assert details.callback_error.text() == "" and not details.callback_error.isVisible()
    wizard.next()

    page = wizard.scheduling_page
    assert wizard.currentPage() is page
    page.start_now.setChecked(False)
    page.start.setDateTime(QDateTime.currentDateTime().addDays(2))
    page.use_end.setChecked(True)
    page.end.setDateTime(QDateTime.currentDateTime().addDays(1))
    wizard.next()
    assert wizard.currentPage() is page
    assert page.end_error.text() == "End time: must be after the start time"
    assert page.error.text() == "" and page.rules_error.text() == ""
    page.end.setDateTime(QDateTime.currentDateTime().addDays(3))
    assert page.end_error.text() == ""
    page.start_now.setChecked(True)
    page.end.setDateTime(QDateTime.currentDateTime().addSecs(-3600))
    wizard.next()
    assert "in the past" in page.end_error.text()
    page.use_end.setChecked(False)
    page.recurring.setChecked(True)
    page.zone.setCurrentText("Mars/Olympus")
    wizard.next()
    assert wizard.currentPage() is page
    assert "Mars/Olympus" in page.zone_error.text() and page.expression_error.text() == ""
    page.zone.setCurrentText("Europe/Berlin")
    assert page.zone_error.text() == ""
    page.recurring.setChecked(False)
    wizard.next()

    publishing = wizard.publishing
    assert wizard.currentPage() is publishing
    publishing.enabled.setChecked(True)
    wizard.next()  # no channel signed in: the message points at the screen that adds one
    assert "Settings › Accounts" in publishing.channel_error.text()
    assert "`channels list`" not in publishing.channel_error.text()
    wizard.close()
    background.shutdown()
