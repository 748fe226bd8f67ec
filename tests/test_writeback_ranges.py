"""Write-back never touches a user's cell: ranges without a header row, ragged rows, offset
ranges and cells beside the range, against the loopback Sheets API."""

from __future__ import annotations

from typing import Any

import pytest

from app import ops, queries
from app.domain.errors import DraftError
from app.google.writeback import HEADERS, WriteBack
from app.ops.jobs import JobRequest
from app.services import Services
from app.sources.intake import SourceSpec
from tests.conftest import full_row
from tests.fake_google import Google
from tests.test_google_sheets import SHEET, URL, sign_in_user


def idea(n: int, width: int = 10) -> list[Any]:
    return full_row(idea_title=f"Idea {n}", priority="normal")[:width]


def snapshot(google: Google) -> list[list[Any]]:
    return [list(r) for r in google.spreadsheets[SHEET].tabs[0].rows]


def changed_cells(before: list[list[Any]], after: list[list[Any]]) -> set[tuple[int, int]]:
    """(row, column), 1-based, of every cell whose value differs."""
    cells = set()
    for r in range(max(len(before), len(after))):
        old = before[r] if r < len(before) else []
        new = after[r] if r < len(after) else []
        for c in range(max(len(old), len(new))):
            a = old[c] if c < len(old) else ""
            b = new[c] if c < len(new) else ""
            if (a or "") != (b or ""):
                cells.add((r + 1, c + 1))
    return cells


def flush(workspace: Services) -> int:
    return WriteBack(workspace.db, workspace.sheets).flush()


def test_a_range_without_a_header_gets_titles_in_the_empty_row_above(
    google: Google, workspace: Services
) -> None:
    sign_in_user(workspace)
    rows: list[list[Any]] = [
        [],  # row 1: empty, above the range
        idea(2, width=7),  # ragged: ends at G
        [*idea(3), "", "a note of the user's in L"],  # beside the range
        idea(4),
    ]
    google.add(SHEET, {"Ideas": rows}, column_count=12)
    before = snapshot(google)
    created = ops.jobs.create_job(
        workspace, JobRequest.of(SourceSpec(URL, range="A2:J"), write_back=True)
    )
    assert created.item_count == 3
    assert flush(workspace) == 3
    after = snapshot(google)
    # Titles in row 1, statuses in the four columns after L (the last used by any row).
    assert after[0][12:16] == list(HEADERS)
    allowed = {(r, c) for r in (1, 2, 3, 4) for c in (13, 14, 15, 16)}
    assert changed_cells(before, after) <= allowed
    assert [after[r][12] for r in (1, 2, 3)] == ["queued"] * 3
    assert after[2][11] == "a note of the user's in L"


def test_a_headerless_range_from_row_1_is_refused_for_write_back(
    google: Google, workspace: Services
) -> None:
    sign_in_user(workspace)
    google.add(SHEET, {"Ideas": [idea(1), idea(2)]}, column_count=10)
    with pytest.raises(DraftError, match="needs a header row: the range starts at row 1"):
        ops.jobs.create_job(workspace, JobRequest.of(SourceSpec(URL), write_back=True))
    assert queries.jobs.jobs(workspace) == []  # nothing stored
    created = ops.jobs.create_job(
        workspace, JobRequest.of(SourceSpec(URL), write_back=False)
    )  # without it: fine
    assert created.item_count == 2


def test_a_headerless_range_under_a_used_row_is_refused(
    google: Google, workspace: Services
) -> None:
    sign_in_user(workspace)
    rows: list[list[Any]] = [["Notes", "not a header"], [], [], idea(4)]
    google.add(SHEET, {"Ideas": rows}, column_count=10)
    # Row 3 empty inside the range, the idea in row 4: the titles may go in row 2, above the
    # range, because it is empty; with the range from row 2, row 1 above it is not.
    created = ops.jobs.create_job(
        workspace, JobRequest.of(SourceSpec(URL, range="A3:J4"), write_back=True)
    )
    before = snapshot(google)
    flush(workspace)
    after = snapshot(google)
    assert after[1][10:14] == list(HEADERS)  # in row 2, the empty row above the range
    assert changed_cells(before, after) <= {(r, c) for r in (2, 4) for c in range(11, 15)}
    assert created.item_count == 1
    with pytest.raises(DraftError, match="row 1 above it is not empty"):
        ops.jobs.create_job(
            workspace, JobRequest.of(SourceSpec(URL, range="A2:J4"), write_back=True)
        )


