"""Split narration into sentences: one caption and one synthesis call per sentence.

Handles abbreviations ("Dr.", "e.g."), numbers ("3.14", "1,000.5"), ellipses, closing quotes
and brackets after the full stop, and the full stops of other scripts (。！？ । ؟ ۔ ።).
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
        "approx",
        "dept",
        "est",
        "fig",
        "inc",
        "ltd",
        "co",
        "corp",
        "no",
        "vol",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mt",
        "ft",
        "u.s",
        "u.k",
        "cf",
        "al",
    ]
)
_TERMINATORS = ".!?…。！？।॥؟۔።"
_CLOSERS = "\"'”’»)]}」』"
# A candidate end: terminators, then any closing quotes/brackets, then space or end of text.
_END = re.compile(rf"[{re.escape(_TERMINATORS)}]+[{re.escape(_CLOSERS)}]*(?=\s|$)")
_CJK_END = re.compile(r"[。！？]+[」』”’）)]*")


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the '.' at ``dot`` ends an abbreviation or an initial rather than a sentence."""
    start = dot
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot].lower()
    if word in ABBREVIATIONS:
        return True
    return len(word) == 1 and word.isalpha() and text[start:dot].isupper()  # "J. K. Rowling"


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` in order, whitespace-normalised; never an empty string."""
    text = " ".join(text.split())
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end()
        stop = match.group()
        if stop.startswith(".") and len(stop.rstrip(_CLOSERS)) == 1:
            if _is_abbreviation(text, match.start()):
                continue
            following = text[end:].lstrip()
            if following[:1].islower():  # "approx. three" — not a sentence start
                continue
        piece = text[start:end].strip()
        if piece:
            sentences.append(piece)
        start = end
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    # CJK text has no spaces after its full stops: split those inside each piece as well.
    result: list[str] = []
    for sentence in sentences:
        cut = 0
        for match in _CJK_END.finditer(sentence):
            if match.end() < len(sentence):
                result.append(sentence[cut : match.end()].strip())
                cut = match.end()
        result.append(sentence[cut:].strip())
    return [s for s in result if s]
