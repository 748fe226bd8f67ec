"""Benchmark: each voice's speed, memory and intelligibility on the demo sheet's sentences.

    .venv/bin/pip install pocketsphinx        # the recogniser (its English model is inside)
    .venv/bin/python -m tests.bench.bench_voice

For each voice — hibari (the default English voice) and espeak-ng — in a process of its own:
how many times faster than real time it speaks (audio seconds per second of synthesis, one
thread), the process's peak memory, and the word error rate of a speech recogniser reading
its audio back (PocketSphinx's bundled US-English model: a small, old recogniser, so the
figures compare voices with each other, not with people).
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from app.domain.sentences import split_sentences
from app.sources.intake import SourceSpec, load_report
from tests.conftest import DEMO

VOICES = ("hibari", "espeak")
SENTENCES = 24


def sentences() -> list[str]:
    rows = [r.idea for r in load_report(SourceSpec(str(DEMO))).rows if r.idea]
    return [s for row in rows for s in split_sentences(row.script_content)][:SENTENCES]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def word_errors(said: list[str], heard: list[str]) -> int:
    """Edits (substitutions, insertions, deletions) from what was said to what was heard."""
    row = list(range(len(heard) + 1))
    for i, word in enumerate(said, 1):
        previous, row = row, [i]
        for j, other in enumerate(heard, 1):
            row.append(min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (word != other)))
    return row[-1]


def recognise(audio: np.ndarray, rate: int) -> list[str] | None:
    try:
        from pocketsphinx import Decoder
    except ImportError:
        return None
    target = 16_000
    index = np.arange(0, len(audio), rate / target)
    resampled = np.interp(index, np.arange(len(audio)), audio)
    pcm = (np.clip(resampled, -1, 1) * 32767).astype("<i2").tobytes()
    decoder = Decoder(samprate=target)
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return words(hypothesis.hypstr) if hypothesis else []


def measure(voice: str) -> dict[str, object]:
    """In this process: one voice over the sentences."""
    from app.domain.idea import Voice
    from app.pipeline.media import read_wav
    from app.pipeline.speech import SpeechSettings, choose_engine

    engine, _warnings = choose_engine(SpeechSettings(engine=voice), Voice.FEMALE, "en")
    name = engine.voice_name(Voice.FEMALE, "")
    texts = sentences()
    spoken = took = 0.0
    errors = total = 0
    heard_any = False
    with tempfile.TemporaryDirectory() as scratch:
        engine.synthesize(texts[0], name, 165, Path(scratch) / "warm.wav")  # loaded once
        for n, text in enumerate(texts):
            out = Path(scratch) / f"{n}.wav"
            began = time.perf_counter()
            engine.synthesize(text, name, 165, out)
            took += time.perf_counter() - began
            samples, rate = read_wav(out)
            mono = samples.mean(axis=1) if samples.ndim > 1 else samples
            spoken += len(mono) / rate
            heard = recognise(mono, rate)
            if heard is not None:
                heard_any = True
                errors += word_errors(words(text), heard)
                total += len(words(text))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "voice": engine.name,
        "x_realtime": round(spoken / took, 1),
        "audio_s": round(spoken, 1),
        "peak_mb": round(peak),
        "wer": round(100 * errors / total, 1) if heard_any and total else None,
    }


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2])))
        return
    print(f"{SENTENCES} sentences of the demo sheet, female voice, 165 words a minute")
    for voice in VOICES:
        found = subprocess.run(
            [sys.executable, "-m", "tests.bench.bench_voice", "--one", voice],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        figures = json.loads(found.stdout.strip().splitlines()[-1])
        wer = f"{figures['wer']} %" if figures["wer"] is not None else "no recogniser installed"
        print(
            f"  {figures['voice']:<10} {figures['x_realtime']:>6}x real time   "
            f"peak {figures['peak_mb']} MB   word error rate {wer}   ({figures['audio_s']} s)"
        )


if __name__ == "__main__":
    main()
