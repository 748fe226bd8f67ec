"""Every validation rule at every level: what passes, what is an error, what is coerced."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from app.domain.idea import Idea, Priority, Voice
from app.domain.validation import Level, RowReport, Rules, SourceRow, validate_rows
from tests.conftest import HEADER, full_row

S, M, P = Level.STRICT, Level.MODERATE, Level.PERMISSIVE


def check(level: Level, header: list[str] | None = None, **overrides: object) -> RowReport:
    rows = [SourceRow(1, header or HEADER), SourceRow(2, full_row(**overrides))]
    report = validate_rows(rows, Rules(level=level))
    assert len(report.rows) == 1
    return report.rows[0]


def sole(problems: list, column: str) -> str:  # type: ignore[type-arg]
    assert [p.column for p in problems] == [column], problems
    return str(problems[0].message)


def test_a_complete_row_is_valid_at_every_level() -> None:
    for level in Level:
        row = check(level)
        assert row.valid and not row.errors and not row.warnings
        assert row.idea == Idea(
            idea_title="Why the sky is blue",
            description="Rayleigh scattering in a minute.",
            target_audience="Teens",
            tone="Friendly",
            duration_seconds=10,
            platform_preferences=("youtube",),
            script_content="The sky is blue. Here is why.",
            voice_preference=Voice.FEMALE,
            style_override="modern",
            priority=Priority.HIGH,
        )


# --- required fields -------------------------------------------------------------------------

OPTIONAL_AT_MODERATE = [
    "description",
    "target_audience",
    "tone",
    "duration_seconds",
    "platform_preferences",
    "voice_preference",
    "style_override",
    "priority",
]


@pytest.mark.parametrize("column", OPTIONAL_AT_MODERATE)
def test_strict_requires_every_field(column: str) -> None:
    row = check(S, **{column: ""})
    assert not row.valid
    assert "strict validation needs every column" in sole(row.errors, column)


@pytest.mark.parametrize("column", OPTIONAL_AT_MODERATE)
def test_moderate_fills_defaults_for_empty_optional_fields(column: str) -> None:
    row = check(M, **{column: ""})
    assert row.valid and not row.warnings
    assert row.idea is not None
    defaults = Idea(idea_title="x")
    if column in ("duration_seconds", "platform_preferences", "voice_preference", "priority"):
        assert getattr(row.idea, column) == getattr(defaults, column)


def test_moderate_defaults_are_the_documented_ones() -> None:
    blank = dict.fromkeys(OPTIONAL_AT_MODERATE, "")
    idea = check(M, **blank).idea
    assert idea is not None
    assert idea.duration_seconds == 300
    assert idea.priority is Priority.NORMAL
    assert idea.voice_preference is Voice.NEUTRAL
    assert idea.platform_preferences == ("youtube",)


@pytest.mark.parametrize("level", [S, M])
def test_title_and_script_are_required_at_strict_and_moderate(level: Level) -> None:
    assert "needs a title" in sole(check(level, idea_title="  ").errors, "idea_title")
    message = sole(check(level, script_content="").errors, "script_content")
    assert "write the narration" in message or "strict" in message


def test_permissive_skips_only_rows_without_a_title() -> None:
    row = check(P, idea_title="")
    assert not row.valid and row.idea is None
    assert "skipped" in sole(row.errors, "idea_title")
    everything_else_blank = check(P, **{c: "" for c in [*OPTIONAL_AT_MODERATE, "script_content"]})
    assert everything_else_blank.valid
    assert sole(everything_else_blank.warnings, "script_content")


def test_empty_script_is_allowed_when_a_generator_is_configured() -> None:
    rows = [SourceRow(1, HEADER), SourceRow(2, full_row(script_content=""))]
    report = validate_rows(rows, Rules(level=M, can_generate_script=True))
    assert report.rows[0].valid
    assert "generated" in sole(report.rows[0].warnings, "script_content")


def test_strict_names_a_missing_column() -> None:
    row = check(S, header=[*HEADER[:9], "notes"])
    assert "has no such column" in sole(row.errors, "priority")
    assert row.errors[0].cell is None


# --- typed fields ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "level", "seconds"),
    [
        (90, S, 90),
        ("90", S, 90),
        (" 90 ", M, 90),
        (90.0, M, 90),
        ("3600", S, 3600),
        ("1", M, 1),
        ("1,200", M, 1200),
        ("90s", P, 90),
        ("1:30", P, 90),
        ("2 min", P, 120),
        ("1h 5m", P, 3600),
        ("1m 30s", P, 90),
        (12.4, P, 12),
        ("abc", P, 300),
        ("-5", P, 1),  # out of range: clamped, with a warning (the README's promise)
        (0, P, 1),
        (99999, P, 3600),
        (True, P, 300),
        (float("nan"), P, 300),
    ],
)
def test_duration_values_that_pass(cell: object, level: Level, seconds: int) -> None:
    row = check(level, duration_seconds=cell)
    assert row.valid, row.errors
    assert row.idea is not None and row.idea.duration_seconds == seconds


@pytest.mark.parametrize("level", [S, M])
@pytest.mark.parametrize(
    ("cell", "says"),
    [
        ("abc", "not a whole number"),
        ("1:30", "not a whole number"),
        (12.5, "not a whole number"),
        (0, "out of range"),
        (-3, "out of range"),
        (3601, "out of range"),
        (True, "not a whole"),
        (float("inf"), "not a whole"),
    ],
)
def test_duration_values_refused(level: Level, cell: object, says: str) -> None:
    message = sole(check(level, duration_seconds=cell).errors, "duration_seconds")
    assert says in message
    assert "1 to 3600" in message


@pytest.mark.parametrize("cell", ["abc", "-5", 99999, "1:30", 12.4])
def test_permissive_duration_coercion_warns(cell: object) -> None:
    row = check(P, duration_seconds=cell)
    assert row.valid
    assert sole(row.warnings, "duration_seconds")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("youtube", ("youtube",)),
        ("YouTube, TikTok", ("youtube", "tiktok")),
        ("youtube_shorts; instagram_reels", ("youtube_shorts", "instagram_reels")),
        ("YouTube Shorts | LinkedIn", ("youtube_shorts", "linkedin")),
        ("youtube, youtube", ("youtube",)),
        ("Instagram Reels\nx", ("instagram_reels", "x")),
    ],
)
def test_platforms_known_spellings(cell: str, expected: tuple[str, ...]) -> None:
    for level in Level:
        idea = check(level, platform_preferences=cell).idea
        assert idea is not None and idea.platform_preferences == expected


def test_platform_aliases_are_accepted() -> None:
    idea = check(M, platform_preferences="twitter, ig, fb, yt, shorts").idea
    assert idea is not None
    assert idea.platform_preferences == (
        "x",
        "instagram_reels",
        "facebook",
        "youtube",
        "youtube_shorts",
    )


@pytest.mark.parametrize("level", [S, M])
def test_unknown_platform_is_an_error_listing_the_known_ones(level: Level) -> None:
    message = sole(
        check(level, platform_preferences="youtube, myspace").errors, "platform_preferences"
    )
    assert "myspace" in message and "tiktok" in message


def test_permissive_drops_unknown_platforms() -> None:
    row = check(P, platform_preferences="myspace, tiktok")
    assert row.idea is not None and row.idea.platform_preferences == ("tiktok",)
    assert "dropped" in sole(row.warnings, "platform_preferences")
    only_unknown = check(P, platform_preferences="myspace")
    assert only_unknown.idea is not None and only_unknown.idea.platform_preferences == ("youtube",)


@pytest.mark.parametrize(
    ("cell", "voice"),
    [("female", Voice.FEMALE), ("MALE", Voice.MALE), (" Neutral ", Voice.NEUTRAL)],
)
def test_voice_values(cell: str, voice: Voice) -> None:
    for level in Level:
        idea = check(level, voice_preference=cell).idea
        assert idea is not None and idea.voice_preference is voice


@pytest.mark.parametrize("level", [S, M])
def test_unknown_voice_is_refused(level: Level) -> None:
    assert "female, male or neutral" in sole(
        check(level, voice_preference="robot").errors, "voice_preference"
    )
    assert check(level, voice_preference="f").errors  # aliases only at permissive


def test_permissive_voice_aliases_and_fallback() -> None:
    row = check(P, voice_preference="f")
    assert row.idea is not None and row.idea.voice_preference is Voice.FEMALE
    assert sole(row.warnings, "voice_preference") == "“f” read as female"
    row = check(P, voice_preference="robot")
    assert row.idea is not None and row.idea.voice_preference is Voice.NEUTRAL
    assert "neutral" in sole(row.warnings, "voice_preference")


@pytest.mark.parametrize("level", [S, M])
def test_priority_is_checked(level: Level) -> None:
    idea = check(level, priority="Low").idea
    assert idea is not None and idea.priority is Priority.LOW
    assert "low, normal or high" in sole(check(level, priority="urgent").errors, "priority")


def test_permissive_priority_aliases_and_fallback() -> None:
    row = check(P, priority="urgent")
    assert row.idea is not None and row.idea.priority is Priority.HIGH
    assert sole(row.warnings, "priority") == "“urgent” read as high"
    row = check(P, priority="whenever")
    assert row.idea is not None and row.idea.priority is Priority.NORMAL
    assert sole(row.warnings, "priority")


@pytest.mark.parametrize("level", [S, M])
def test_style_must_be_known(level: Level) -> None:
    idea = check(level, style_override="Classic").idea
    assert idea is not None and idea.style_override == "classic"
    assert "modern" in sole(check(level, style_override="vaporwave").errors, "style_override")


def test_user_templates_count_as_known_styles() -> None:
    rows = [SourceRow(1, HEADER), SourceRow(2, full_row(style_override="neon"))]
    report = validate_rows(rows, Rules(level=S, known_styles=("modern", "neon")))
    assert report.rows[0].valid


def test_permissive_unknown_style_falls_back() -> None:
    row = check(P, style_override="vaporwave")
    assert row.idea is not None and row.idea.style_override == ""
    assert sole(row.warnings, "style_override")


# --- YouTube limits --------------------------------------------------------------------------


def test_long_title_is_an_error_only_at_strict() -> None:
    long_title = "x" * 101
    assert "100" in sole(check(S, idea_title=long_title).errors, "idea_title")
    for level in (M, P):
        row = check(level, idea_title=long_title)
        assert row.valid and "shortened" in sole(row.warnings, "idea_title")


def test_angle_brackets_in_titles() -> None:
    assert "< or >" in sole(check(S, idea_title="a <b> c").errors, "idea_title")
    row = check(P, idea_title="a <b> c")
    assert row.idea is not None and row.idea.idea_title == "a b c"


def test_description_over_5000_bytes() -> None:
    text = "é" * 2600  # 5200 bytes
    assert "5200 bytes" in sole(check(S, description=text).errors, "description")
    assert check(M, description=text).valid


# --- where problems are reported -------------------------------------------------------------


def test_problems_name_row_cell_and_header() -> None:
    header = ["Title", "Script", "Duration (seconds)"]
    rows = [SourceRow(4, header), SourceRow(7, ["A video", "Words.", "soon"])]
    report = validate_rows(rows, Rules(level=M), first_column=3)
    problem = report.rows[0].errors[0]
    assert problem.row == 7 and problem.column == "duration_seconds" and problem.cell == "E7"
    assert str(problem).startswith("row 7, column E “Duration (seconds)”: “soon” is not")
    assert problem.to_dict() == {
        "column": "duration_seconds",
        "message": problem.message,
        "cell": "E7",
    }


def test_cells_of_any_type_become_text() -> None:
    row = check(M, tone=datetime(2026, 1, 2, 3, 4), target_audience=12.0, description=True)
    assert row.idea is not None
    assert (row.idea.tone, row.idea.target_audience, row.idea.description) == (
        "2026-01-02T03:04:00",
        "12",
        "TRUE",
    )


def test_angle_brackets_in_a_title_are_cleaned_with_a_warning_except_at_strict() -> None:
    rows = [SourceRow(1, ["Title", "Script"]), SourceRow(2, ["Why <this> works", "Words."])]
    moderate = validate_rows(rows, Rules(level=Level.MODERATE)).rows[0]
    assert moderate.valid and moderate.idea is not None
    assert moderate.idea.idea_title == "Why this works"
    assert "left out of the video's title" in moderate.warnings[0].message
    strict = validate_rows(rows, Rules(level=Level.STRICT)).rows[0]
    assert not strict.valid and "remove them" in strict.errors[0].message


def test_an_empty_script_is_fine_when_a_script_writer_is_set_up(
    run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    sheet = tmp_path / "no-script.csv"
    sheet.write_text("Title,Script\nA video without words,\n", encoding="utf-8")
    before = run_cli("validate", str(sheet))
    assert before.returncode == 1 and "is empty — write the narration" in before.stdout
    assert run_cli("settings", "set", "llm.endpoint", "http://127.0.0.1:9/v1").returncode == 0
    assert run_cli("settings", "set", "llm.model", "llama3").returncode == 0
    after = run_cli("validate", str(sheet))
    assert after.returncode == 0, after.stdout
    assert "a script will be generated from the title" in after.stdout


@pytest.mark.parametrize("level", list(Level))
def test_a_script_far_longer_or_shorter_than_its_duration_is_warned_at_every_level(
    level: Level,
) -> None:
    script = "word " * 16_500  # about 100 minutes spoken
    rows = [
        SourceRow(1, HEADER),
        SourceRow(2, full_row(script_content=script, duration_seconds=600)),
        SourceRow(3, full_row(script_content="Short and sweet. " * 8, duration_seconds=60)),
        SourceRow(4, full_row(script_content="Just right. " * 80, duration_seconds=60)),
    ]
    long, short, fitting = validate_rows(rows, Rules(level=level)).rows
    assert long.valid and short.valid
    [warning] = [w for w in long.warnings if w.column == "script_content"]
    assert "runs about 100 minutes when spoken (16,500 words)" in warning.message
    assert "far past the 600 s of its duration" in warning.message
    [warning] = [w for w in short.warnings if w.column == "script_content"]
    assert warning.message == (
        "runs about 9 s when spoken (24 words), far short of the 60 s of its duration — "
        "lengthen the script to about 165 words or lower the duration"
    )
    assert not [w for w in fitting.warnings if w.column == "script_content"]
