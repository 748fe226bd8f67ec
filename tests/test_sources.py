"""Reading CSV and XLSX files: dialects, encodings, ranges, tabs, and unreadable sources."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.validation import Level, Rules
from app.sources.intake import SourceSpec, load_report, read_table
from app.sources.table import SourceError
from tests.conftest import DEMO, HEADER, full_row

WriteCsv = Callable[..., Path]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiter_is_sniffed(write_csv: WriteCsv, delimiter: str) -> None:
    path = write_csv(
        [HEADER, full_row(), full_row(idea_title="Two, with a comma")], delimiter=delimiter
    )
    report = load_report(SourceSpec(str(path)))
    assert [r.title for r in report.rows] == ["Why the sky is blue", "Two, with a comma"]
    assert report.all_valid


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_csv_encodings(write_csv: WriteCsv, encoding: str) -> None:
    title = "Café crème: naïve façades" if encoding != "utf-16" else "日本の夏 — café"
    path = write_csv([HEADER, full_row(idea_title=title)], encoding=encoding)
    report = load_report(SourceSpec(str(path)))
    assert report.rows[0].title == title
    assert report.header_row == 1  # a BOM must not spoil the first header


def test_csv_quoted_newlines_stay_in_one_cell(tmp_path: Path) -> None:
    path = tmp_path / "ideas.csv"
    path.write_text(
        'Title,Script\n"First","Line one.\nLine two, with ""quotes""."\nSecond,Words.\n',
        encoding="utf-8",
    )
    report = load_report(SourceSpec(str(path)))
    assert [r.row for r in report.rows] == [2, 3]
    idea = report.rows[0].idea
    assert idea is not None and idea.script_content == 'Line one.\nLine two, with "quotes".'


def test_empty_rows_are_skipped_and_reported_and_ragged_rows_padded(tmp_path: Path) -> None:
    path = tmp_path / "ideas.csv"
    path.write_text("Title,Script,Priority\nA,Words.\n\n,,\nB,More words.,high,extra\n\n\n")
    table = read_table(SourceSpec(str(path)))
    assert [r.number for r in table.rows] == [1, 2, 5]
    assert table.empty_rows == [3, 4]  # trailing blank lines are the end of the file
    assert {len(r.cells) for r in table.rows} == {4}
    report = load_report(SourceSpec(str(path)))
    assert report.empty_rows == [3, 4]
    assert [r.valid for r in report.rows] == [True, True]


def test_csv_range_selects_rows_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "ideas.csv"
    path.write_text("junk,Title,Script\njunk,A,a\njunk,B,b\njunk,C,c\n")
    report = load_report(SourceSpec(str(path), range="B1:C3"))
    assert [r.title for r in report.rows] == ["A", "B"]
    report = load_report(SourceSpec(str(path), range="B3:C"))  # no header in range: positions
    assert report.header_row is None and [r.title for r in report.rows] == ["B", "C"]


def test_demo_sheet_is_valid_even_at_strict() -> None:
    report = load_report(SourceSpec(str(DEMO)), Rules(level=Level.STRICT))
    assert len(report.rows) >= 6 and report.all_valid


# --- XLSX ------------------------------------------------------------------------------------


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "Notes"
    first.append(["nothing here"])
    ideas = book.create_sheet("Video ideas")
    ideas.append(["Title", "Script", "Duration", "Published"])
    ideas.append(["First", "Words.", 45, datetime(2026, 1, 5, 9, 30)])
    ideas.append([None, None, None, None])
    ideas.append(["Second", "More.", 90.0])
    ideas.append(["Third", "Even more.", "abc"])
    path = tmp_path / "ideas.xlsx"
    book.save(path)
    return path


def test_xlsx_tab_and_types(workbook: Path) -> None:
    report = load_report(SourceSpec(str(workbook), tab="Video ideas"))
    assert [r.title for r in report.rows] == ["First", "Second", "Third"]
    assert [r.row for r in report.rows] == [2, 4, 5]
    assert report.empty_rows == [3]
    durations = [r.idea.duration_seconds for r in report.rows if r.idea]
    assert durations == [45, 90]
    assert report.rows[2].errors[0].cell == "C5"


def test_xlsx_tab_name_is_matched_without_case(workbook: Path) -> None:
    assert read_table(SourceSpec(str(workbook), tab="video IDEAS")).rows


def test_xlsx_unknown_tab_lists_the_tabs(workbook: Path) -> None:
    with pytest.raises(
        SourceError, match="has no tab “Ideas” — its tabs are “Notes”, “Video ideas”"
    ):
        read_table(SourceSpec(str(workbook), tab="Ideas"))


def test_xlsx_range_with_tab_prefix(workbook: Path) -> None:
    report = load_report(SourceSpec(str(workbook), range="'Video ideas'!A1:C4"))
    assert [r.title for r in report.rows] == ["First", "Second"]


def test_xlsx_range_and_tab_must_agree(workbook: Path) -> None:
    with pytest.raises(SourceError, match="give the tab once"):
        read_table(SourceSpec(str(workbook), tab="Notes", range="'Video ideas'!A1:C4"))


def test_first_tab_is_the_default(workbook: Path) -> None:
    table = read_table(SourceSpec(str(workbook)))
    assert table.rows[0].cells == ["nothing here"]


# --- unreadable sources: one line each -------------------------------------------------------


def test_bad_sources(tmp_path: Path, write_csv: WriteCsv) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"\xef\xbb\xbf\n\n  \n")
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 10)
    fake_xlsx = tmp_path / "broken.xlsx"
    fake_xlsx.write_text("not a zip")
    header_only = write_csv([HEADER], name="header.csv")
    cases = {
        str(tmp_path / "missing.csv"): "no such file",
        str(tmp_path): "is a folder",
        str(empty): "is empty",
        str(blank): "is empty",
        str(binary): "holds binary data",
        str(fake_xlsx): "not a readable Excel workbook",
        str(header_only): "has a header row but no idea rows",
        "https://docs.google.com/spreadsheets/d/1abcDEF/edit": "need a workspace to sign in",
    }
    for location, says in cases.items():
        with pytest.raises(SourceError) as caught:
            load_report(SourceSpec(location))
        assert says in str(caught.value), location
        assert "\n" not in str(caught.value)


def test_csv_has_no_tabs(write_csv: WriteCsv) -> None:
    with pytest.raises(SourceError, match="has no tabs"):
        read_table(SourceSpec(str(write_csv([HEADER, full_row()])), tab="Sheet1"))


def test_bad_range_is_a_source_error(write_csv: WriteCsv) -> None:
    with pytest.raises(SourceError, match="A1 notation"):
        read_table(SourceSpec(str(write_csv([HEADER, full_row()])), range="first ten rows"))


def test_unreadable_file(write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv([HEADER, full_row()])

    def refuse(_self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(SourceError, match="permission denied — check that you can open it"):
        read_table(SourceSpec(str(path)))


def test_ten_thousand_rows_validate(tmp_path: Path) -> None:
    from tests.bench.bench_validate import make_csv

    path = tmp_path / "big.csv"
    make_csv(path, 10_000)
    report = load_report(SourceSpec(str(path)))
    assert len(report.valid_rows) == 10_000
    assert [r.row for r in report.rows[:2]] == [2, 3] and report.rows[-1].row == 10_001


def _sniffed(text: str) -> str:
    """The delimiter as `csv.Sniffer` (then the first line) decides — what the quick path
    for a file with one kind of separator must agree with."""
    import csv

    from app.sources.csv_file import _DELIMITERS, _SAMPLE

    sample = text[:_SAMPLE]
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        counts = {d: sample.split("\n", 1)[0].count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


@given(
    st.sampled_from(",;\t|").flatmap(
        lambda d: st.text(alphabet=st.sampled_from(["a", "1", " ", '"', "\n", d]), max_size=80)
    )
    | st.text(alphabet=st.sampled_from(["a", '"', "\n", ",", ";", "\t", "|"]), max_size=80)
)
@settings(max_examples=400, deadline=None)
def test_the_delimiter_is_what_the_sniffer_would_say(text: str) -> None:
    from app.sources.csv_file import sniff_delimiter

    assert sniff_delimiter(text, ".csv") == _sniffed(text)


def _workbook(path: Path, cells: dict[str, str]) -> Path:
    book = openpyxl.Workbook()
    for ref, value in cells.items():
        book.active[ref] = value
    book.save(path)
    return path


def test_a_stray_cell_at_the_sheets_last_corner_costs_nothing(tmp_path: Path) -> None:
    """A cell at XFD1048576 once made the reader pad a billion empty cells (it never
    finished): only the columns an idea sheet can have are read, the ideas come through."""
    cells = {"A1": "idea_title", "B1": "script_content", "A2": "One", "B2": "Words."}
    path = _workbook(tmp_path / "far.xlsx", {**cells, "XFD1048576": "x"})
    table = read_table(SourceSpec(str(path)))
    assert [r.cells for r in table.rows] == [["idea_title", "script_content"], ["One", "Words."]]


def test_cells_past_the_row_budget_are_refused_with_the_reason(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "long.xlsx", {"A1": "idea_title", "A2": "One", "A1048576": "x"})
    with pytest.raises(SourceError) as refused:
        read_table(SourceSpec(str(path)))
    assert str(refused.value) == (
        "long.xlsx, tab “Sheet”, has cells past row 100,000; Cadence reads idea sheets of up "
        "to 100,000 rows — delete the cells below the ideas, or give a range such as A1:J500"
    )
    ranged = read_table(SourceSpec(str(path), range="A1:A2"))  # a range keeps to the ideas
    assert [r.cells for r in ranged.rows] == [["idea_title"], ["One"]]


def test_a_huge_cell_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    """A cell of 70 MB (a few kilobytes zipped): refused from the package's directory,
    before openpyxl reads a byte of it into memory."""
    import zipfile

    source = _workbook(tmp_path / "src.xlsx", {"A1": "idea_title", "A2": "BIGCELL"})
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                before, after = data.split(b"BIGCELL")
                with out.open(info.filename, "w") as fh:
                    fh.write(before)
                    for _ in range(70):
                        fh.write(b"a" * (1 << 20))
                    fh.write(after)
            else:
                out.writestr(info, data)
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(SourceError, match=r"bomb\.xlsx holds 73,40\d,\d{3} bytes of xl/"):
        read_table(SourceSpec(str(path)))


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_saved_without_its_byte_order_mark_is_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "ideas.csv"
    path.write_bytes("idea_title,script_content\nÜber,Wörter hier.\n".encode(encoding))
    table = read_table(SourceSpec(str(path)))
    assert [r.cells for r in table.rows] == [
        ["idea_title", "script_content"],
        ["Über", "Wörter hier."],
    ]


def test_a_file_over_the_size_limit_says_its_real_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.sources import intake

    path = tmp_path / "big.csv"
    path.write_bytes(b"idea_title\n" + b"x" * 1000)
    monkeypatch.setattr(intake, "MAX_SOURCE_BYTES", 1000)
    with pytest.raises(
        SourceError, match=r"big\.csv is 1,011 bytes; Cadence reads idea sheets up to 1,000 bytes"
    ):
        read_table(SourceSpec(str(path)))
