import pytest

from app.domain.columns import detect_header, field_for_header
from app.domain.validation import Level, Rules, SourceRow, validate_rows


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("idea_title", "idea_title"),
        ("Idea Title", "idea_title"),
        ("IDEA-TITLE", "idea_title"),
        ("Title", "idea_title"),
        ("Idea/Title", "idea_title"),
        ("  title  ", "idea_title"),
        ("Video Title", "idea_title"),
        ("Duration (seconds)", "duration_seconds"),
        ("duration", "duration_seconds"),
        ("Length", "duration_seconds"),
        ("Platforms", "platform_preferences"),
        ("platform_preferences", "platform_preferences"),
        ("Script", "script_content"),
        ("Video Script", "script_content"),
        ("Voice", "voice_preference"),
        ("Style", "style_override"),
        ("Template", "style_override"),
        ("Priority", "priority"),
        ("Target Audience", "target_audience"),
        ("Audience", "target_audience"),
        ("Description", "description"),
        ("Tone", "tone"),
        ("Notes", None),
        ("", None),
        (None, None),
        ("Why the sky is blue", None),
    ],
)
def test_headers_map_to_fields(header: object, field: str | None) -> None:
    assert field_for_header(header) == field


def test_header_row_detection() -> None:
    assert detect_header(["Title", "Script"]) is not None
    assert detect_header(["Title"]) is not None  # one column, and it is a field name
    assert detect_header(["Why the sky is blue", "Title"]) is None  # data that mentions a name
    assert detect_header(["How to cook rice", "Rice is easy.", 90]) is None


def test_columns_in_any_order_are_found_by_header() -> None:
    rows = [
        SourceRow(1, ["Priority", "Notes", "Script", "Title"]),
        SourceRow(2, ["high", "ignore me", "Words.", "A title"]),
    ]
    report = validate_rows(rows, Rules(level=Level.MODERATE))
    idea = report.rows[0].idea
    assert idea is not None
    assert (idea.idea_title, idea.script_content, idea.priority.value) == (
        "A title",
        "Words.",
        "high",
    )
    assert report.header_row == 1
    assert any("Notes" in note for note in report.notes)


def test_without_a_header_columns_are_read_by_position() -> None:
    rows = [SourceRow(1, ["A title", "desc", "aud", "tone", "45", "tiktok", "Words."])]
    report = validate_rows(rows, Rules(level=Level.MODERATE))
    assert report.header_row is None
    idea = report.rows[0].idea
    assert idea is not None
    assert idea.duration_seconds == 45 and idea.platform_preferences == ("tiktok",)
    assert idea.script_content == "Words."


def test_duplicate_columns_use_the_first_and_say_so() -> None:
    rows = [SourceRow(1, ["Title", "Script", "Name"]), SourceRow(2, ["First", "Words.", "Second"])]
    report = validate_rows(rows, Rules())
    assert report.rows[0].title == "First"
    assert any("both name idea_title" in n for n in report.notes)
