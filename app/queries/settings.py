"""Settings as the Settings page shows them (never a secret), the render cluster's state, style
names."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from app import setting_checks
from app.domain.errors import UserError
from app.domain.resources import worker_label

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger(__name__)


def style_names(services: Services) -> list[str]:
    from app.pipeline.styles import style_names

    return style_names(services.paths.templates_dir)


def settings_snapshot(services: Services) -> dict[str, Any]:
    from app import autostart

    keys = (
        "engine.max_concurrent",
        "render.cluster",
        "render.cluster_needs",
        "render.shared_folder",
        "output.folder",
        "google.write_back",
        "llm.endpoint",
        "llm.model",
        "api.enabled",
        "api.port",
        "storage.target",
        "storage.endpoint",
        "storage.region",
        "footage.provider",
        "footage.free",
        "render.assets_dir",
        "speech.engine",
        "speech.endpoint",
        "speech.endpoint_model",
        "speech.endpoint_voice",
    )
    values: dict[str, Any] = {key: services.settings.get(key) for key in keys}
    secrets = ("llm.api_key", "storage.key_id", "storage.secret", "storage.gcs_key")
    for secret in (*secrets, "footage.pexels_key", "footage.pixabay_key", "speech.endpoint_key"):
        values[f"{secret}_set"] = bool(services.settings.text(secret))  # never the secret
    values["autostart"] = autostart.enabled()
    values["autostart_supported"] = autostart.supported()
    return values


def cluster_status(services: Services) -> dict[str, Any] | None:
    """The render cluster as the monitor shows it — its workers, what each renders — or
    None when videos render on this computer. One connection, kept while it is used."""
    from app.cluster.executor import ClusterExecutor, ClusterLink

    if services._cluster is None:
        services._cluster = ClusterLink(ClusterExecutor.close)
    cluster = services._cluster.at(str(services.settings.get("render.cluster")))
    if cluster is None:
        return None
    address = cluster.address
    try:
        workers = cluster.workers()
    except UserError as exc:
        return {"address": address, "error": str(exc), "workers": []}
    except Exception as exc:  # the scheduler went away mid-answer: said, not raised
        cluster.close()
        return {"address": address, "error": f"no answer ({exc})", "workers": []}
    return {"address": address, "error": None, "workers": list(workers.values())}


def footage_keys(services: Services) -> tuple[set[str], bool]:
    """Which stock providers have their key set, and whether pictures that need no key may
    stand in (the wizard warns before a choice whose key is missing)."""
    from app.pipeline.footage import PROVIDERS

    keyed = {name for name in PROVIDERS if services.settings.text(f"footage.{name}_key")}
    return keyed, bool(services.settings.flag("footage.free"))


def test_speech(services: Services) -> str:
    """Say one sentence through the saved speech endpoint (Settings' *Test*)."""
    import tempfile
    from pathlib import Path

    from app.domain.idea import Voice
    from app.pipeline.media import read_wav
    from app.pipeline.speech_endpoint import Endpoint
    from app.render_config import speech_endpoint

    endpoint = speech_endpoint(services.settings)
    engine = Endpoint(endpoint)
    voice = endpoint.voice_for(Voice.NEUTRAL)
    with tempfile.TemporaryDirectory(prefix="cadence-speech-") as folder:
        out = Path(folder) / "test.wav"
        engine.synthesize("This is how your videos will sound.", voice, 165, out)
        samples, rate = read_wav(out)
    seconds = samples.shape[0] / rate
    return f"✓ The speech endpoint answered: {seconds:.1f} s of audio in voice “{voice}”."


def test_footage(services: Services, provider: str) -> str:
    """Search a stock footage provider once with the stored key (Settings, the wizard)."""
    from app.pipeline.footage import FREE, FootageUnavailable, check_key

    if provider != "free":
        return check_key(provider, services.settings.text(f"footage.{provider}_key"))
    said, answered = [], False
    for name in FREE:  # each key-free provider, once
        try:
            said.append(check_key(name, ""))
            answered = True
        except FootageUnavailable as exc:
            said.append(str(exc))
    if not answered:  # none of them: a failed test, with each one's reason
        raise FootageUnavailable("; ".join(said))
    return " ".join(said)


def test_cluster(services: Services, address: str) -> str:
    """Connect to a render cluster and say, in a sentence, what it offers (or raise a
    `UserError` saying what is wrong)."""
    from app import __version__
    from app.cluster.executor import ClusterExecutor

    address = address.strip() or "local"
    setting_checks.cluster(address)
    if address == "local":
        return "Videos render on this computer."
    cluster = ClusterExecutor(address)
    try:
        workers = cluster.workers()
    finally:
        cluster.close()
    if not workers:
        return (f"Reached {address}, but no worker is connected — start one with "
                f"`cadence worker {address}` on a computer.")  # fmt: skip
    names = ", ".join(
        worker_label(w) + ("" if w["version_ok"] else f" — Cadence {w['version']}, not used")
        for w in workers.values()
    )
    usable = sum(w["threads"] for w in workers.values() if w["version_ok"])
    return (
        f"{address}: {len(workers)} worker(s) — {names}; {usable} video(s) at a time "
        f"with Cadence {__version__}."
    )


def test_storage(services: Services, address: str) -> str:
    """Write, read back and delete a small file at ``address`` (default: the workspace's
    storage) and say so, or raise a `UserError` saying what is wrong."""
    from app.delivery.objects import check
    from app.domain.storage import parse_target

    address = address.strip() or services.settings.text("storage.target")
    if not address:
        raise UserError(
            "no storage to test — give an address such as s3://my-bucket/videos (or set "
            "storage.target)"
        )
    return check(parse_target(address), services.storage_access())
