"""The window's sentences that depend on what they are about: counts, questions, formats."""

from __future__ import annotations

from pathlib import Path


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def export_format(path: str, chosen_filter: str) -> str:
    """The format the typed extension asks for; the chosen filter only when it names none."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in ("json", "csv", "yaml"):
        return suffix
    if suffix == "yml":
        return "yaml"
    return "csv" if "CSV" in chosen_filter else "yaml" if "YAML" in chosen_filter else "json"


def confirm_text(action: str, titles: list[str]) -> str:
    """The question a destructive action asks first, worded for one job or several."""
    if len(titles) == 1:
        if action == "cancel":
            return f"Cancel “{titles[0]}”? Its items not yet rendered will not be rendered."
        return f"Delete “{titles[0]}” and its history? Its videos stay in their folder."
    if action == "cancel":
        return f"Cancel {len(titles)} jobs? Items not yet rendered will not be rendered."
    return f"Delete {len(titles)} jobs and their history? The videos stay in their folders."


def no_tray_text(busy: int) -> str:
    """What closing the window means on a desktop without a system tray."""
    making = (
        f" {plural(busy, 'video')} {'is' if busy == 1 else 'are'} being made: an encode that is "
        "nearly done finishes first, anything else starts again when Cadence next opens."
        if busy
        else ""
    )
    return (
        "This desktop has no system tray for Cadence to keep running in, so closing the window "
        "quits it: scheduled jobs and publishing wait until you open Cadence again." + making
    )
