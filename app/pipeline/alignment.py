"""Forced alignment of words to the sentence they were said in, for voices that report no word
times of their own: each word is said alone by the same voice, the words one after another
are aligned to the sentence's audio by dynamic time warping over log spectra (10 ms frames,
24 bands up to 6 kHz), and a word starts where its first frame lands in the sentence."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np

from app.pipeline.media import read_wav
from app.pipeline.word_times import Word

FRAME = 0.01  # seconds per frame


def spectra(samples: np.ndarray, rate: int) -> np.ndarray:
    """Log band energies per 10 ms frame (25 ms windows), 24 bands up to 6 kHz, normalised."""
    hop, size = int(FRAME * rate), int(0.025 * rate)
    samples = np.asarray(samples, dtype=np.float64)
    if len(samples) < size:
        samples = np.pad(samples, (0, size - len(samples)))
    count = 1 + (len(samples) - size) // hop
    window = np.hanning(size)
    index = np.arange(size)[None, :] + hop * np.arange(count)[:, None]
    power = np.abs(np.fft.rfft(samples[index] * window, axis=1)) ** 2
    edges = np.linspace(0, int(6000 / rate * size), 25).astype(int)
    bands = np.stack([power[:, a : max(b, a + 1)].sum(axis=1) for a, b in pairwise(edges)], 1)
    features = np.log(bands + 1e-9)
    return (features - features.mean(axis=0)) / (features.std(axis=0) + 1e-9)


def align(words: np.ndarray, sentence: np.ndarray) -> np.ndarray:
    """For each frame of ``words`` (the words' frames one after another), the sentence frame
    it aligns to — dynamic time warping with Euclidean cost, each row computed at once: a
    row's running minimum along the sentence is a cumulative sum plus a running minimum."""
    # Euclidean distances from |a|² + |b|² − 2a·b: (n, m) floats, never (n, m, bands).
    squares = (words**2).sum(axis=1)[:, None] + (sentence**2).sum(axis=1)[None, :]
    cost = np.sqrt(np.maximum(squares - 2.0 * words @ sentence.T, 0.0))
    n, m = cost.shape
    total = np.full((n + 1, m + 1), np.inf)
    total[0, 0] = 0.0
    for i in range(1, n + 1):
        above = total[i - 1]
        from_above = np.minimum(above[:-1], above[1:])  # diagonal or straight down
        row_cost = cost[i - 1]
        running = np.cumsum(row_cost)
        before = np.concatenate(([0.0], running[:-1]))
        # total[i, j] = min over k ≤ j of (from_above[k] + cost[k..j]): a running minimum.
        total[i, 1:] = running + np.minimum.accumulate(from_above - before)
    path = np.zeros(n, dtype=int)
    i, j = n, m
    while i > 0 and j > 0:
        path[i - 1] = j - 1
        step = np.argmin((total[i - 1, j - 1], total[i - 1, j], total[i, j - 1]))
        i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
    return path


def word_onsets(sentence: np.ndarray, words: Sequence[np.ndarray], rate: int) -> list[float]:
    """When each word (said alone, its silence trimmed) starts in ``sentence``, in seconds."""
    track = spectra(sentence, rate)
    pieces = [spectra(word, rate) for word in words]
    firsts = np.cumsum([0, *[len(p) for p in pieces[:-1]]])
    path = align(np.concatenate(pieces), track)
    onsets = [float(path[first] * FRAME) for first in firsts]
    for k in range(1, len(onsets)):  # in order: a word never starts before the one before it
        onsets[k] = max(onsets[k], onsets[k - 1])
    return onsets


def aligned_words(
    sentence: str, audio: Path, said_alone: Callable[[str], np.ndarray]
) -> tuple[list[Word], float]:
    """The sentence's words and when each starts in ``audio`` (a WAV at the rate the words
    said alone are at), and the audio's length in seconds."""
    samples, rate = read_wav(audio)
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", sentence)]
    onsets = word_onsets(samples, [said_alone(sentence[a:b]) for a, b in spans], rate)
    found = [Word(a, b - a, at) for (a, b), at in zip(spans, onsets, strict=True)]
    return found, samples.size / rate
