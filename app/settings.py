"""Settings declared once — name, type, default, description — stored in the database.

Secret settings live in the keyring instead (see `app.secrets`) and are never printed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from app import setting_checks as checks
from app.domain.errors import UserError
from app.secrets import SecretStore, masked
from app.setting_checks import SettingError
from app.store.database import Database
from app.store.models import Setting
from app.store.settings import read_setting, set_setting
from app.user_files import checked_path

GENERATED = ("webhook.secret", "api.token")  # secrets Cadence makes itself, on first use


class Kind(StrEnum):
    """What a setting's value is (a StrEnum: it still compares equal to its text)."""

    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    PATH = "path"
    URL = "url"
    CHOICE = "choice"
    SECRET = "secret"  # kept in the keyring, never shown


@dataclass(frozen=True, slots=True)
class Option:
    key: str
    kind: Kind
    default: Any
    description: str
    choices: tuple[str, ...] = ()
    bounds: tuple[float, float] | None = None
    # A path: "file" (a regular file of at most ``max_bytes``) or "folder".
    shape: str = ""
    max_bytes: int = 0
    # Secrets sent to the address this setting holds: it changes only with them given again
    # (or while none is stored) — a new address never receives a stored secret unasked.
    carries: tuple[str, ...] = ()
    # Raises `SettingError` for a value the type allows but Cadence cannot use (and may
    # return the value as it is stored: a category's id for its name).
    check: Callable[[Any], Any] | None = None


