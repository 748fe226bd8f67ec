"""Whatever a spreadsheet holds, validation returns a report and never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.idea import FIELD_NAMES
from app.domain.validation import Level, Rules, SourceRow, validate_rows
from tests.conftest import HEADER

cells = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(),
    st.dates(),
    st.times(),
    st.decimals(allow_nan=True),
    st.sampled_from(["youtube, tiktok", "1:30", "90s", "female", "HIGH", "<b>", "é" * 3000]),
)
rows = st.lists(cells, min_size=0, max_size=14)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    level=st.sampled_from(Level),
    with_header=st.booleans(),
    body=st.lists(rows, min_size=1, max_size=6),
    first_row=st.integers(min_value=1, max_value=10_000),
    first_column=st.integers(min_value=1, max_value=50),
)
def test_validation_never_raises_and_every_problem_names_row_and_column(
    level: Level, with_header: bool, body: list[list[object]], first_row: int, first_column: int
) -> None:
    source = [list(HEADER)] if with_header else []
    source += body
    numbered = [SourceRow(first_row + i, r) for i, r in enumerate(source)]
    report = validate_rows(numbered, Rules(level=level), first_column=first_column)

    data_numbers = (
        {r.number for r in numbered[1:]} if report.header_row else {r.number for r in numbered}
    )
    assert {r.row for r in report.rows} == data_numbers
    for row in report.rows:
        assert row.valid == (row.idea is not None and not row.errors)
        for problem in [*row.errors, *row.warnings]:
            assert problem.row == row.row
            assert problem.column in FIELD_NAMES
            assert problem.message.strip()
            assert str(problem).startswith(f"row {row.row}, column ")
        if row.valid:
            assert row.idea is not None
            assert 1 <= row.idea.duration_seconds <= 3600
            assert row.idea.idea_title.strip()
            row.to_dict()  # serialisable shape


@settings(max_examples=150, deadline=None)
@given(
    title=st.text(min_size=1, max_size=80).filter(lambda t: t.strip()),
    rest=st.lists(cells, max_size=9),
)
def test_permissive_keeps_every_row_with_a_title(title: str, rest: list[object]) -> None:
    row = [title, *rest]
    report = validate_rows([SourceRow(1, HEADER), SourceRow(2, row)], Rules(level=Level.PERMISSIVE))
    if title.replace("<", "").replace(">", "").strip() or title.strip():
        assert report.rows[0].valid, report.rows[0].errors
