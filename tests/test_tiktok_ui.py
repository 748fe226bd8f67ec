"""TikTok in the window: Settings › Accounts › Add TikTok account…, and the wizard's
Publishing step showing TikTok's required posting experience — the creator's nickname, a
privacy choice with no default, interactions greyed where the creator turned them off, the
commercial content disclosure and its rules, the music usage consent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.paths import AppPaths
from app.services import Services
from app.ui.main_window import PAGES
from app.ui.tiktok_app import TikTokAppDialog
from tests.fake_tiktok import TikTok
from tests.test_publish_ui import open_window, through_to_publishing
from tests.tiktok_helpers import browser, sign_in_tiktok


def test_adding_a_tiktok_account_from_settings(
    qtbot: QtBot, tiktok: TikTok, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, secret = tiktok.app()
    tiktok.user(username="skyfacts", nickname="Sky Facts")
    monkeypatch.setattr("webbrowser.open", browser)

    def filled_in(dialog: TikTokAppDialog) -> int:
        assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
        dialog.key.setText(key)
        dialog.secret.setText(secret)
        assert dialog.secret.echoMode() == dialog.secret.EchoMode.Password
        return TikTokAppDialog.DialogCode.Accepted.value

    monkeypatch.setattr(TikTokAppDialog, "exec", filled_in)
    workspace = Services(AppPaths.resolve(data_dir))
    window = open_window(qtbot, workspace)
    window.nav.setCurrentRow(PAGES.index("Settings"))
    page = window.settings_page
    qtbot.waitUntil(lambda: page.channels.count() == 1, timeout=30_000)
    page.add_tiktok_button.click()
    qtbot.waitUntil(
        lambda: "Added the TikTok account Sky Facts (@skyfacts)" in page.message.text(),
        timeout=30_000,
    )
    qtbot.waitUntil(lambda: "TikTok · Sky Facts (@skyfacts)" in page.channels.item(0).text(),
                    timeout=30_000)  # fmt: skip
    assert secret not in page.message.text()
    assert workspace.settings.get("tiktok.client_key") == key  # offered next time
    window.close()
    window.shutdown()


def test_the_publishing_step_shows_tiktoks_posting_experience(
    qtbot: QtBot, tiktok: TikTok, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = Services(AppPaths.resolve(data_dir))
    sign_in_tiktok(workspace, tiktok, monkeypatch, username="skyfacts", nickname="Sky Facts",
                   duet_disabled=True, stitch_disabled=False, max_duration=180)  # fmt: skip
    window = open_window(qtbot, workspace)
    wizard = through_to_publishing(qtbot, window)
    page = wizard.publishing
    panel = page.tiktok
    assert not panel.isVisible()
    page.tiktok_on.setChecked(True)
    assert panel.isVisible()
    qtbot.waitUntil(lambda: "Sky Facts" in panel.who.text(), timeout=30_000)
    assert "@skyfacts" in panel.who.text() and "180 s" in panel.who.text()
    # Who may see it: TikTok's options for this creator, nothing chosen for them.
    options = [panel.privacy.itemText(i) for i in range(panel.privacy.count())]
    assert options == ["Everyone", "Friends", "Only me"]
    assert panel.privacy.currentIndex() == -1
    # Interactions: off until switched on; the duet the creator turned off is greyed.
    assert not any(b.isChecked() for b in (panel.comment, panel.duet, panel.stitch))
    assert not panel.duet.isEnabled() and panel.comment.isEnabled()
    assert "Music Usage Confirmation" in panel.declaration.text()
    wizard.next()
    assert wizard.currentPage() is page and "no default" in page.error.text()
    panel.privacy.setCurrentIndex(panel.privacy.findData("SELF_ONLY"))
    wizard.next()
    assert wizard.currentPage() is page and "Music Usage" in page.error.text()
    panel.consent.setChecked(True)
    # The disclosure: switched on, one of its two must be chosen; branded content is
    # never private, and says so.
    panel.disclose.setChecked(True)
    wizard.next()
    assert "promotes yourself, a third party, or both" in page.error.text()
    panel.branded.setChecked(True)
    assert panel.privacy.currentIndex() == -1  # Only me is not allowed with branded content
    only_me = panel.privacy.model().item(panel.privacy.findData("SELF_ONLY"))
    assert not only_me.isEnabled()
    assert "Paid partnership" in panel.label.text()
    assert "Branded Content Policy" in panel.declaration.text()
    panel.privacy.setCurrentIndex(panel.privacy.findData("PUBLIC_TO_EVERYONE"))
    panel.comment.setChecked(True)
    page.at_time.setChecked(True)
    assert "keeps the computer awake" in page.tiktok_note.text()
    wizard.next()
    assert wizard.currentPage() is wizard.review, page.error.text()
    summary = wizard.review.summary.text()
    assert "TikTok (Sky Facts (@skyfacts)), Everyone, labelled “Paid partnership”" in summary
    publish: dict[str, Any] = wizard.result().publish
    assert publish["target"] == "tiktok" and publish["accounts"] == {"tiktok": "open-abc"}
    assert publish["tiktok"]["privacy"] == "PUBLIC_TO_EVERYONE"
    assert publish["tiktok"]["branded_content"] and publish["tiktok"]["allow_comment"]
    assert not publish["tiktok"]["allow_duet"] and publish["tiktok"]["music_consent"]
    wizard.close()
    window.close()
    window.shutdown()


def test_an_account_that_cannot_post_now_is_told_why(
    qtbot: QtBot, tiktok: TikTok, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = Services(AppPaths.resolve(data_dir))
    sign_in_tiktok(workspace, tiktok, monkeypatch)
    tiktok.refresh.clear()
    tiktok.fail("expire")  # TikTok refuses the account's sign-in
    window = open_window(qtbot, workspace)
    wizard = through_to_publishing(qtbot, window)
    page = wizard.publishing
    page.tiktok_on.setChecked(True)
    qtbot.waitUntil(lambda: "Settings › Accounts" in page.tiktok.problem.text(), timeout=30_000)
    wizard.close()
    window.close()
    window.shutdown()


def test_the_approval_preview_shows_what_tiktok_asks_before_posting(
    qtbot: QtBot, tiktok: TikTok, workspace: Services, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:  # fmt: skip
    from functools import partial

    from app import ops, queries
    from app.store.models import Upload
    from app.ui.approval import ApprovalDialog
    from app.ui.background import Background
    from tests.test_tiktok import POST
    from tests.youtube_helpers import publishing_job, render_stand_in

    open_id = sign_in_tiktok(workspace, tiktok, monkeypatch, nickname="Sky Facts",
                             username="skyfacts")  # fmt: skip
    job = publishing_job(workspace, tmp_path, 1, target="tiktok", channel="", approve=True,
                         accounts={"tiktok": open_id},
                         tiktok={**POST, "allow_comment": True, "your_brand": True})  # fmt: skip
    [item] = render_stand_in(workspace, job, tmp_path / "out")
    dialog = ApprovalDialog(
        Background(),
        partial(queries.jobs.approval_items, workspace),
        partial(ops.publishing.approve, workspace),
        partial(ops.publishing.reject, workspace),
        lambda _i, _v: [],
        creator=partial(queries.accounts.tiktok_creator, workspace),
    )
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "posting as <b>Sky Facts</b> (@skyfacts)" in dialog.where.text(),
                    timeout=30_000)  # fmt: skip
    text = dialog.where.text()
    assert "who can view: Everyone" in text and "comments allowed" in text
    assert "labelled “Promotional content”" in text and "Music Usage Confirmation" in text
    dialog.approve_selected()
    qtbot.waitUntil(lambda: "Approved" in dialog.message.text(), timeout=30_000)
    with workspace.db.read() as session:
        assert session.get(Upload, (item, "tiktok")).status == "queued"  # type: ignore[union-attr]