OPTIONS: tuple[Option, ...] = (
    Option(
        "speech.engine",
        Kind.CHOICE,
        "auto",
        "Speech engine (auto: a Piper voice when installed, else hibari — the neural English "
        "voice that ships with Cadence — for female and neutral English rows, else the system "
        "voice; endpoint: the speech endpoint below)",
        ("auto", "hibari", "piper", "espeak", "pyttsx3", "endpoint"),
    ),
    Option(
        "speech.endpoint",
        Kind.URL,
        "",
        "An OpenAI-compatible speech API (POST /audio/speech), e.g. https://api.openai.com/v1 "
        "or a local Kokoro server's http://localhost:8880/v1",
        carries=("speech.endpoint_key",),
    ),
    Option("speech.endpoint_model", Kind.TEXT, "tts-1", "The speech endpoint's model"),
    Option(
        "speech.endpoint_voice",
        Kind.TEXT,
        "alloy",
        "The speech endpoint's voice, or one per row voice: female=nova, male=onyx",
    ),
    Option(
        "speech.endpoint_key",
        Kind.SECRET,
        "",
        "API key for the speech endpoint (kept in the keyring)",
    ),
    Option(
        "speech.piper_model",
        Kind.PATH,
        "",
        "A Piper voice model (.onnx) to use besides installed voice packages",
        shape="file",
        max_bytes=1024**3,
    ),
    Option("speech.rate", Kind.INT, 165, "Speaking rate, words per minute", bounds=(80, 400)),
    Option("speech.pause", Kind.FLOAT, 0.35, "Pause between sentences, seconds", bounds=(0, 3)),
    Option(
        "llm.endpoint",
        Kind.URL,
        "",
        "OpenAI-compatible API that writes missing scripts, e.g. http://localhost:11434/v1",
        carries=("llm.api_key",),
    ),
    Option("llm.model", Kind.TEXT, "", "Model name for the script writer, e.g. llama3"),
    Option("llm.api_key", Kind.SECRET, "", "API key for the script writer (kept in the keyring)"),
    Option(
        "webhook.secret",
        Kind.SECRET,
        "",
        "Key that signs job webhooks (made on first use; `settings reveal webhook.secret`)",
    ),
    Option("api.enabled", Kind.BOOL, False, "Serve the local REST API (off until turned on)"),
    Option("api.port", Kind.INT, 8765, "Port of the local REST API", bounds=(1024, 65535)),
    Option(
        "api.host",
        Kind.TEXT,
        "127.0.0.1",
        "Interface the API listens on: 127.0.0.1 (this computer only) unless you mean otherwise",
    ),
    Option(
        "api.cors_origins",
        Kind.TEXT,
        "",
        "Web pages allowed to call the API from a browser, comma-separated (empty: none)",
        check=checks.origins,
    ),
    Option(
        "api.token",
        Kind.SECRET,
        "",
        "Bearer token of the REST API (made on first use; `settings reveal api.token`)",
    ),
    Option("render.style", Kind.TEXT, "modern", "Style for rows that name none"),
    Option(
        "render.assets_dir",
        Kind.PATH,
        "",
        "Folder of images and clips, chosen by their names",
        shape="folder",
    ),
    Option(
        "footage.provider",
        Kind.CHOICE,
        "auto",
        "Pictures behind the narration: auto (Pexels or Pixabay when its key is set, then "
        "pictures that need no key), free (only those), pexels or pixabay (stock footage, your "
        "free API key), local (the assets folder), none (the style's background)",
        ("auto", "free", "pexels", "pixabay", "local", "none"),
    ),
    Option(
        "footage.free",
        Kind.BOOL,
        True,
        "Pictures that need no key — Openverse, Wikimedia Commons, NASA — when stock footage "
        "has none (credited in each video's description)",
    ),
    Option("footage.pexels_key", Kind.SECRET, "", "Pexels API key (kept in the keyring)"),
    Option("footage.pixabay_key", Kind.SECRET, "", "Pixabay API key (kept in the keyring)"),
    Option(
        "footage.cache_mb",
        Kind.INT,
        2000,
        "Size of the downloaded footage cache, MB (least recently used clips go first)",
        bounds=(100, 100_000),
    ),
    Option("render.music", Kind.BOOL, True, "Background music under the narration"),
    Option(
        "render.music_dir",
        Kind.PATH,
        "",
        "Folder of music tracks (empty: the bundled tracks)",
        shape="folder",
    ),
    Option(
        "render.logo",
        Kind.PATH,
        "",
        "Logo image overlaid on every video",
        shape="file",
        max_bytes=20 * 1024**2,
    ),
    Option("render.word_highlight", Kind.BOOL, False, "Highlight each word as it is spoken"),
    Option(
        "render.captions",
        Kind.CHOICE,
        "auto",
        "Captions: auto (pop for vertical videos, sentence for landscape ones), sentence (a "
        "sentence at a time), karaoke (each word lit as it is said), pop (one or two words at a "
        "time, large, centred — the short-form look)",
        ("auto", "sentence", "karaoke", "pop"),
    ),
    Option("render.outro_text", Kind.TEXT, "Thanks for watching", "Text of the closing card"),
    Option("render.hardware_encoding", Kind.BOOL, True, "Use a GPU encoder when one works"),
    Option(
        "output.folder",
        Kind.PATH,
        "",
        "Where job videos go (empty: your Videos folder, in Cadence)",
        shape="folder",
    ),
    Option("engine.max_concurrent", Kind.INT, 1, "How many videos render at once", bounds=(1, 16)),
    Option(
        "render.cluster",
        Kind.TEXT,
        "local",
        "Where videos render: local (this computer), or a Dask scheduler such as "
        "tcp://renderbox:8786 whose workers run `cadence worker`",
        carries=(  # sent with renders
            "llm.api_key",
            "footage.pexels_key",
            "footage.pixabay_key",
            "speech.endpoint_key",
        ),
        check=checks.cluster,
    ),
    Option(
        "render.cluster_needs",
        Kind.TEXT,
        "",
        "What a cluster worker must offer to render a video, e.g. GPU=1 (workers started with "
        "--resources GPU=1; empty: any worker); a job may ask for its own",
        check=checks.needs,
    ),
    Option(
        "render.shared_folder",
        Kind.PATH,
        "",
        "A folder every render computer reaches (a network share; each worker started with "
        "--shared and its own path to it): inputs in it are not sent, and job folders in it "
        "are written by the workers directly",
        shape="folder",
    ),
    Option(
        "storage.target",
        Kind.TEXT,
        "",
        "Also deliver each finished video to object storage: s3://bucket/folder or "
        "gs://bucket/folder (empty: the output folder only; a job may name its own)",
        check=checks.storage,
    ),
    Option(
        "storage.endpoint",
        Kind.URL,
        "",
        "An S3-compatible service's address (MinIO, Cloudflare R2, Backblaze B2…) or a Google "
        "Cloud Storage emulator's; empty: Amazon S3 or Google",
        carries=("storage.key_id", "storage.secret", "storage.gcs_key"),
    ),
    Option("storage.region", Kind.TEXT, "", "The bucket's region, e.g. eu-west-1 (S3 only)"),
    Option("storage.key_id", Kind.SECRET, "", "S3 access key ID (kept in the keyring)"),
    Option("storage.secret", Kind.SECRET, "", "S3 secret access key (kept in the keyring)"),
    Option(
        "storage.gcs_key",
        Kind.SECRET,
        "",
        "Google Cloud Storage: a service account's JSON key, its contents (kept in the keyring)",
        check=checks.gcs_key,
    ),
    Option(
        "notify.quiet",
        Kind.BOOL,
        False,
        "Do not disturb: no desktop notifications (the window and the tray still show all)",
    ),
    Option(
        "history.keep_days",
        Kind.INT,
        90,
        "Attempt history and audit entries are kept this long",
        bounds=(1, 3650),
    ),
    Option(
        "engine.retry_strategy",
        Kind.CHOICE,
        "exponential",
        "How failed renders are retried (crashes and timeouts only)",
        ("none", "fixed", "exponential", "linear"),
    ),
    Option(
        "engine.retry_base_seconds",
        Kind.INT,
        30,
        "First wait before a retry, seconds",
        bounds=(1, 86400),
    ),
    Option(
        "engine.retry_max_seconds",
        Kind.INT,
        900,
        "Longest wait before a retry, seconds",
        bounds=(1, 86400),
    ),
    Option("engine.max_attempts", Kind.INT, 3, "Attempts per item before it fails", bounds=(1, 20)),
    Option(
        "engine.item_timeout_minutes",
        Kind.INT,
        60,
        "A render taking longer is stopped (and retried)",
        bounds=(1, 600),
    ),
    Option(
        "schedule.grace_minutes",
        Kind.INT,
        60,
        "Missed runs younger than this run at start-up; older ones are recorded as missed",
        bounds=(0, 10080),
    ),
    Option(
        "google.client_secrets",
        Kind.PATH,
        "",
        "Your OAuth desktop-client JSON from Google Cloud console, for auth login",
        shape="file",
        max_bytes=1024**2,
    ),
    Option(
        "tiktok.client_key",
        Kind.TEXT,
        "",
        "Your TikTok app's client key (developers.tiktok.com), for accounts add tiktok",
    ),
    Option(
        "meta.app_id",
        Kind.TEXT,
        "",
        "Your Meta app's id (developers.facebook.com), for accounts add instagram",
    ),
    Option(
        "meta.redirect_port",
        Kind.INT,
        8777,
        "The port Facebook's sign-in comes back to: register http://localhost:PORT/callback/ "
        "in your Meta app",
        bounds=(1024, 65535),
    ),
    Option(
        "google.write_back",
        Kind.BOOL,
        False,
        "Write each row's status back to its Google Sheet (default for new jobs)",
    ),
    Option(
        "google.requests_per_user",
        Kind.INT,
        60,
        "Google API requests per minute for the signed-in account",
        bounds=(1, 6000),
    ),
    Option(
        "google.requests_per_project",
        Kind.INT,
        300,
        "Google API requests per minute for the whole app (its Cloud project)",
        bounds=(1, 60000),
    ),
    Option("publish.language", Kind.TEXT, "", "Video language code (empty: from the script)"),
    Option(
        "youtube.max_uploads",
        Kind.INT,
        1,
        "How many videos upload to YouTube at once",
        bounds=(1, 4),
    ),
    Option(
        "youtube.chunk_kb",
        Kind.INT,
        8192,
        "Upload chunk size in KiB (whole 256 KiB units); smaller loses less to a dropped line",
        bounds=(256, 262144),
    ),
    Option(
        "youtube.daily_uploads",
        Kind.INT,
        100,
        "videos.insert calls a Google project may make a day (YouTube's upload bucket)",
        bounds=(1, 100000),
    ),
    Option(
        "youtube.daily_units",
        Kind.INT,
        10000,
        "YouTube API units a Google project may spend a day on everything but uploads",
        bounds=(1, 10000000),
    ),
    Option("youtube.cost_read", Kind.INT, 1, "Units a list call costs", bounds=(0, 10000)),
    Option(
        "youtube.cost_write",
        Kind.INT,
        50,
        "Units thumbnails.set, playlistItems.insert and videos.update each cost",
        bounds=(0, 10000),
    ),
    Option("publish.made_for_kids", Kind.BOOL, False, "Mark videos as made for kids"),
    Option(
        "publish.category_id",
        Kind.TEXT,
        "27",
        "YouTube category id (27 = Education)",
        check=checks.category,
    ),
)
BY_KEY = {o.key: o for o in OPTIONS}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def option(key: str) -> Option:
    if key not in BY_KEY:
        raise SettingError(f"there is no setting {key!r} — `settings list` shows them all")
    return BY_KEY[key]


