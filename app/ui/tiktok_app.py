"""The dialogs that ask for the user's own app before an account is added: TikTok's client key
and secret (developers.tiktok.com), Meta's app id and secret (developers.facebook.com)."""

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


META_HELP = (
    "Cadence posts Reels with your own Meta app. At <a href='https://developers.facebook.com/"
    "apps'>developers.facebook.com › My Apps</a>, create a <b>Business</b> app, add "
    "<b>Facebook Login for Business</b> with the redirect URI <code>http://localhost:{port}/"
    "callback/</code>, and ask for <code>instagram_basic</code>, <code>instagram_content_"
    "publish</code>, <code>pages_show_list</code>, <code>pages_read_engagement</code>, "
    "<code>pages_manage_posts</code> and <code>business_management</code>. Your Instagram "
    "account must be a professional (business or creator) account linked to your Facebook Page."
)


class TikTokAppDialog(QDialog):
    TITLE, HELP, KEY, SECRET = "Add a TikTok account", HELP, "Client key", "Client secret"

    def __init__(self, parent: QWidget | None, client_key: str = "", port: int = 0) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.TITLE)
        layout = QVBoxLayout(self)
        note = QLabel(self.HELP.format(port=port))
        note.setWordWrap(True)
        note.setOpenExternalLinks(True)
        layout.addWidget(note)
        form = QFormLayout()
        self.key = QLineEdit(client_key)
        self.key.setAccessibleName(self.KEY)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName(self.SECRET)
        form.addRow(self.KEY, self.key)
        form.addRow(self.SECRET, self.secret)
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


class MetaAppDialog(TikTokAppDialog):
    TITLE, HELP, KEY, SECRET = "Add Instagram and Facebook", META_HELP, "App id", "App secret"
