"""Render settings from the user's settings, with per-run overrides (CLI flags, job options)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from app.domain.errors import UserError
from app.domain.output import OutputConfig
from app.paths import MUSIC_DIR, AppPaths
from app.pipeline.footage import CHOICES, FREE, PROVIDERS, FootageSettings
from app.pipeline.render import RenderSettings
from app.pipeline.script import LLMSettings
from app.pipeline.speech import SpeechEndpoint, SpeechSettings
from app.pipeline.visuals import VisualSettings
from app.settings import Settings


def _path(value: Any) -> Path | None:
    return Path(value) if value else None


def render_settings(
    settings: Settings,
    paths: AppPaths,
    output: OutputConfig | None = None,
    **overrides: Any,
) -> RenderSettings:
    """Everything a render needs; keyword overrides win over stored settings."""

    def pick(name: str, key: str) -> Any:
        return overrides[name] if overrides.get(name) not in (None, "") else settings.get(key)

    llm = None
    if settings.get("llm.endpoint") and settings.get("llm.model"):
        llm = LLMSettings(
            endpoint=settings.get("llm.endpoint"),
            model=settings.get("llm.model"),
            api_key=settings.get("llm.api_key"),
        )
    music_dir = None
    if settings.get("render.music"):
        music_dir = _path(pick("music_dir", "render.music_dir")) or MUSIC_DIR
    provider = str(pick("footage", "footage.provider"))
    if provider not in CHOICES:
        raise UserError(f"footage {provider!r} is not one of {', '.join(CHOICES)}")
    footage = FootageSettings(
        provider=provider,
        api_key=settings.text(f"footage.{provider}_key") if provider in PROVIDERS else "",
        cache_dir=paths.cache_dir / "footage",
        cache_mb=settings.integer("footage.cache_mb"),
        chain=footage_chain(provider, settings),
    )
    visuals = VisualSettings(
        # "none": the style's background only; otherwise the assets folder is the fallback
        assets_dir=None if provider == "none" else _path(pick("assets_dir", "render.assets_dir")),
        music_dir=music_dir,
        logo=_path(pick("logo", "render.logo")),
        outro_text=settings.get("render.outro_text"),
        word_highlight=bool(
            overrides.get("word_highlight") or settings.get("render.word_highlight")
        ),
        captions=str(pick("captions", "render.captions")),
    )
    base = RenderSettings()
    return replace(
        base,
        output=output or base.output,
        style=overrides.get("style") or "",
        speech=SpeechSettings(
            rate_wpm=settings.get("speech.rate"),
            pause_seconds=settings.get("speech.pause"),
            engine=settings.get("speech.engine"),
            piper_model=_path(settings.get("speech.piper_model")),
            voices_dir=paths.voices_dir,
            endpoint=speech_endpoint(settings),
        ),
        visuals=visuals,
        footage=footage,
        llm=llm,
        template_dir=paths.templates_dir,
        hardware_encoding=settings.get("render.hardware_encoding"),
        encoder_cache=paths.cache_dir / "encoders.json",
        language=settings.get("publish.language"),
        made_for_kids=settings.get("publish.made_for_kids"),
        category_id=settings.get("publish.category_id"),
        overwrite=bool(overrides.get("overwrite")),
        default_style=settings.get("render.style"),
    )


def speech_endpoint(settings: Settings) -> SpeechEndpoint:
    """The speech endpoint as the settings name it (its key from the keyring)."""
    return SpeechEndpoint(
        url=settings.get("speech.endpoint"),
        model=settings.get("speech.endpoint_model"),
        voice=settings.get("speech.endpoint_voice"),
        key=settings.text("speech.endpoint_key"),
    )


def footage_chain(provider: str, settings: Settings) -> tuple[tuple[str, str], ...]:
    """The providers a render asks, in order: the chosen stock provider (auto: each whose key
    is set), then — unless turned off — the pictures that need no key."""
    free = tuple((name, "") for name in FREE)
    keyed = tuple((name, settings.text(f"footage.{name}_key")) for name in PROVIDERS)
    if provider == "free":
        return free
    also = free if settings.flag("footage.free") else ()
    if provider == "auto":
        return tuple((name, key) for name, key in keyed if key) + also
    if provider in PROVIDERS:
        return ((provider, settings.text(f"footage.{provider}_key")), *also)
    return ()