def parse(opt: Option, text: str) -> Any:
    """The typed value of ``text`` for ``opt``, or a `SettingError` saying what is accepted."""
    value = text.strip()
    converters: dict[Kind, Callable[[str], Any]] = {
        Kind.INT: int,
        Kind.FLOAT: float,
        Kind.TEXT: str,
        Kind.SECRET: str,
        Kind.PATH: str,
        Kind.URL: str,
    }
    if opt.kind == Kind.BOOL:
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise SettingError(f"{opt.key} is true or false, not {text!r}")
    if opt.kind == Kind.CHOICE:
        if value not in opt.choices:
            raise SettingError(f"{opt.key} is one of {', '.join(opt.choices)}, not {text!r}")
        return value
    try:
        typed = converters[opt.kind](value)
    except ValueError:
        raise SettingError(
            f"{opt.key} must be a {'whole ' if opt.kind == Kind.INT else ''}number, not {text!r}"
        ) from None
    if opt.bounds and not opt.bounds[0] <= typed <= opt.bounds[1]:
        raise SettingError(f"{opt.key} must be from {opt.bounds[0]:g} to {opt.bounds[1]:g}")
    if opt.kind == Kind.PATH and typed:
        typed = _path(opt, typed)
    if opt.kind == Kind.URL and typed:
        url = urlparse(typed)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise SettingError(f"{opt.key} must be an http:// or https:// address")
    return typed


