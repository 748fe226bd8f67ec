"""The README's frames, from real renders of the demo sheet with no keys: the providers'
loopback fakes serve public-domain and CC0 sample photographs (`bench_look`), since this
machine has no internet; one row is rendered with every provider down.

    .venv/bin/python -m tests.bench.readme_frames docs/screenshots
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from PIL import Image

from app.domain.output import Optimize, OutputConfig, Resolution
from app.sources.intake import SourceSpec, load_report
from tests import fake_pictures
from tests.bench.bench_look import frame_at, render, sample_photos, serve_pictures
from tests.conftest import DEMO

WIDTH = 640  # as the README shows them


def save(frame: Image.Image, path: Path) -> None:
    small = frame.resize(
        (WIDTH, round(frame.height * WIDTH / frame.width)), Image.Resampling.LANCZOS
    )
    small.save(path, optimize=True)
    print(path)


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    serve_pictures(sample_photos())
    ideas = {r.idea.idea_title: r.idea for r in load_report(SourceSpec(str(DEMO))).rows if r.idea}
    wide = OutputConfig(resolution=Resolution.FULL_HD, optimize=Optimize.SPEED)
    tall = OutputConfig(resolution=Resolution.FULL_HD, optimize=Optimize.SPEED, vertical=True)
    with tempfile.TemporaryDirectory() as scratch_dir, fake_pictures.serve() as fake:
        scratch = Path(scratch_dir)
        os.environ["CADENCE_BENCH_PICTURES"] = fake.base_url
        for provider in ("openverse", "commons", "nasa"):
            os.environ[f"CADENCE_{provider.upper()}_ENDPOINT"] = f"{fake.base_url}/{provider}"
        hole = ideas["What is a black hole?"]
        result, _took, _memory = render(hole, wide, scratch / "hole")
        video = Path(result["video"])
        save(Image.fromarray(frame_at(video, 1.0, wide.size)), out / "render-frame-hook.png")
        save(Image.fromarray(frame_at(video, 9.5, wide.size)), out / "render-frame-modern.png")
        with Image.open(result["thumbnail"]) as thumbnail:
            save(thumbnail.convert("RGB"), out / "render-thumbnail.png")
        cats = ideas["Why cats purr"]
        result, _took, _memory = render(cats, tall, scratch / "cats")
        frame = Image.fromarray(frame_at(Path(result["video"]), 6.2, tall.size))
        save(frame, out / "render-frame-vertical.png")
        fake.down.update({"openverse", "commons", "nasa"})  # the network down: nothing fits
        calm = ideas["Three habits of calm people"]
        result, _took, _memory = render(calm, wide, scratch / "calm")
        frame = Image.fromarray(frame_at(Path(result["video"]), 8.0, wide.size))
        save(frame, out / "render-frame-offline.png")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
