"""Benchmark: how close caption word times are to when words are really said.

    .venv/bin/python -m tests.bench.bench_word_timing            # espeak-ng
    .venv/bin/python -m tests.bench.bench_word_timing --piper    # Piper (the extra installed)

Reference, independent of the engine's own report: each word is synthesised alone (same
voice and rate); the words, one after another, are aligned to the sentence's audio by
dynamic time warping over log spectra (10 ms frames, 24 bands) — forced alignment — and
each word's reference onset is where its first frame lands in the sentence.
Against it: the word times the engine reports (espeak-ng's library, or Piper's phoneme
alignments — what captions use) and the old estimate, which spread the sentence's time over
its words by their length. Prints the mean, 90th percentile and largest error of each, over
the demo sheet's sentences.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from itertools import pairwise
from pathlib import Path

import numpy as np

from app.domain.idea import Voice
from app.domain.sentences import split_sentences
from app.pipeline.media import read_wav
from app.pipeline.piper_voice import Piper, pick_model, piper_models, words_beside
from app.pipeline.speech import Espeak, _loud_bounds
from app.pipeline.word_times import Word, espeak_words
from app.sources.intake import SourceSpec, load_report
from tests.conftest import DEMO

VOICE, RATE = "en-us+f3", 165
FRAME = 0.01  # seconds per envelope frame


class Speaker:
    """One engine, saying a text into a file and reporting its words' times."""

    def __init__(self, piper: bool) -> None:
        self.piper: Piper | None = None
        if piper:
            chosen = pick_model(piper_models(), Voice.NEUTRAL, "en")
            assert chosen is not None, "install the Piper extra: pip install -e '.[piper]'"
            self.piper = Piper(chosen)
        self.name = f"Piper, {self.piper.model.name}" if self.piper else f"espeak-ng, {VOICE}"

    def synth(self, text: str, out: Path) -> np.ndarray:
        if self.piper is not None:
            self.piper.synthesize(text, "", RATE, out)
        else:
            subprocess.run(
                [Espeak().binary, "-v", VOICE, "-s", str(RATE), "-w", str(out), "--stdin"],
                input=text.encode(), check=True, capture_output=True,
            )  # fmt: skip
        samples, _rate = read_wav(out)
        return samples.mean(axis=1) if samples.ndim > 1 else samples

    def words(self, text: str, out: Path) -> list[Word]:
        """The words of ``text`` with their times, as the engine reported them for ``out``."""
        if self.piper is not None:
            kept = words_beside(out)
            assert kept is not None, "Piper reported no word times (its alignment extra?)"
            return kept
        found = espeak_words(text, VOICE, RATE)
        assert found is not None, "libespeak-ng is needed for this benchmark"
        return found[0]


def spectra(samples: np.ndarray, rate: int) -> np.ndarray:
    """Log band energies per 10 ms frame (25 ms windows), 24 bands up to 6 kHz."""
    hop, size = int(FRAME * rate), int(0.025 * rate)
    if len(samples) < size:
        samples = np.pad(samples, (0, size - len(samples)))
    count = 1 + (len(samples) - size) // hop
    window = np.hanning(size)
    frames = np.stack([samples[i * hop : i * hop + size] * window for i in range(count)])
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    edges = np.linspace(0, int(6000 / rate * size), 25).astype(int)
    bands = np.stack([power[:, a : max(b, a + 1)].sum(axis=1) for a, b in pairwise(edges)], 1)
    features = np.log(bands + 1e-9)
    return (features - features.mean(axis=0)) / (features.std(axis=0) + 1e-9)


def align(words: np.ndarray, sentence: np.ndarray) -> np.ndarray:
    """For each frame of ``words`` (the words' frames one after another), the sentence frame
    it aligns to (dynamic time warping, Euclidean cost)."""
    cost = np.linalg.norm(words[:, None, :] - sentence[None, :, :], axis=2)
    n, m = cost.shape
    total = np.full((n + 1, m + 1), np.inf)
    total[0, 0] = 0.0
    for i in range(1, n + 1):
        row, above = total[i], total[i - 1]
        for j in range(1, m + 1):
            row[j] = cost[i - 1, j - 1] + min(above[j - 1], above[j], row[j - 1])
    path = np.zeros(n, dtype=int)
    i, j = n, m
    while i > 0 and j > 0:
        path[i - 1] = j - 1
        step = np.argmin([total[i - 1, j - 1], total[i - 1, j], total[i, j - 1]])
        i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
    return path


def main() -> None:
    speaker = Speaker(piper="--piper" in sys.argv)
    rows = [r.idea for r in load_report(SourceSpec(str(DEMO))).rows if r.idea]
    sentences = [s for row in rows for s in split_sentences(row.script_content)][:12]
    reported_errors, estimated_errors, early = [], [], []
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        for n, sentence in enumerate(sentences):
            audio = speaker.synth(sentence, scratch / f"s{n}.wav")
            rate = 22050
            track = spectra(audio, rate)
            words = speaker.words(sentence, scratch / f"s{n}.wav")
            first, last = _loud_bounds(audio, rate)
            spoken = [(w, sentence[w.start : w.start + w.length]) for w in words]
            weights = [len(text) + 1 for _w, text in spoken]
            at = first / rate
            estimates = []
            for weight in weights:  # the old way: time spread over words by their length
                estimates.append(at)
                at += (last - first) / rate * weight / sum(weights)
            pieces: list[np.ndarray] = []
            firsts: list[int] = []
            for k, (_word, text) in enumerate(spoken):
                alone = speaker.synth(text, scratch / f"s{n}w{k}.wav")
                a, b = _loud_bounds(alone, rate)
                firsts.append(sum(len(p) for p in pieces))
                pieces.append(spectra(alone[a:b], rate))
            path = align(np.concatenate(pieces), track)
            for k, (word, _text) in enumerate(spoken):
                reference = path[firsts[k]] * FRAME
                reported_errors.append(abs(word.seconds - reference))
                early.append(reference - word.seconds)
                estimated_errors.append(abs(estimates[k] - reference))

    def describe(errors: list[float]) -> str:
        ms = sorted(e * 1000 for e in errors)
        p90 = ms[int(len(ms) * 0.9) - 1]
        return f"mean {statistics.mean(ms):5.0f} ms   p90 {p90:5.0f} ms   max {ms[-1]:5.0f} ms"

    print(f"{len(reported_errors)} words in {len(sentences)} sentences ({speaker.name})")
    print(f"  engine-reported word times  {describe(reported_errors)}")
    print(f"    (on average {statistics.mean(early) * 1000:+.0f} ms before the reference onset)")
    print(f"  spread by word length (old) {describe(estimated_errors)}")


if __name__ == "__main__":
    main()