def _path(opt: Option, text: str) -> str:
    """A path setting's value: the full path of an existing file or folder of the right
    shape (a file a regular one, not too large: never a device, a pipe or a loop)."""
    try:
        return str(
            checked_path(Path(text), f"{opt.key}:", shape=opt.shape, max_bytes=opt.max_bytes)
        )
    except UserError as exc:
        raise SettingError(str(exc)) from None


class Settings:
    """Typed access to the settings of one workspace."""

    def __init__(
        self,
        database: Database,
        secrets: SecretStore,
        checks: dict[str, Callable[[Any], Any]] | None = None,
        actor: str = "Cadence",
    ) -> None:
        self.db = database
        self.secrets = secrets
        # key → a check that raises `SettingError` for a bad value (and may return the value
        # as it is stored)
        self.checks = checks or {}
        self.actor = actor  # who changes them, for the audit log

    def get(self, key: str) -> Any:
        opt = option(key)
        if opt.kind == Kind.SECRET:
            return self.secrets.get(key) or ""
        return read_setting(self.db, f"option.{key}", opt.default)

    # Typed reads: the option's kind decides, so call sites need no int(...) or bool(...), and
    # asking a text option for a number is a bug that says so.

    def integer(self, key: str) -> int:
        return int(self._typed(key, (Kind.INT,)))

    def number(self, key: str) -> float:
        return float(self._typed(key, (Kind.INT, Kind.FLOAT)))

    def flag(self, key: str) -> bool:
        return bool(self._typed(key, (Kind.BOOL,)))

    def text(self, key: str) -> str:
        """A text, path, URL, choice or secret option ("" when unset)."""
        value = self._typed(key, (Kind.TEXT, Kind.PATH, Kind.URL, Kind.CHOICE, Kind.SECRET))
        return "" if value is None else str(value)

    def _typed(self, key: str, kinds: tuple[Kind, ...]) -> Any:
        kind = option(key).kind
        if kind not in kinds:
            raise TypeError(f"setting {key} is a {kind} option, not {' or '.join(kinds)}")
        return self.get(key)

    def checked(self, key: str, text: str) -> Any:
        """The value ``text`` gives ``key``, parsed and checked, or a `SettingError`."""
        opt = option(key)
        value = parse(opt, text)
        for check in (opt.check, self.checks.get(key)):
            if check is not None and value not in ("", None):
                normal = check(value)
                if normal is not None:  # the check's own spelling (a category's id for its name)
                    value = normal
        return value

    def _refuse_redirects(self, typed: dict[str, Any]) -> None:
        """An address that carries stored secrets (`Option.carries`) changes only with those
        secrets given again in the same change (or while none is stored)."""
        for key, value in typed.items():
            opt = option(key)
            if not opt.carries or (opt.default if value is None else value) == self.get(key):
                continue
            stored = [secret for secret in opt.carries if secret not in typed and self.get(secret)]
            if stored:
                names, them = " and ".join(stored), "them" if len(stored) > 1 else "it"
                raise SettingError(
                    f"{key}: the stored {names} would be sent to {value or 'its default'} — "
                    f"give {names} again with this change, or clear {them} first "
                    f"(settings unset {stored[0]})"
                )

    def set_many(self, values: dict[str, str | None], actor: str | None = None) -> None:
        """Several settings at once (None: back to the default): every value is checked
        before any is stored, and the stored ones change in one transaction, audited."""
        from app.store.jobs import audit

        actor = actor or self.actor
        typed = {k: None if text is None else self.checked(k, text) for k, text in values.items()}
        self._refuse_redirects(typed)
        with self.db.write() as session:
            for key, value in typed.items():
                if option(key).kind == Kind.SECRET:
                    continue
                if value is None:
                    row = session.get(Setting, f"option.{key}")
                    if row is not None:
                        session.delete(row)
                else:
                    set_setting(session, f"option.{key}", value)
            audit(session, actor, "settings.change", "settings", None, keys=sorted(typed))
        for key, value in typed.items():  # the keyring is no database: after the commit
            if option(key).kind == Kind.SECRET:
                if value is None:
                    self.secrets.delete(key)
                else:
                    self.secrets.set(key, value)

    def set(self, key: str, text: str) -> Any:
        """One setting, checked and audited (`set_many`); returns its typed value."""
        self.set_many({key: text})
        return self.get(key)

    def unset(self, key: str) -> None:
        """One setting back to its default, audited."""
        self.set_many({key: None})

    def webhook_secret(self) -> str:
        """This install's webhook signing key, made the first time it is needed."""
        return self.generated("webhook.secret")

    def api_token(self) -> str:
        """This install's REST API token, made the first time it is needed."""
        return self.generated("api.token")

    def generated(self, key: str, *, anew: bool = False) -> str:
        """A key this install makes itself (``GENERATED``): kept in the keyring, made on first
        use — or, with ``anew``, replaced (the old one stops working at once)."""
        if key not in GENERATED:
            raise SettingError(f"{key} is not made by Cadence — set it with settings set")
        secret = "" if anew else self.get(key)
        if not secret:
            secret = secrets.token_urlsafe(32) if key == "api.token" else secrets.token_hex(32)
            self.secrets.set(key, secret)
        return str(secret)

    def shown(self, key: str) -> str:
        """The value as it may be printed (secrets masked)."""
        value = self.get(key)
        if option(key).kind == Kind.SECRET:
            return masked(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)
