"""The wizard's Publishing page: where (YouTube, TikTok, or as each row says) and when the
videos go up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QWizardPage,
)

from app.domain.errors import UserError
from app.domain.job import DraftError
from app.domain.publishing import CATEGORIES, Privacy, PublishConfig, parse_interval
from app.domain.schedule import local_zone_name
from app.ui.background import Background
from app.ui.tiktok_post import TikTokPostPanel
from app.ui.wizard.parts import (
    FieldErrors,
    Note,
    _local,
    _top_form,
)


class PublishPage(QWizardPage):
    """Where the videos go: render only, or to a signed-in YouTube channel and/or TikTok
    account — for every row, or where each row's Platforms column says."""

    def __init__(
        self, background: Background, channels: Any, tiktok: Any = None, accounts: Any = None
    ) -> None:
        super().__init__()
        self.setTitle("Publishing")
        self.setSubTitle(
            "Publish each video when it is rendered — to YouTube, TikTok or both — or only render."
        )
        self.background = background
        self.channels = channels  # () -> (channel records, uploads a day), in the background
        # (TikTok accounts (), what TikTok says of one (open_id)), in the background
        self.tiktok_calls: tuple[Any, Any] = tiktok or (lambda: [], None)
        # (platform) -> that platform's signed-in accounts, asked in the background
        self.accounts: Callable[[str], list[Any]] = accounts or (lambda _platform: [])
        self.daily_uploads = 100
        form = _top_form(self, scroll=True)
        self.from_sheet = QCheckBox(
            "Where each row's Platforms column says (the platforms ticked here where it is empty)"
        )
        self.from_sheet.setAccessibleName("Publish where each row says")
        form.addRow("", self.from_sheet)
        self.enabled = QCheckBox("Upload to YouTube")
        self.enabled.setAccessibleName("Upload to YouTube")
        form.addRow("", self.enabled)
        self.shorts = QCheckBox("Also as a YouTube Short (a 9:16 copy; at most 3 minutes)")
        self.shorts.setAccessibleName("Upload a YouTube Short")
        form.addRow("", self.shorts)
        self.channel = QComboBox()
        self.channel.setAccessibleName("Channel")
        form.addRow("Channel", self.channel)
        self.errors = FieldErrors()
        self.channel_error = self.errors.beside(
            form, ("channel",), self.channel.currentIndexChanged
        )
        self.channel_hint = Note(name="Channels")
        form.addRow(self.channel_hint)
        self.privacy = QComboBox()
        self.privacy.addItems([p.value for p in Privacy])
        self.privacy.setCurrentText("public")
        self.privacy.setAccessibleName("Privacy")
        form.addRow("Privacy", self.privacy)
        self.when_group = QButtonGroup(self)
        self.at_once = QRadioButton("As soon as each video is ready")
        self.at_time = QRadioButton("All at one time")
        self.spaced = QRadioButton("One every")
        self.into_slots = QRadioButton("Each into the channel's next free calendar slot")
        self.into_slots.setToolTip(
            "The Calendar's posting slots and rules for this channel (gaps, daily maximum, "
            "blackout days) decide the times"
        )
        for n, button in enumerate((self.at_once, self.at_time, self.spaced, self.into_slots)):
            self.when_group.addButton(button, n)
        self.at_once.setChecked(True)
        form.addRow("Publish", self.at_once)
        self.publish_at = QDateTimeEdit(QDateTime.currentDateTime().addDays(1))
        self.publish_at.setCalendarPopup(True)
        self.publish_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.publish_at.setAccessibleName("Publish time")
        row = QHBoxLayout()
        row.addWidget(self.at_time)
        row.addWidget(self.publish_at, 1)
        form.addRow("", row)
        self.errors.beside(
            form, ("publish at",), self.publish_at.dateTimeChanged, self.when_group.idToggled
        )
        self.every = QLineEdit("1d")
        self.every.setAccessibleName("Interval between videos")
        self.every.setToolTip("1d, 12h, 90m or 1d12h")
        self.first = QDateTimeEdit(QDateTime.currentDateTime().addDays(1))
        self.first.setCalendarPopup(True)
        self.first.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.first.setAccessibleName("First publish time")
        spaced_row = QHBoxLayout()
        spaced_row.addWidget(self.spaced)
        spaced_row.addWidget(self.every)
        spaced_row.addWidget(QLabel("from"))
        spaced_row.addWidget(self.first, 1)
        form.addRow("", spaced_row)
        form.addRow("", self.into_slots)
        self.every_error = self.errors.beside(
            form,
            ("publish every", "first"),
            self.every.textChanged,
            self.first.dateTimeChanged,
            self.when_group.idToggled,
        )
        self.playlist = QLineEdit()
        self.playlist.setAccessibleName("Playlist ID")
        self.playlist.setPlaceholderText("PL… (optional)")
        form.addRow("Playlist", self.playlist)
        self.errors.beside(form, ("playlist",), self.playlist.textChanged)
        self.category = QComboBox()
        for key, name in sorted(CATEGORIES.items(), key=lambda kv: kv[1]):
            self.category.addItem(name, key)
        self.category.setCurrentText(CATEGORIES["27"])
        self.category.setAccessibleName("Category")
        form.addRow("Category", self.category)
        self.kids_group = QButtonGroup(self)
        self.kids_yes = QRadioButton("Yes, made for kids")
        self.kids_no = QRadioButton("No, not made for kids")
        self.kids_group.addButton(self.kids_yes)
        self.kids_group.addButton(self.kids_no)
        kids_row = QHBoxLayout()
        kids_row.addWidget(self.kids_no)
        kids_row.addWidget(self.kids_yes)
        kids_row.addStretch()
        form.addRow("Audience", kids_row)
        self.kids_error = self.errors.beside(
            form, ("made for kids",), self.kids_group.buttonToggled
        )
        self.synthetic = QCheckBox("Contains altered or synthetic content (YouTube's disclosure)")
        form.addRow("", self.synthetic)
        self.tiktok_on = QCheckBox("Post to TikTok")
        self.tiktok_on.setAccessibleName("Post to TikTok")
        form.addRow("", self.tiktok_on)
        self.tiktok = TikTokPostPanel(background, self._creator)
        form.addRow(self.tiktok)
        self.tiktok_note = Note(name="TikTok timing")
        form.addRow(self.tiktok_note)
        self.reels: dict[str, tuple[QCheckBox, QComboBox]] = {}
        for platform, text in (
            ("instagram_reels", "Post to Instagram Reels (from this computer, at its time)"),
            (
                "facebook",
                "Post to Facebook Reels on your Page (public; Facebook publishes on time)",
            ),
        ):
            box, combo = QCheckBox(text), QComboBox()
            box.setAccessibleName(text.split(" (")[0])
            combo.setAccessibleName(f"{text.split(' (')[0].removeprefix('Post to ')} account")
            form.addRow("", box)
            form.addRow(combo.accessibleName().removesuffix(" account").replace(
                " Reels", "") + " account", combo)  # fmt: skip
            box.toggled.connect(lambda *_a: self._enable(self.enabled.isChecked()))
            self.reels[platform] = (box, combo)
        self.approve = QCheckBox("Let me approve each video before it uploads")
        self.approve.setAccessibleName("Approve before upload")
        form.addRow("", self.approve)
        self.quota = Note("#b45309", "Quota")
        form.addRow(self.quota)
        self.error = self.errors.general
        form.addRow(self.error)
        self.enabled.toggled.connect(self._enable)
        self.tiktok_on.toggled.connect(lambda *_a: self._enable(self.enabled.isChecked()))
        self.shorts.toggled.connect(lambda *_a: self._enable(self.enabled.isChecked()))
        self.from_sheet.toggled.connect(lambda *_a: self._enable(self.enabled.isChecked()))
        self.when_group.idToggled.connect(lambda *_a: self._enable(self.enabled.isChecked()))
        self.every.textChanged.connect(self._quota_warning)
        self._enable(False)

    def initializePage(self) -> None:
        self.background.run(self.channels, self._show_channels, self._no_channels)
        self.background.run(self.tiktok_calls[0], self.tiktok.show_accounts, self._no_channels)
        for platform, (_box, combo) in self.reels.items():
            self.background.run(
                partial(self.accounts, platform), partial(self._fill, combo), self._no_channels
            )
        self._quota_warning()

    def _creator(self, open_id: str) -> Any:
        ask = self.tiktok_calls[1]
        if ask is None:
            raise UserError("TikTok cannot be asked from here")
        return ask(open_id)

    def _show_channels(self, found: tuple[list[Any], int]) -> None:
        records, self.daily_uploads = found
        current = self.channel.currentData()
        self.channel.clear()
        for record in records:
            self.channel.addItem(record.label, record.id)
        if current:
            self.channel.setCurrentIndex(max(0, self.channel.findData(current)))
        self.channel_hint.setText(
            "" if records else "No channel yet: add one in Settings › Accounts, then come back."
        )
        self._quota_warning()

    @staticmethod
    def _fill(combo: QComboBox, records: list[Any]) -> None:
        current = combo.currentData()
        combo.clear()
        for record in records:
            combo.addItem(record.label, record.id)
        if current:
            combo.setCurrentIndex(max(0, combo.findData(current)))

    def _no_channels(self, error: BaseException) -> None:
        self.channel_hint.setText(f"Channels could not be read ({error}).")

    def _enable(self, youtube: bool) -> None:
        youtube = youtube or self.shorts.isChecked()  # a Short goes to the YouTube channel
        tiktok = self.tiktok_on.isChecked()
        for box, combo in self.reels.values():
            combo.setEnabled(box.isChecked())
        on = youtube or tiktok or any(box.isChecked() for box, _c in self.reels.values())
        for widget in (self.channel, self.privacy, self.playlist, self.category,
                       self.kids_yes, self.kids_no, self.synthetic):  # fmt: skip
            widget.setEnabled(youtube)
        for widget in (self.at_once, self.at_time, self.spaced, self.approve):
            widget.setEnabled(on)
        self.into_slots.setEnabled(youtube)
        self.publish_at.setEnabled(on and self.at_time.isChecked())
        self.every.setEnabled(on and self.spaced.isChecked())
        self.first.setEnabled(on and self.spaced.isChecked())
        self.tiktok.setVisible(tiktok)
        self.tiktok.set_enabled(tiktok)
        from_here = tiktok or self.reels["instagram_reels"][0].isChecked()
        self.tiktok_note.setText(
            "TikTok and Instagram cannot schedule a post: each goes out from this computer at "
            "its time — Cadence keeps the computer awake while a post is due; one missed while "
            "it slept goes out when it wakes."
            if from_here and not self.at_once.isChecked()
            else ""
        )
        self._quota_warning()

    def videos(self) -> int:
        wizard = self.wizard()
        from app.ui.wizard.dialog import JobWizard  # it holds this page

        report = wizard.source.report if isinstance(wizard, JobWizard) else None
        return len(report.valid_rows) if report else 0

    def _quota_warning(self, *_args: Any) -> None:
        """Warn when the plan uploads more a day than YouTube's quota allows."""
        text = ""
        count = self.videos()
        if self.enabled.isChecked() and count:
            per_day = float(count)
            if self.spaced.isChecked():
                try:
                    per_day = min(count, 86400 / parse_interval(self.every.text()).total_seconds())
                except UserError:
                    per_day = count
            if per_day > self.daily_uploads:
                text = (
                    f"⚠ This plans about {per_day:.0f} uploads a day; YouTube allows "
                    f"{self.daily_uploads} a day by default — the rest wait for the next day."
                )
        self.quota.setText(text)

    def _youtube(self) -> bool:
        return self.enabled.isChecked() or self.shorts.isChecked()

    def destinations(self) -> list[str]:
        chosen = [("youtube", self.enabled), ("youtube_shorts", self.shorts),
                  ("tiktok", self.tiktok_on)]  # fmt: skip
        chosen += [(platform, box) for platform, (box, _combo) in self.reels.items()]
        return [name for name, box in chosen if box.isChecked()]

    def publish(self) -> dict[str, Any]:
        places = self.destinations()
        if not places:
            return {}
        kids = True if self.kids_yes.isChecked() else False if self.kids_no.isChecked() else None
        target = ",".join(places)
        data: dict[str, Any] = {
            "target": f"sheet:{target}" if self.from_sheet.isChecked() else target,
            "channel": (self.channel.currentData() or "") if self._youtube() else "",
            "privacy": self.privacy.currentText(),
            "category": self.category.currentData(),
            "made_for_kids": kids,
            "synthetic_media": self.synthetic.isChecked(),
            "approve": self.approve.isChecked(),
            "timezone": local_zone_name(),
        }
        if self.at_time.isChecked():
            data["publish_at"] = _local(self.publish_at).isoformat()
        elif self.spaced.isChecked():
            data["every"] = self.every.text().strip()
            data["first"] = _local(self.first).isoformat()
        elif self.into_slots.isChecked():
            data["slots"] = True
        if self.playlist.text().strip():
            data["playlist"] = self.playlist.text().strip()
        accounts: dict[str, str] = {}
        if self.tiktok_on.isChecked():
            accounts["tiktok"] = str(self.tiktok.account.currentData() or "")
            data["tiktok"] = self.tiktok.post().to_dict()
        for platform, (box, combo) in self.reels.items():
            if box.isChecked():
                accounts[platform] = str(combo.currentData() or "")
        if accounts:
            data["accounts"] = accounts
        return data

    def validatePage(self) -> bool:
        self.errors.clear()
        data = self.publish()
        if not data:
            return True
        # The window's own words for what the command line asks with flags.
        youtube = self._youtube()
        if youtube and not data["channel"]:
            self.channel_error.setText("Choose a channel — add one in Settings › Accounts first.")
            return False
        if self.tiktok_on.isChecked() and self.tiktok.problem_text():
            self.errors.general.setText(self.tiktok.problem_text())
            return False
        for platform, (box, combo) in self.reels.items():
            if box.isChecked() and not combo.currentData():
                name = (
                    "an Instagram account" if platform == "instagram_reels" else "a Facebook Page"
                )
                self.errors.general.setText(
                    f"Choose {name} — add one in Settings › Accounts first."
                )
                return False
        if youtube and data["made_for_kids"] is None:
            self.kids_error.setText(
                "Answer whether the videos are made for kids — YouTube requires it."
            )
            return False
        try:
            PublishConfig.from_dict(data).checked()
        except DraftError as exc:
            self.errors.show(exc.field, str(exc))
            return False
        now = datetime.now().astimezone()
        for when, edit in ((self.at_time, self.publish_at), (self.spaced, self.first)):
            if when.isChecked() and _local(edit) <= now:
                field_name = "publish at" if edit is self.publish_at else "first"
                self.errors.show(
                    field_name,
                    "The publish time is in the past — pick a later time, "
                    "or choose “As soon as each video is ready”.",
                )
                return False
        return True
