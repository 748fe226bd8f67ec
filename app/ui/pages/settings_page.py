"""Settings: appearance, Google account, the accounts videos are published to (YouTube
channels, TikTok accounts), rendering, storage, the local API."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.ui.widgets import PathField
from app.ui.widgets import heading as title

THEMES = ("System", "Light", "Dark")
FOOTAGE_LABELS = (
    ("Stock footage if a key is set, else pictures that need no key", "auto"),
    ("Only pictures that need no key", "free"),
    ("Stock footage from Pexels", "pexels"),
    ("Stock footage from Pixabay", "pixabay"),
    ("Your media folder", "local"),
    ("The style's background only", "none"),
)
SPEECH_LABELS = (
    ("Best installed (the neural voice for English)", "auto"),
    ("hibari — the neural English voice that ships with Cadence", "hibari"),
    ("The speech endpoint below", "endpoint"),
    ("Piper voices you installed", "piper"),
    ("espeak-ng — every language", "espeak"),
    ("The system's voices (Windows, macOS)", "pyttsx3"),
)


class SettingsPage(QWidget):
    # What an operation's `Changes` must touch for this page, when shown, to read again
    # (settings, the account and channels).
    CARES: tuple[str, ...] = ("settings",)
    theme_chosen = Signal(str)
    sign_out = Signal()
    save = Signal(dict)
    add_channel = Signal()
    add_tiktok = Signal()
    add_meta = Signal()
    sign_in = Signal()
    remove_channel = Signal(str)  # the channel's id
    copy_token = Signal()
    new_style = Signal()
    test_cluster = Signal(str)  # the address typed
    test_storage = Signal(str)  # the storage address typed ("" : the saved one)
    test_footage = Signal(str)  # pexels | pixabay | free | speech (the speech endpoint)

    def __init__(self) -> None:
        super().__init__()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroller = QScrollArea()  # more groups than a small window is tall: it scrolls
        self.scroller.setAccessibleName("Settings")
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(self.scroller)
        body = QWidget()
        self.scroller.setWidget(body)
        layout = QVBoxLayout(body)
        heading = title("Settings")
        layout.addWidget(heading)

        look = QGroupBox("Appearance")
        look_form = QFormLayout(look)
        self.theme = QComboBox()
        self.theme.addItems(THEMES)
        self.theme.setAccessibleName("Theme")
        self.theme.currentTextChanged.connect(self.theme_chosen.emit)
        look_form.addRow("Theme", self.theme)
        self.autostart = QCheckBox("Start Cadence when I log in")
        self.autostart.setAccessibleName("Start at login")
        look_form.addRow("", self.autostart)
        layout.addWidget(look)

        google = QGroupBox("Google account")
        google_layout = QHBoxLayout(google)
        self.account = QLabel("Not signed in")
        self.account.setWordWrap(True)
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setAccessibleName("Sign out of Google")
        self.sign_out_button.clicked.connect(self.sign_out.emit)
        self.sign_in_button = QPushButton("Sign in…")
        self.sign_in_button.setAccessibleName("Sign in to Google")
        self.sign_in_button.setToolTip("Your browser asks your Google account for consent")
        self.sign_in_button.clicked.connect(self.sign_in.emit)
        google_layout.addWidget(self.account, 1)
        google_layout.addWidget(self.sign_in_button)
        google_layout.addWidget(self.sign_out_button)
        layout.addWidget(google)

        channels = QGroupBox("Accounts")
        channels_layout = QHBoxLayout(channels)
        self.channels = QListWidget()
        self.channels.setAccessibleName("Accounts videos are published to")
        self.channels.setMaximumHeight(120)
        self.channels.itemSelectionChanged.connect(self._channel_selected)
        channel_buttons = QVBoxLayout()
        self.add_channel_button = QPushButton("Add YouTube channel…")
        self.add_channel_button.setAccessibleName("Add a YouTube channel")
        self.add_channel_button.setToolTip(
            "Sign in with the channel's Google account in your browser"
        )
        self.add_channel_button.clicked.connect(self.add_channel.emit)
        self.add_tiktok_button = QPushButton("Add TikTok account…")
        self.add_tiktok_button.setAccessibleName("Add a TikTok account")
        self.add_tiktok_button.setToolTip(
            "Sign in to TikTok in your browser, with your own TikTok app's client key"
        )
        self.add_tiktok_button.clicked.connect(self.add_tiktok.emit)
        self.add_meta_button = QPushButton("Add Instagram / Facebook…")
        self.add_meta_button.setAccessibleName("Add Instagram and Facebook accounts")
        self.add_meta_button.setToolTip(
            "Sign in to Facebook in your browser: your Pages and the Instagram accounts linked "
            "to them are added"
        )
        self.add_meta_button.clicked.connect(self.add_meta.emit)
        self.remove_channel_button = QPushButton("Remove")
        self.remove_channel_button.setAccessibleName("Remove the selected channel")
        self.remove_channel_button.setEnabled(False)
        self.remove_channel_button.clicked.connect(self._remove_channel)
        channel_buttons.addWidget(self.add_channel_button)
        channel_buttons.addWidget(self.add_tiktok_button)
        channel_buttons.addWidget(self.add_meta_button)
        channel_buttons.addWidget(self.remove_channel_button)
        channel_buttons.addStretch()
        channels_layout.addWidget(self.channels, 1)
        channels_layout.addLayout(channel_buttons)
        layout.addWidget(channels)

        render = QGroupBox("Rendering")
        form = QFormLayout(render)
        self.max_concurrent = QSpinBox()
        self.max_concurrent.setRange(1, 16)
        self.max_concurrent.setAccessibleName("Videos rendered at once")
        form.addRow("Videos rendered at once", self.max_concurrent)
        folder = PathField("Output folder")
        self.output_folder = folder.edit
        form.addRow("Output folder", folder)
        cluster_row = QHBoxLayout()
        self.cluster = QLineEdit()
        self.cluster.setAccessibleName("Render on")
        self.cluster.setPlaceholderText("local — or a Dask scheduler, e.g. tcp://renderbox:8786")
        self.cluster.setToolTip(
            "Your other computers render too: run `cadence worker ADDRESS` on each of them"
        )
        self.test_cluster_button = QPushButton("Test")
        self.test_cluster_button.setAccessibleName("Test the render cluster")
        self.test_cluster_button.clicked.connect(
            lambda: self.test_cluster.emit(self.cluster.text().strip() or "local")
        )
        cluster_row.addWidget(self.cluster, 1)
        cluster_row.addWidget(self.test_cluster_button)
        form.addRow("Render on", cluster_row)
        self.cluster_status = QLabel("")  # what Test found, where the user is looking
        self.cluster_status.setWordWrap(True)
        self.cluster_status.setAccessibleName("Render cluster test result")
        form.addRow("", self.cluster_status)
        self.cluster_needs = QLineEdit()
        self.cluster_needs.setAccessibleName("Workers must offer")
        self.cluster_needs.setPlaceholderText("any worker — or e.g. GPU=1")
        self.cluster_needs.setToolTip(
            "Only workers started with `cadence worker … --resources GPU=1` render (a job may "
            "ask for its own)"
        )
        form.addRow("Workers must offer", self.cluster_needs)
        shared = PathField(
            "Shared folder", placeholder="none — or a network share every worker reaches"
        )
        self.shared_folder = shared.edit
        self.shared_folder.setToolTip(
            "Workers started with --shared (their path to this folder) read inputs from it and "
            "write job folders inside it directly, instead of sending files back"
        )
        form.addRow("Shared folder", shared)
        self.write_back = QCheckBox("Write each row's status back to its Google Sheet")
        form.addRow("", self.write_back)
        self.new_style_button = QPushButton("New style…")
        self.new_style_button.setToolTip(
            "Make a style of your own — colours, caption box, fonts — with a live preview"
        )
        self.new_style_button.clicked.connect(self.new_style.emit)
        form.addRow("Styles", self.new_style_button)
        layout.addWidget(render)
        layout.addWidget(self._pictures_group())
        layout.addWidget(self._storage_group())

        writer = QGroupBox("Script writer (for rows without a script)")
        writer_form = QFormLayout(writer)
        self.llm_endpoint = QLineEdit()
        self.llm_endpoint.setAccessibleName("Script writer address")
        self.llm_endpoint.setPlaceholderText("http://localhost:11434/v1 (an OpenAI-compatible API)")
        writer_form.addRow("Address", self.llm_endpoint)
        self.llm_model = QLineEdit()
        self.llm_model.setAccessibleName("Script writer model")
        self.llm_model.setPlaceholderText("e.g. llama3")
        writer_form.addRow("Model", self.llm_model)
        self.llm_key = QLineEdit()
        self.llm_key.setAccessibleName("Script writer API key")
        self.llm_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.llm_key.setPlaceholderText("(not set; kept in the system keyring)")
        writer_form.addRow("API key", self.llm_key)
        layout.addWidget(writer)
        layout.addWidget(self._api_group())
        buttons = QHBoxLayout()
        buttons.addStretch()
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._save)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        layout.addStretch()
        self.message = QLabel("")
        layout.addWidget(self.message)

    def _pictures_group(self) -> QGroupBox:
        """Where the pictures behind the narration come from — the choice, the key-free
        providers, the stock footage keys (each with Test), the user's own media folder — and
        the voice that reads it, with the speech endpoint."""
        pictures = QGroupBox("Footage and voices")
        form = QFormLayout(pictures)
        self.footage_provider = QComboBox()
        self.footage_provider.setAccessibleName("Pictures behind the narration")
        for label, value in FOOTAGE_LABELS:
            self.footage_provider.addItem(label, value)
        form.addRow("Backgrounds", self.footage_provider)
        self.footage_free = QCheckBox(
            "Pictures that need no key — Openverse, Wikimedia Commons, NASA (credited)"
        )
        self.footage_free.setToolTip(
            "Used when stock footage has nothing for a scene, or when no key is set"
        )
        free_test = QPushButton("Test")
        free_test.setAccessibleName("Test the pictures that need no key")
        free_test.clicked.connect(lambda: self.test_footage.emit("free"))
        row = QHBoxLayout()
        row.addWidget(self.footage_free, 1)
        row.addWidget(free_test)
        form.addRow("", row)
        self.footage_keys: dict[str, QLineEdit] = {}
        for provider, name in (("pexels", "Pexels"), ("pixabay", "Pixabay")):
            field = self._secret_field(f"{name} API key")
            test = QPushButton("Test")
            test.setAccessibleName(f"Test the {name} key")
            test.setToolTip(f"Search {name} once with the saved key")
            test.clicked.connect(lambda _c=False, p=provider: self.test_footage.emit(p))
            key_row = QHBoxLayout()
            key_row.addWidget(field, 1)
            key_row.addWidget(test)
            form.addRow(f"{name} key", key_row)
            self.footage_keys[provider] = field
        self.footage_status = QLabel("")
        self.footage_status.setWordWrap(True)
        self.footage_status.setAccessibleName("Footage test result")
        form.addRow("", self.footage_status)
        self.assets_dir = QLineEdit()
        self.assets_dir.setAccessibleName("Your own media folder")
        self.assets_dir.setPlaceholderText("(none) — a folder of your images and clips")
        form.addRow("Media folder", self.assets_dir)
        self._voice_rows(form)
        return pictures

    def _voice_rows(self, form: QFormLayout) -> None:
        """The speech engine, and the OpenAI-compatible speech endpoint with its Test."""
        self.speech_engine = QComboBox()
        self.speech_engine.setAccessibleName("Voice")
        for label, value in SPEECH_LABELS:
            self.speech_engine.addItem(label, value)
        form.addRow("Voice", self.speech_engine)
        self.speech_endpoint = QLineEdit()
        self.speech_endpoint.setAccessibleName("Speech endpoint address")
        self.speech_endpoint.setPlaceholderText(
            "none — or https://api.openai.com/v1, http://localhost:8880/v1 (Kokoro)"
        )
        test = QPushButton("Test")
        test.setAccessibleName("Test the speech endpoint")
        test.setToolTip("Say one sentence through the saved endpoint, model, voice and key")
        test.clicked.connect(lambda: self.test_footage.emit("speech"))
        self.test_speech_button = test
        row = QHBoxLayout()
        row.addWidget(self.speech_endpoint, 1)
        row.addWidget(test)
        form.addRow("Speech endpoint", row)
        self.speech_model = QLineEdit()
        self.speech_model.setAccessibleName("Speech endpoint model")
        self.speech_model.setPlaceholderText("tts-1 (kokoro for a Kokoro server)")
        form.addRow("Model", self.speech_model)
        self.speech_voice = QLineEdit()
        self.speech_voice.setAccessibleName("Speech endpoint voice")
        self.speech_voice.setPlaceholderText("alloy — or female=nova, male=onyx")
        form.addRow("Endpoint voice", self.speech_voice)
        self.speech_key = self._secret_field("Speech endpoint API key")
        form.addRow("Endpoint key", self.speech_key)
        self.speech_status = QLabel("")
        self.speech_status.setWordWrap(True)
        self.speech_status.setAccessibleName("Speech endpoint test result")
        form.addRow("", self.speech_status)

    def _storage_group(self) -> QGroupBox:
        storage = QGroupBox("Storage (finished videos also go to a bucket)")
        form = QFormLayout(storage)
        row = QHBoxLayout()
        self.storage_target = QLineEdit()
        self.storage_target.setAccessibleName("Storage address")
        self.storage_target.setPlaceholderText(
            "none — or s3://my-bucket/videos, gs://my-bucket/videos"
        )
        self.storage_target.setToolTip(
            "Each finished video, thumbnail, captions and metadata are uploaded here too, "
            "checked, and the address kept with the item. A job may name its own."
        )
        self.test_storage_button = QPushButton("Test")
        self.test_storage_button.setAccessibleName("Test the storage")
        self.test_storage_button.setToolTip(
            "Write, read back and delete a small file there with the saved key"
        )
        self.test_storage_button.clicked.connect(
            lambda: self.test_storage.emit(self.storage_target.text().strip())
        )
        row.addWidget(self.storage_target, 1)
        row.addWidget(self.test_storage_button)
        form.addRow("Address", row)
        self.storage_status = QLabel("")
        self.storage_status.setWordWrap(True)
        self.storage_status.setAccessibleName("Storage test result")
        form.addRow("", self.storage_status)
        self.storage_endpoint = QLineEdit()
        self.storage_endpoint.setAccessibleName("S3-compatible service address")
        self.storage_endpoint.setPlaceholderText(
            "Amazon S3 — or https://… for MinIO, Cloudflare R2, Backblaze B2"
        )
        form.addRow("Service", self.storage_endpoint)
        self.storage_region = QLineEdit()
        self.storage_region.setAccessibleName("Storage region")
        self.storage_region.setPlaceholderText("e.g. eu-west-1 (S3 only; empty: the default)")
        form.addRow("Region", self.storage_region)
        self.storage_key_id = self._secret_field("S3 access key ID")
        form.addRow("Access key ID", self.storage_key_id)
        self.storage_secret = self._secret_field("S3 secret access key")
        form.addRow("Secret key", self.storage_secret)
        self.storage_gcs_key = self._secret_field("Google Cloud service account key")
        self.storage_gcs_key.setToolTip("Paste the whole JSON key file's contents")
        form.addRow("GCS key (JSON)", self.storage_gcs_key)
        return storage

    @staticmethod
    def _secret_field(name: str) -> QLineEdit:
        field = QLineEdit()
        field.setAccessibleName(name)
        field.setEchoMode(QLineEdit.EchoMode.Password)
        return field

    @staticmethod
    def _show_secret(field: QLineEdit, stored: object) -> None:
        """Never the secret: only whether one is kept, typed over to replace it."""
        field.clear()
        field.setPlaceholderText(
            "stored in the keyring — type to replace it"
            if stored
            else "(not set; kept in the system keyring)"
        )

    def secrets_kept(self, saved: dict[str, Any]) -> None:
        """Secrets just saved leave their fields: "stored", not the typed text, shows."""
        for key, field in self._secret_fields():
            if saved.get(key):
                self._show_secret(field, True)

    def _secret_fields(self) -> tuple[tuple[str, QLineEdit], ...]:
        return (
            ("llm.api_key", self.llm_key),
            ("storage.key_id", self.storage_key_id),
            ("storage.secret", self.storage_secret),
            ("storage.gcs_key", self.storage_gcs_key),
            ("footage.pexels_key", self.footage_keys["pexels"]),
            ("footage.pixabay_key", self.footage_keys["pixabay"]),
            ("speech.endpoint_key", self.speech_key),
        )

    def _api_group(self) -> QGroupBox:
        api = QGroupBox("Local API (for n8n, Make, scripts and dashboards)")
        form = QFormLayout(api)
        self.api_enabled = QCheckBox("Serve the local REST API on this computer")
        self.api_enabled.setAccessibleName("Serve the local API")
        form.addRow("", self.api_enabled)
        self.api_port = QSpinBox()
        self.api_port.setRange(1024, 65535)
        self.api_port.setAccessibleName("API port")
        form.addRow("Port", self.api_port)
        self.api_address = QLabel("Off")
        self.api_address.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.api_address.setOpenExternalLinks(True)
        self.api_address.setWordWrap(True)
        form.addRow("Address", self.api_address)
        self.copy_token_button = QPushButton("Copy token")
        self.copy_token_button.setToolTip(
            "Copy the API's bearer token to the clipboard (it is never shown on screen)"
        )
        self.copy_token_button.clicked.connect(self.copy_token.emit)
        token_row = QHBoxLayout()
        token_row.addWidget(self.copy_token_button)
        token_row.addWidget(QLabel("kept in the system keyring; never shown"))
        token_row.addStretch()
        form.addRow("Token", token_row)
        return api

    def show_api(self, address: str | None, problem: str = "") -> None:
        """Where the API answers (a link to its documentation), or why it does not."""
        if problem:
            self.api_address.setText(f"Not serving: {problem}")
        elif address:
            self.api_address.setText(
                f"{address}/api/v1 — <a href='{address}/docs'>documentation</a>"
            )
        else:
            self.api_address.setText("Off — tick the box and Save to serve it")

    def show_values(self, values: dict[str, object], account: str | None) -> None:
        self.max_concurrent.setValue(int(str(values.get("engine.max_concurrent", 1))))
        self.output_folder.setText(str(values.get("output.folder") or ""))
        cluster = str(values.get("render.cluster") or "local")
        self.cluster.setText("" if cluster == "local" else cluster)
        self.cluster_needs.setText(str(values.get("render.cluster_needs") or ""))
        self.shared_folder.setText(str(values.get("render.shared_folder") or ""))
        self.write_back.setChecked(bool(values.get("google.write_back")))
        self.autostart.setChecked(bool(values.get("autostart")))
        self.autostart.setEnabled(bool(values.get("autostart_supported", True)))
        self.account.setText(account or "Not signed in — Sign in… to read Google Sheets.")
        self.sign_out_button.setEnabled(account is not None)
        self.sign_in_button.setEnabled(account is None)
        self.api_enabled.setChecked(bool(values.get("api.enabled")))
        self.api_port.setValue(int(str(values.get("api.port") or 8765)))
        self.llm_endpoint.setText(str(values.get("llm.endpoint") or ""))
        self.llm_model.setText(str(values.get("llm.model") or ""))
        self.storage_target.setText(str(values.get("storage.target") or ""))
        self.storage_endpoint.setText(str(values.get("storage.endpoint") or ""))
        self.storage_region.setText(str(values.get("storage.region") or ""))
        chosen = self.footage_provider.findData(str(values.get("footage.provider") or "auto"))
        self.footage_provider.setCurrentIndex(max(chosen, 0))
        self.footage_free.setChecked(bool(values.get("footage.free", True)))
        self.assets_dir.setText(str(values.get("render.assets_dir") or ""))
        engine = self.speech_engine.findData(str(values.get("speech.engine") or "auto"))
        self.speech_engine.setCurrentIndex(max(engine, 0))
        self.speech_endpoint.setText(str(values.get("speech.endpoint") or ""))
        self.speech_model.setText(str(values.get("speech.endpoint_model") or ""))
        self.speech_voice.setText(str(values.get("speech.endpoint_voice") or ""))
        for key, field in self._secret_fields():
            self._show_secret(field, values.get(f"{key}_set"))

    def show_channels(self, records: list[Any]) -> None:
        self.channels.clear()
        from app.domain.publishing import platform_name

        for record in records:
            platform = getattr(record, "platform", "youtube")
            text = f"{platform_name(platform)} · {record.label}"
            if record.hold:
                text += f" — on hold: {record.hold}"
            elif record.waiting:
                text += f" — {record.waiting} post{'s' if record.waiting != 1 else ''} planned"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, record.id)
            item.setToolTip(f"{platform_name(platform)} account id {record.id}")
            self.channels.addItem(item)
        if not records:
            self.channels.addItem("No account yet — Add… signs one in through your browser.")
        self._channel_selected()

    def selected_channel(self) -> str | None:
        items = self.channels.selectedItems()
        value = items[0].data(Qt.ItemDataRole.UserRole) if items else None
        return str(value) if value else None

    def _channel_selected(self) -> None:
        self.remove_channel_button.setEnabled(self.selected_channel() is not None)

    def _remove_channel(self) -> None:
        channel = self.selected_channel()
        if channel:
            self.remove_channel.emit(channel)

    def _save(self) -> None:
        self.save.emit(
            {
                "engine.max_concurrent": self.max_concurrent.value(),
                "output.folder": self.output_folder.text().strip(),
                "render.cluster": self.cluster.text().strip() or "local",
                "render.cluster_needs": self.cluster_needs.text().strip(),
                "render.shared_folder": self.shared_folder.text().strip(),
                "google.write_back": self.write_back.isChecked(),
                "autostart": self.autostart.isChecked(),
                "llm.endpoint": self.llm_endpoint.text().strip(),
                "llm.model": self.llm_model.text().strip(),
                "api.enabled": self.api_enabled.isChecked(),
                "api.port": self.api_port.value(),
                "storage.target": self.storage_target.text().strip(),
                "storage.endpoint": self.storage_endpoint.text().strip(),
                "storage.region": self.storage_region.text().strip(),
                "footage.provider": self.footage_provider.currentData(),
                "footage.free": self.footage_free.isChecked(),
                "render.assets_dir": self.assets_dir.text().strip(),
                "speech.engine": self.speech_engine.currentData(),
                "speech.endpoint": self.speech_endpoint.text().strip(),
                "speech.endpoint_model": self.speech_model.text().strip() or "tts-1",
                "speech.endpoint_voice": self.speech_voice.text().strip() or "alloy",
                **{
                    key: field.text().strip()
                    for key, field in self._secret_fields()
                    if field.text().strip()  # typed: replaces the kept one
                },
            }
        )