def test_an_offset_range_with_a_header_and_ragged_rows(google: Google, workspace: Services) -> None:
    sign_in_user(workspace)
    header = ["", "", "idea_title", "script_content", "priority"]
    rows: list[list[Any]] = [
        ["Planning sheet"],
        [],
        [],
        [],
        header,  # row 5: the header, from column C
        ["", "", "Idea 6", "Words.", "high"],
        ["", "", "Idea 7", "More words.", "low", "", "", "wide note in H"],  # wider than header
        ["", "", "Idea 8", "Even more.", "normal", "Cadence status?"],  # not a title of ours
    ]
    google.add(SHEET, {"Ideas": rows}, column_count=9)
    before = snapshot(google)
    created = ops.jobs.create_job(
        workspace, JobRequest.of(SourceSpec(URL, range="C5:E"), write_back=True)
    )
    assert created.item_count == 3
    assert flush(workspace) == 3
    after = snapshot(google)
    assert after[4][8:12] == list(HEADERS)  # after H, the widest row's last cell
    allowed = {(r, c) for r in (5, 6, 7, 8) for c in (9, 10, 11, 12)}
    assert changed_cells(before, after) <= allowed
    assert google.spreadsheets[SHEET].tabs[0].column_count == 12  # the grid grew


def test_a_second_job_never_writes_over_notes_beside_the_first_jobs_rows(
    google: Google, workspace: Services
) -> None:
    """Job 1 on A1:D3 titles E1:H1 (its rows stop before the user's notes in E4 and F5). Job 2
    on A1:D5 must not reuse those columns, whose cells in its rows 4 and 5 are the user's: it
    puts its own after the last used column; job 1 keeps writing to its own."""
    sign_in_user(workspace)
    header = ["idea_title", "script_content", "priority", "tone"]
    rows: list[list[Any]] = [
        header,
        ["Idea 2", "Words.", "normal", "calm"],
        ["Idea 3", "Words.", "normal", "calm"],
        ["Idea 4", "Words.", "normal", "calm", "user note E4"],
        ["Idea 5", "Words.", "normal", "calm", "", "user note F5"],
    ]
    google.add(SHEET, {"Ideas": rows}, column_count=10)
    first = ops.jobs.create_job(
        workspace, JobRequest.of(SourceSpec(URL, range="A1:D3"), write_back=True)
    )
    assert flush(workspace) == 2
    after_first = snapshot(google)
    assert after_first[0][4:8] == list(HEADERS)
    second = ops.jobs.create_job(
        workspace, JobRequest.of(SourceSpec(URL, range="A1:D5"), write_back=True)
    )
    assert flush(workspace) == 4
    after = snapshot(google)
    assert after[3][4] == "user note E4" and after[4][5] == "user note F5"
    assert after[0][8:12] == list(HEADERS)  # its own columns, after H
    assert [after[r][8] for r in (1, 2, 3, 4)] == ["queued"] * 4
    allowed = {(r, c) for r in (1, 2, 3, 4, 5) for c in (9, 10, 11, 12)}
    assert changed_cells(after_first, after) <= allowed
    # A restart (no cache) finds the same columns again, and job 1 still writes to E–H.
    ops.jobs.job_action(workspace, first.job_id, "cancel")
    ops.jobs.job_action(workspace, second.job_id, "cancel")
    assert flush(workspace) == 6
    final = snapshot(google)
    assert [final[r][4] for r in (1, 2)] == ["canceled"] * 2 and final[3][4] == "user note E4"
    assert [final[r][8] for r in (1, 2, 3, 4)] == ["canceled"] * 4
    assert len(final[0]) == 12  # no third set of columns
