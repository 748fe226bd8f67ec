"""What the window does from its Settings page: save settings, sign in and out of Google, add
and remove channels, try a render cluster or storage, serve the local API.

Changes go through the window's `OperationRunner` (their `Done` refreshes what they touch);
the Test buttons are questions (`app.queries.settings`) answered beside the button.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox, QWidget

from app.changes import Done
from app.domain.errors import UserError

if TYPE_CHECKING:
    from app.services import Services
    from app.ui.main_window import MainWindow


class SettingsHandlers:
    def __init__(self, window: MainWindow) -> None:
        self.window = window

    @property
    def page(self) -> Any:
        return self.window.settings_page

    def save_settings(self, values: dict[str, Any]) -> None:
        from app import ops

        def saved(_done: Done) -> None:
            self.page.message.setText("Saved.")
            self.page.secrets_kept(values)
            self.apply_api()

        self.window.runner.run(
            lambda services: ops.settings.save_settings(services, values), then=saved
        )

    # Google

    def load_channels(self) -> None:
        workspace = self.window.workspace
        if workspace is None:
            return
        self.window.background.run(
            lambda: workspace.channels.records(None), self.page.show_channels, self.window.on_failed
        )

    def add_channel(self) -> None:
        """Sign a channel in: the browser asks the channel's Google account for consent."""
        from app import ops

        self._browser_sign_in(
            ops.accounts.add_channel,
            self.page.add_channel_button,
            "Your browser opens Google's sign-in: choose the channel's account and allow Cadence.",
        )

    def add_tiktok(self) -> None:
        """Sign a TikTok account in: the user's TikTok app (client key and secret, asked for
        here), then TikTok's consent page in the browser."""
        from app import ops
        from app.ui.tiktok_app import TikTokAppDialog

        self._app_sign_in(
            TikTokAppDialog,
            "tiktok.client_key",
            self.page.add_tiktok_button,
            "Your browser opens TikTok's sign-in: log in to the account and allow Cadence.",
            lambda services, key, secret: ops.accounts.add_tiktok(
                services, key, secret, tell=lambda _text: None
            ),
        )

    def add_meta(self) -> None:
        """Instagram and Facebook: the user's Meta app (id and secret, asked for here), then
        Facebook's consent page in the browser; its Pages and their Instagram accounts."""
        from app import ops
        from app.ui.tiktok_app import MetaAppDialog

        self._app_sign_in(
            MetaAppDialog,
            "meta.app_id",
            self.page.add_meta_button,
            "Your browser opens Facebook's sign-in: choose your Page and Instagram account "
            "and allow Cadence.",
            lambda services, key, secret: ops.accounts.add_meta(
                services, key, secret, tell=lambda _text: None
            ),
        )

    def _app_sign_in(
        self,
        dialog_type: Any,
        key_setting: str,
        button: QWidget,
        hint: str,
        operation: Callable[[Services, str, str], Done],
    ) -> None:
        window = self.window
        workspace = window.workspace
        if workspace is None:
            return

        def ask(found: tuple[str, int]) -> None:
            saved_key, port = found
            dialog = dialog_type(window, saved_key, port)
            if dialog.exec() != dialog_type.DialogCode.Accepted:
                return
            key, secret = dialog.values()

            def said(done: Done) -> None:
                button.setEnabled(True)
                self.page.message.setText(done.message)

            def failed(error: BaseException) -> None:
                button.setEnabled(True)
                window.on_failed(error)

            button.setEnabled(False)
            self.page.message.setText(hint)
            window.runner.run(
                lambda services: operation(services, key, secret),
                then=said,
                failed=failed,
                daemon=True,  # the browser may take minutes
            )

        window.background.run(
            lambda: (
                workspace.settings.text(key_setting),
                workspace.settings.integer("meta.redirect_port"),
            ),
            ask,
            window.on_failed,
        )

    def sign_in(self) -> None:
        """Sign in to Google for Sheets: the browser asks for consent."""
        from app import ops

        self._browser_sign_in(
            ops.accounts.sign_in,
            self.page.sign_in_button,
            "Your browser opens Google's sign-in: choose your account and allow Cadence.",
        )

    def _browser_sign_in(
        self, operation: Callable[[Services, Path], Done], button: QWidget, hint: str
    ) -> None:
        """A browser sign-in with the user's OAuth desktop client (asked for once), off the
        GUI thread, in a thread that never holds up quitting."""
        window = self.window
        workspace = window.workspace
        if workspace is None:
            return

        def with_client(secrets: str) -> None:
            if not secrets:
                secrets, _ = QFileDialog.getOpenFileName(
                    window,
                    "Your OAuth desktop client (from Google Cloud console)",
                    "",
                    "OAuth client (*.json);;All files (*)",
                )
                if not secrets:
                    return

            def said(done: Done) -> None:
                button.setEnabled(True)
                self.page.message.setText(done.message)

            def failed(error: BaseException) -> None:
                button.setEnabled(True)
                window.on_failed(error)

            button.setEnabled(False)
            self.page.message.setText(hint)
            window.runner.run(
                lambda services: operation(services, Path(secrets)),
                then=said,
                failed=failed,
                daemon=True,  # the browser may take minutes
            )

        window.background.run(
            lambda: workspace.settings.text("google.client_secrets"),
            with_client,
            window.on_failed,
        )

    def remove_channel(self, channel_id: str) -> None:
        from app import ops

        answer = QMessageBox.question(
            self.window,
            "Remove account",
            "Remove this account? Cadence forgets its sign-in; posts planned for it wait "
            "until it is added again.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.window.runner.run(
            lambda services: ops.accounts.remove_account(services, channel_id),
            then=lambda done: self.page.message.setText(done.message),
        )

    def sign_out(self) -> None:
        from app import ops

        self.window.runner.run(ops.accounts.sign_out)

    # Trying things out

    def test_cluster(self, address: str) -> None:
        """Reach the render cluster (off the GUI thread: it connects over the network)."""
        from app import queries

        self._try_out(
            self.page.test_cluster_button,
            self.page.cluster_status,
            f"Reaching {address}…",
            lambda workspace: queries.settings.test_cluster(workspace, address),
        )

    def test_storage(self, address: str) -> None:
        """Write a small file to the storage and read it back (off the GUI thread)."""
        from app import queries

        self._try_out(
            self.page.test_storage_button,
            self.page.storage_status,
            "Writing a test file…",
            lambda workspace: queries.settings.test_storage(workspace, address),
        )

    def test_footage(self, provider: str) -> None:
        """Search a provider once (with the saved key, if it needs one) — or, for "speech",
        say a sentence through the saved speech endpoint."""
        from app import queries

        if provider == "speech":
            self._try_out(
                self.page.test_speech_button,
                self.page.speech_status,
                "Speaking…",
                queries.settings.test_speech,
            )
            return
        self._try_out(
            self.page.footage_keys.get(provider) or self.page.footage_provider,
            self.page.footage_status,
            "Asking…",
            lambda workspace: queries.settings.test_footage(workspace, provider),
        )

    def _try_out(
        self,
        button: QWidget,
        label: QLabel,
        asking: str,
        call: Callable[[Services], str],
    ) -> None:
        """A Settings Test button: the answer (or what is wrong) beside it, when it comes."""
        window = self.window
        workspace = window.workspace
        if workspace is None:
            return
        button.setEnabled(False)
        label.setText(asking)

        def done(sentence: str) -> None:
            button.setEnabled(True)
            label.setText(sentence)

        def failed(error: BaseException) -> None:
            button.setEnabled(True)
            label.setText(str(error) if isinstance(error, UserError) else "")
            if not isinstance(error, UserError):
                window.on_failed(error)

        window.background.run(lambda: call(workspace), done, failed)

    # The local API

    def apply_api(self) -> None:
        """Serve the API, or stop serving it, as Settings say (off the GUI thread: it binds a
        port and waits for the server)."""
        window = self.window
        workspace, local = window.workspace, window.local_api
        if workspace is None or local is None:
            if workspace is not None:  # this window does not run the engine
                self.page.show_api(None, "the engine (and its API) runs elsewhere")
            return

        def failed(error: BaseException) -> None:
            self.page.show_api(None, str(error) if isinstance(error, UserError) else "")
            window.on_failed(error)

        window.background.run(lambda: local.apply(workspace.settings), self.page.show_api, failed)

    def copy_api_token(self) -> None:
        window = self.window
        workspace = window.workspace
        if workspace is None:
            return

        def copied(token: str) -> None:
            QGuiApplication.clipboard().setText(token)
            self.page.message.setText("API token copied — send it as “Authorization: Bearer …”.")

        window.background.run(workspace.settings.api_token, copied, window.on_failed)
