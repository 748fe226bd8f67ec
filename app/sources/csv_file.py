"""CSV (and TSV) files: encoding and delimiter sniffed, quoted newlines kept."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from charset_normalizer import from_bytes

from app.domain.a1 import A1Range
from app.sources.table import SheetTable, SourceError, build_table

_DELIMITERS = ",;\t|"
_SAMPLE = 64 * 1024
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

csv.field_size_limit(16 * 1024 * 1024)  # scripts can be long; the default (128 KiB) is not


def decode(data: bytes, name: str) -> str:
    """Text from bytes: BOM first, then UTF-8, then the most likely legacy encoding."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise SourceError(
                    f"{name} starts like {encoding} text but is not — save it again as UTF-8 CSV"
                ) from exc
    if b"\x00" in data[:_SAMPLE]:
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return utf16
        raise SourceError(
            f"{name} is not a CSV file (it holds binary data) — export the sheet as CSV or XLSX"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[: 4 * _SAMPLE]).best()
    if best is None or best.encoding is None:
        raise SourceError(f"{name} is not readable text — save it again as UTF-8 CSV")
    try:
        return data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"{name} mixes text encodings — save it again as UTF-8 CSV") from exc


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 saved without its byte-order mark (some Windows tools do): text whose every
    other byte is zero in mostly-Latin writing. None when it is not that."""
    sample = data[: _SAMPLE - _SAMPLE % 2]
    halves = sample[0::2], sample[1::2]
    zeros = [half.count(0) / max(len(half), 1) for half in halves]
    for encoding, (high, low) in (("utf-16-le", (zeros[1], zeros[0])),
                                  ("utf-16-be", (zeros[0], zeros[1]))):  # fmt: skip
        if high >= 0.3 and low <= 0.02:
            try:
                text = data[: len(data) - len(data) % 2].decode(encoding)
            except UnicodeDecodeError:
                return None
            return None if "\x00" in text else text
    return None


def sniff_delimiter(text: str, suffix: str) -> str:
    """The field separator; the extension decides when the content cannot.

    Only the delimiter is sniffed: spreadsheet exports always quote the Excel way, and the
    sniffer's guesses about quoting are wrong often enough to mangle ``""`` escapes.
    """
    if suffix == ".tsv":
        return "\t"
    sample = text[:_SAMPLE]
    present = [d for d in _DELIMITERS if d in sample]
    if not present:
        return ","
    if len(present) == 1 and present[0] in sample.split("\n", 1)[0]:
        return present[0]  # what the sniffer (or, when it gives up, the first line) would say
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        first_line = sample.split("\n", 1)[0]
        counts = {d: first_line.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def read_csv(path: Path, area: A1Range | None = None) -> SheetTable:
    name = path.name
    data = path.read_bytes()
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise SourceError(f"{name} is empty — add a header row and one row per video idea")
    text = decode(data, name)
    delimiter = sniff_delimiter(text, path.suffix.lower())
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter)
    try:
        grid = list(reader)
    except csv.Error as exc:
        raise SourceError(f"{name} line {reader.line_num}: {exc} — fix the quoting there") from exc
    return build_table(name, grid, area)
