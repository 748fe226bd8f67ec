"""TikTok's posting experience, as its Direct Post guidelines require it (and its audit
checks): the creator's nickname, who may see the post — chosen from what TikTok offers this
creator, with nothing chosen for them —, comments, duets and stitches off until switched on
and greyed where the creator turned them off in TikTok, the commercial content disclosure
with its rules, and the music usage declaration before anything is posted. Used by the
wizard's Publishing page and the approval preview."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QWidget

from app.domain.tiktok import PRIVACY_LABELS, CreatorInfo, TikTokPost, TikTokPrivacy

MUSIC_URL = "https://www.tiktok.com/legal/page/global/music-usage-confirmation/en"
BRANDED_URL = "https://www.tiktok.com/legal/page/global/bc-policy/en"


class TikTokPostPanel(QWidget):
    """One job's (or one video's) TikTok choices for one account."""

    changed = Signal()

    def __init__(self, background: Any, creator: Callable[[str], CreatorInfo]) -> None:
        super().__init__()
        self.background, self.creator = background, creator
        self.info: CreatorInfo | None = None
        form = self.form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.account = QComboBox()
        self.account.setAccessibleName("TikTok account")
        form.addRow("TikTok account", self.account)
        self.who = QLabel("")
        self.who.setAccessibleName("Posting as")
        self.who.setWordWrap(True)
        form.addRow("", self.who)
        self.privacy = QComboBox()
        self.privacy.setAccessibleName("Who can view this video")
        self.privacy.setPlaceholderText("Choose who can view it")
        form.addRow("Who can view", self.privacy)
        row = QHBoxLayout()
        self.comment = QCheckBox("Comment")
        self.duet = QCheckBox("Duet")
        self.stitch = QCheckBox("Stitch")
        for box in (self.comment, self.duet, self.stitch):
            box.setAccessibleName(f"Allow {box.text().lower()}s")
            row.addWidget(box)
        row.addStretch()
        form.addRow("Allow users to", row)
        self.disclose = QCheckBox("Disclose video content (promotes a brand, product or service)")
        self.disclose.setAccessibleName("Disclose video content")
        form.addRow("", self.disclose)
        self.your_brand = QCheckBox("Your brand — you promote yourself or your own business")
        self.branded = QCheckBox("Branded content — you promote another brand or a third party")
        self.your_brand.setAccessibleName("Your brand")
        self.branded.setAccessibleName("Branded content")
        form.addRow("", self.your_brand)
        form.addRow("", self.branded)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        form.addRow("", self.label)
        self.ai = QCheckBox("AI-generated content (TikTok's label)")
        self.ai.setChecked(True)
        self.ai.setToolTip(
            "Cadence makes the voice, and often the script: TikTok asks for the label"
        )
        form.addRow("", self.ai)
        self.consent = QCheckBox("")
        self.consent.setAccessibleName("Music usage consent")
        self.declaration = QLabel("")
        self.declaration.setOpenExternalLinks(True)
        self.declaration.setWordWrap(True)
        consent_row = QHBoxLayout()
        consent_row.addWidget(self.consent)
        consent_row.addWidget(self.declaration, 1)
        form.addRow("", consent_row)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #b91c1c;")
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("TikTok problem")
        form.addRow(self.problem)
        for line in (self.who, self.label, self.problem):  # rows that take no room when empty
            form.setRowVisible(line, False)
        self.account.currentIndexChanged.connect(self._ask_creator)
        for box in (self.disclose, self.your_brand, self.branded):
            box.toggled.connect(self._disclosure)
        for signal in (
            self.privacy.currentIndexChanged, self.comment.toggled, self.duet.toggled,
            self.stitch.toggled, self.consent.toggled, self.ai.toggled,
        ):  # fmt: skip
            signal.connect(lambda *_a: self.changed.emit())
        self._disclosure()

    def _say(self, line: QLabel, text: str) -> None:
        line.setText(text)
        self.form.setRowVisible(line, bool(text))

    # Accounts and what TikTok says of them

    def show_accounts(self, records: list[Any]) -> None:
        current = self.account.currentData()
        self.account.blockSignals(True)
        self.account.clear()
        for record in records:
            self.account.addItem(record.label, record.id)
        if current:
            self.account.setCurrentIndex(max(0, self.account.findData(current)))
        self.account.blockSignals(False)
        if records:
            self._ask_creator()
        else:
            self._say(self.who, "No TikTok account yet: add one in Settings › Accounts.")

    def _ask_creator(self, *_args: Any) -> None:
        open_id = self.account.currentData()
        self.info = None
        self.privacy.clear()
        self._say(self.problem, "")
        if not open_id:
            return
        self._say(self.who, "Asking TikTok about the account…")
        self.background.run(lambda: self.creator(str(open_id)), self.show_creator, self._failed)

    def _failed(self, error: BaseException) -> None:
        self._say(self.who, "")
        self._say(self.problem, str(error))

    def show_creator(self, info: CreatorInfo) -> None:
        self.info = info
        seconds = f"; videos up to {info.max_duration} s" if info.max_duration else ""
        self._say(self.who, f"Posting as <b>{info.nickname}</b> (@{info.username}){seconds}")
        self.privacy.blockSignals(True)
        self.privacy.clear()
        for option in info.privacy_options:
            try:
                label = PRIVACY_LABELS[TikTokPrivacy(option)]
            except ValueError:
                label = option
            self.privacy.addItem(label, option)
        self.privacy.setCurrentIndex(-1)  # TikTok: no default privacy
        self.privacy.blockSignals(False)
        for box, off in (
            (self.comment, info.comment_disabled),
            (self.duet, info.duet_disabled),
            (self.stitch, info.stitch_disabled),
        ):
            box.setEnabled(not off)
            if off:
                box.setChecked(False)
            box.setToolTip("Turned off in this account's TikTok settings" if off else "")
        if info.privacy_options == ("SELF_ONLY",):
            self._say(
                self.problem,
                "TikTok offers only “Only me” for this account: posts stay private until "
                "TikTok audits your app.",
            )
        self._disclosure()
        self.changed.emit()

    # The commercial content disclosure

    def _disclosure(self, *_args: Any) -> None:
        on = self.disclose.isChecked()
        self.your_brand.setVisible(on)
        self.branded.setVisible(on)
        if not on:
            self.your_brand.setChecked(False)
            self.branded.setChecked(False)
        post = self.post()
        label = post.label()
        self._say(self.label, f"Your video will be labeled “{label}”." if label else "")
        # Branded content cannot be private: "Only me" is greyed while it is chosen.
        model = self.privacy.model()
        for row in range(self.privacy.count()):
            if self.privacy.itemData(row) == TikTokPrivacy.SELF_ONLY.value:
                item = model.item(row) if hasattr(model, "item") else None
                if item is not None:
                    item.setEnabled(not self.branded.isChecked())
                    item.setToolTip(
                        "Branded content visibility cannot be set to private"
                        if self.branded.isChecked()
                        else ""
                    )
        if self.branded.isChecked() and self.privacy.currentData() == TikTokPrivacy.SELF_ONLY.value:
            self.privacy.setCurrentIndex(-1)
        if post.branded_content:
            text = (
                f"By posting, you agree to TikTok's <a href='{BRANDED_URL}'>Branded Content "
                f"Policy</a> and <a href='{MUSIC_URL}'>Music Usage Confirmation</a>."
            )
        else:
            text = (
                f"By posting, you agree to TikTok's <a href='{MUSIC_URL}'>Music Usage "
                "Confirmation</a>."
            )
        self.declaration.setText(text)
        self.changed.emit()

    # What was chosen

    def post(self) -> TikTokPost:
        data = self.privacy.currentData()
        return TikTokPost(
            privacy=TikTokPrivacy(data) if data else None,
            allow_comment=self.comment.isChecked(),
            allow_duet=self.duet.isChecked(),
            allow_stitch=self.stitch.isChecked(),
            your_brand=self.your_brand.isChecked(),
            branded_content=self.branded.isChecked(),
            ai_generated=self.ai.isChecked(),
            music_consent=self.consent.isChecked(),
        )

    def problem_text(self) -> str:
        """What stops posting with these choices, in the window's words; '' when nothing."""
        if not self.account.currentData():
            return "Choose a TikTok account — add one in Settings › Accounts first."
        post = self.post()
        if post.privacy is None:
            return "Choose who can view the TikTok posts — TikTok sets no default."
        if self.disclose.isChecked() and not (post.your_brand or post.branded_content):
            return "You need to indicate if your content promotes yourself, a third party, or both."
        if not post.music_consent:
            return "Tick the agreement to TikTok's Music Usage Confirmation to post."
        return ""

    def set_enabled(self, on: bool) -> None:
        for widget in self.findChildren(QWidget):
            if widget not in (self.comment, self.duet, self.stitch):
                widget.setEnabled(on)
        info = self.info
        for box, off in (
            (self.comment, info.comment_disabled if info else False),
            (self.duet, info.duet_disabled if info else False),
            (self.stitch, info.stitch_disabled if info else False),
        ):
            box.setEnabled(on and not off)
