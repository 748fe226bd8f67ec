"""``voices``: the voices this machine can narrate with, and which rows each would speak."""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

from app.paths import AppPaths
from app.pipeline.piper_voice import installed, piper_models
from app.pipeline.speech import hibari_installed
from app.services import Services


def add_parser(commands: Any) -> None:
    voices = commands.add_parser("voices", help="list the voices narration can use")
    voices.set_defaults(handler=cmd_voices)


def cmd_voices(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        engine = workspace.settings.text("speech.engine")
        chosen = workspace.settings.text("speech.piper_model")
    models = piper_models(Path(chosen) if chosen else None, paths.voices_dir)
    system = "espeak-ng" if sys.platform.startswith("linux") else "the system voice (pyttsx3)"
    print(f"speech.engine: {engine}")
    if hibari_installed():
        print("hibari (neural, English, female — ships with Cadence): installed")
    else:
        print("hibari (neural, English): not installed — bash packaging/setup.sh run installs it")
    if not installed():
        print("Piper (neural voices): not installed — .venv/bin/pip install -e '.[piper]'")
    elif not models:
        print("Piper (neural voices): installed, but no voice found")
    else:
        print("Piper (neural voices):")
        for model in models:
            language = model.language or "any"
            print(f"  {model.name:<28} {language:<4} {model.gender.value:<8} {model.path}")
    neural = hibari_installed() and engine == "auto"
    if engine in ("auto", "piper") and models:
        also = ", female and neutral English rows by hibari" if neural else ""
        print(f"Rows no Piper voice fits (language, or gender) are spoken by {system}{also}.")
    elif neural:
        print(f"Female and neutral English rows are spoken by hibari; the rest by {system}.")
    elif engine == "hibari":
        print("Every row is spoken by hibari.")
    else:
        print(f"Every row is spoken by {system}.")
    print(f"More Piper voices: put NAME.onnx with its NAME.onnx.json in {paths.voices_dir}")
    return 0
