"""Approve or reject rendered videos before they go to YouTube.

Each video awaiting approval is shown as a strip of frames (taken in the background with the
bundled ffmpeg, so no multimedia module is needed) with its thumbnail, title, description,
tags and publish time; Play opens it in the system's player.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.changes import Done
from app.ui.background import Background
from app.ui.opener import offer, open_path
from app.ui.widgets import ok_cancel

FRAMES = 4
NOTHING_TO_APPROVE = (
    "Nothing to approve.\n\nVideos of jobs that ask for your approval wait here once they"
    " are rendered; approved ones go to YouTube at their publish time."
)


class RejectDialog(QDialog):
    """Why, and whether to render it again or skip it."""

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reject")
        form = QFormLayout(self)
        form.addRow(QLabel(f"Reject {count} video{'s' if count != 1 else ''}?"))
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason")
        self.reason.setPlaceholderText("e.g. the voice is too fast")
        form.addRow("Reason", self.reason)
        self.again = QCheckBox("Render it again (instead of skipping it)")
        self.again.setAccessibleName("Render again")
        form.addRow("", self.again)
        form.addRow(ok_cancel(self, "Reject"))


ASKING = "<span id='creator'>asking TikTok about the account…</span>"


class ApprovalDialog(QDialog):
    decided = Signal(object)  # what happened: a `Done`

    def __init__(
        self,
        background: Background,
        load: Callable[[], list[dict[str, Any]]],
        approve: Callable[[list[int]], Done],
        reject: Callable[[list[int], str, bool], Done],
        frames: Callable[[int, str], list[Path]],
        parent: QWidget | None = None,
        creator: Callable[[str], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Videos awaiting approval")
        self.resize(1100, 680)
        self.background = background
        self._load, self._approve, self._reject, self._frames = load, approve, reject, frames
        self._creator = creator  # what TikTok says of an account now (open_id)
        self.records: list[dict[str, Any]] = []
        self.shown: int | None = None  # the item whose preview is on screen

        self.list = QListWidget()
        self.list.setAccessibleName("Videos awaiting approval")
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.currentRowChanged.connect(self._show)
        right = QWidget()
        details = QVBoxLayout(right)
        self.strip = QHBoxLayout()
        self.frame_labels = []
        for n in range(FRAMES):
            label = QLabel("…")
            label.setMinimumSize(200, 112)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setAccessibleName(f"Frame {n + 1}")
            label.setStyleSheet("background: palette(dark); border-radius: 4px;")
            self.strip.addWidget(label)
            self.frame_labels.append(label)
        details.addLayout(self.strip)
        form = QFormLayout()
        self.thumbnail = QLabel("")
        self.thumbnail.setAccessibleName("Thumbnail")
        self.thumbnail.setFixedSize(256, 144)
        self.thumbnail.setScaledContents(True)
        form.addRow("Thumbnail", self.thumbnail)
        self.title_label = QLabel("")
        self.title_label.setWordWrap(True)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title_label.setAccessibleName("Title")
        form.addRow("Title", self.title_label)
        self.description = QPlainTextEdit()
        self.description.setReadOnly(True)
        self.description.setAccessibleName("Description")
        self.description.setMaximumHeight(130)
        form.addRow("Description", self.description)
        self.tags = QLabel("")
        self.tags.setWordWrap(True)
        self.tags.setAccessibleName("Tags")
        form.addRow("Tags", self.tags)
        self.when = QLabel("")
        self.when.setAccessibleName("Publish time")
        form.addRow("Publishes", self.when)
        self.where = QLabel("")
        self.where.setWordWrap(True)
        self.where.setAccessibleName("Where it goes")
        self.where.setOpenExternalLinks(True)
        form.addRow("Goes to", self.where)
        details.addLayout(form)
        buttons = QHBoxLayout()
        self.play = QPushButton("Play video")
        self.play.setAccessibleName("Play the video in the system's player")
        self.play.clicked.connect(self.play_video)
        self.approve_button = QPushButton("Approve")
        self.approve_button.setDefault(True)
        self.approve_button.setToolTip("Approve the selected videos (Ctrl+Enter)")
        self.approve_button.clicked.connect(self.approve_selected)
        self.reject_button = QPushButton("Reject…")
        self.reject_button.clicked.connect(self.reject_selected)
        buttons.addWidget(self.play)
        buttons.addStretch()
        buttons.addWidget(self.reject_button)
        buttons.addWidget(self.approve_button)
        details.addLayout(buttons)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        details.addWidget(self.message)
        details.addStretch()
        splitter = QSplitter()
        splitter.addWidget(self.list)
        splitter.addWidget(right)
        splitter.setSizes([320, 780])
        # Until the list arrives, and whenever it is empty, one sentence says so — not empty
        # tiles and blank fields.
        self.empty = QLabel("Looking for videos that await your approval…")
        self.empty.setObjectName("approval-empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty)
        self.pages.addWidget(splitter)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        layout.addWidget(close)
        self.shortcut = QShortcut(QKeySequence("Ctrl+Return"), self, self.approve_selected)
        self._set_enabled(False)
        self.reload()

    # Loading

    def reload(self) -> None:
        self.background.run(self._load, self.show_records, self._failed)

    def show_records(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.list.clear()
        for record in records:
            item = QListWidgetItem(f"{record['job']} — row {record['row']}\n{record['title']}")
            item.setData(Qt.ItemDataRole.UserRole, record["id"])
            self.list.addItem(item)
        self.pages.setCurrentIndex(1 if records else 0)
        if records:
            self.list.setCurrentRow(0)
        else:
            self.shown = None
            self._set_enabled(False)
            self.empty.setText(NOTHING_TO_APPROVE)

    def _set_enabled(self, on: bool) -> None:
        for button in (self.play, self.approve_button, self.reject_button):
            button.setEnabled(on)

    def _show(self, row: int) -> None:
        if not 0 <= row < len(self.records):
            return
        record = self.records[row]
        self.shown = record["id"]
        self._set_enabled(True)
        meta = record.get("metadata") or {}
        self.title_label.setText(meta.get("title") or record["title"])
        self.description.setPlainText(meta.get("description", ""))
        self.tags.setText(", ".join(meta.get("tags", [])) or "—")
        upload = record.get("upload") or {}
        when = upload.get("publish_at")
        self.when.setText(
            f"{datetime.fromisoformat(when).astimezone():%a %d %b %Y %H:%M} — private until "
            f"then, then {upload.get('privacy')}"
            if when
            else f"as soon as uploaded ({upload.get('privacy', 'private')})"
        )
        self._show_where(record)
        thumbnail = (record.get("outputs") or {}).get("thumbnail")
        self.thumbnail.setPixmap(QPixmap(thumbnail) if thumbnail else QPixmap())
        for label in self.frame_labels:
            label.setPixmap(QPixmap())
            label.setText("…")
        video = (record.get("outputs") or {}).get("video", "")
        item_id = record["id"]
        self.background.run(
            lambda: self._frames(item_id, video),
            lambda frames: self._show_frames(item_id, frames),
            lambda error: self._show_frames(item_id, [], error),
        )

    def _show_where(self, record: dict[str, Any]) -> None:
        """Each platform the video goes to — for TikTok, what its guidelines ask shown
        before posting: the creator, who can view, the interactions, the disclosure label,
        the music usage declaration."""
        from app.domain.publishing import PublishConfig, platform_name
        from app.domain.tiktok import PRIVACY_LABELS
        from app.ui.tiktok_post import MUSIC_URL

        config = PublishConfig.from_dict(record.get("publish"))
        lines = []
        tiktok_account = ""
        for upload in record.get("uploads") or []:
            place = str(upload.get("destination") or "youtube")
            if place in ("instagram_reels", "facebook"):
                how = "public, scheduled by Facebook" if place == "facebook" else (
                    "public, posted from this computer at its time"
                )  # fmt: skip
                lines.append(f"{platform_name(place)} — {how}")
                continue
            if place != "tiktok":
                lines.append(f"{platform_name(place)} — {upload.get('privacy', 'private')}")
                continue
            post, tiktok_account = config.tiktok, str(upload.get("channel") or "")
            switches = (
                ("comments", post.allow_comment),
                ("duets", post.allow_duet),
                ("stitches", post.allow_stitch),
            )
            allowed = [name for name, on in switches if on]
            who = PRIVACY_LABELS[post.privacy] if post.privacy else "not chosen"
            interactions = f"{', '.join(allowed)} allowed" if allowed else "no interactions"
            label = f" · labelled “{post.label()}”" if post.label() else ""
            link = f"<a href='{MUSIC_URL}'>Music Usage Confirmation</a>"
            declaration = post.declaration().replace("Music Usage Confirmation", link)
            lines.append(
                f"TikTok — {ASKING} · who can view: {who} · {interactions}{label}<br>{declaration}"
            )
        self.where.setText("<br>".join(lines) or "—")
        if tiktok_account and self._creator is not None:
            item_id, ask = record["id"], self._creator

            def told(info: Any) -> None:
                if self.shown == item_id:
                    self.where.setText(self.where.text().replace(
                        ASKING,
                        f"posting as <b>{info.nickname}</b> (@{info.username})"))  # fmt: skip

            def refused(error: BaseException) -> None:
                if self.shown == item_id:
                    self.where.setText(self.where.text().replace(
                        ASKING,
                        f"<span style='color:#b91c1c'>{error}</span>"))  # fmt: skip

            self.background.run(lambda: ask(tiktok_account), told, refused)

    def _show_frames(
        self, item_id: int, frames: list[Path], error: BaseException | None = None
    ) -> None:
        if item_id != self.shown:
            return  # the user moved on meanwhile
        for label, frame in zip(self.frame_labels, frames, strict=False):
            label.setText("")
            label.setPixmap(
                QPixmap(str(frame)).scaledToWidth(200, Qt.TransformationMode.SmoothTransformation)
            )
        if error is not None:
            for label in self.frame_labels:
                label.setText("no preview")
            self.message.setText(f"No preview: {error}")

    # Deciding

    def selected_ids(self) -> list[int]:
        items = self.list.selectedItems() or (
            [self.list.currentItem()] if self.list.currentItem() else []
        )
        return [int(i.data(Qt.ItemDataRole.UserRole)) for i in items]

    def play_video(self) -> bool:
        """Open the video in the system's player; say where it is when nothing opens it."""
        row = self.list.currentRow()
        if not 0 <= row < len(self.records):
            return False
        video = (self.records[row].get("outputs") or {}).get("video")
        if not video:
            self.message.setText("This item has no video file to play.")
            return False
        if not Path(video).exists():
            self.message.setText(f"{video} is not there any more — it was moved or deleted.")
            return False
        return open_path(Path(video), lambda: self._no_player(Path(video)), self)

    def _no_player(self, video: Path) -> None:
        self.message.setText(f"No application plays videos here — it is {video}.")
        offer(video, self, "this video")

    def approve_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.background.run(lambda: self._approve(ids), self._done, self._failed)

    def reject_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        dialog = RejectDialog(len(ids), self)
        self.reject_dialog = dialog
        dialog.accepted.connect(
            lambda: self.background.run(
                lambda: self._reject(ids, dialog.reason.text(), dialog.again.isChecked()),
                self._done,
                self._failed,
            )
        )
        dialog.open()

    def _done(self, result: Done) -> None:
        self.message.setText(result.message)
        self.decided.emit(result)
        self.reload()

    def _failed(self, error: BaseException) -> None:
        if self.pages.currentIndex() == 0:  # the list never came: say why where it would be
            self.empty.setText(f"The videos awaiting approval could not be read: {error}")
        self.message.setText(str(error))
