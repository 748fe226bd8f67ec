"""The dialog that asks for the user's own TikTok app before a TikTok account is added: its
client key and client secret, from developers.tiktok.com."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

HELP = (
    "Cadence posts with your own TikTok app. At <a href='https://developers.tiktok.com/apps'>"
    "developers.tiktok.com › Manage apps</a>, create an app, add <b>Login Kit</b> (desktop, "
    "redirect URI <code>http://127.0.0.1:*/callback/</code>) and the <b>Content Posting "
    "API</b> with Direct Post, and copy its client key and secret here. Until TikTok audits "
    "your app, its posts can only be private (Only me)."
)


class TikTokAppDialog(QDialog):
    def __init__(self, parent: QWidget | None, client_key: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a TikTok account")
        layout = QVBoxLayout(self)
        note = QLabel(HELP)
        note.setWordWrap(True)
        note.setOpenExternalLinks(True)
        layout.addWidget(note)
        form = QFormLayout()
        self.key = QLineEdit(client_key)
        self.key.setAccessibleName("TikTok client key")
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName("TikTok client secret")
        form.addRow("Client key", self.key)
        form.addRow("Client secret", self.secret)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign in…")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.key.textChanged.connect(self._ready)
        self.secret.textChanged.connect(self._ready)
        self._ready()

    def _ready(self) -> None:
        ok = bool(self.key.text().strip() and self.secret.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def values(self) -> tuple[str, str]:
        return self.key.text().strip(), self.secret.text().strip()
