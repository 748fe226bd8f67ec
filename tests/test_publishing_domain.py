"""Publishing plans and YouTube's limits, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.domain.errors import DraftError
from app.domain.publishing import (
    Privacy,
    PublishConfig,
    category_id,
    chunk_size,
    metadata_problems,
    parse_interval,
    quota_day,
    quota_reset,
    tags_length,
    upload_privacy,
)
from app.domain.validation import Level, Rules, SourceRow, validate_rows

PACIFIC = ZoneInfo("America/Los_Angeles")
BASE = {"target": "youtube", "channel": "UC1", "made_for_kids": False}


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"channel": ""}, "channel", "accounts list"),
        ({"made_for_kids": None}, "made for kids", "--not-made-for-kids"),
        ({"publish_at": "soon"}, "publish at", "2026-12-24 17:00"),
        ({"every": "1d"}, "first", "first video"),
        ({"first": "2027-01-01T10:00"}, "publish every", "--first"),
        ({"every": "1w", "first": "2027-01-01T10:00"}, "publish every", "1d, 12h"),
        ({"every": "0m", "first": "2027-01-01T10:00"}, "publish every", "at least a minute"),
        ({"publish_at": "2027-01-01T10:00", "every": "1d", "first": "2027-01-01"}, "publish at",
         "exclude"),
        ({"category": "Cats"}, "category", "Education"),
        ({"playlist": "not a playlist!"}, "playlist", "playlist id"),
        ({"timezone": "Mars/Olympus"}, "time zone", "Europe/Berlin"),
        ({"target": "vimeo"}, "publish", "youtube"),
    ],
)  # fmt: skip
def test_unusable_publishing_settings_name_the_setting(
    changes: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(DraftError) as caught:
        PublishConfig.from_dict({**BASE, **changes}).checked()
    assert caught.value.field == field and words in str(caught.value)


def test_approval_needs_publishing() -> None:
    with pytest.raises(DraftError, match="needs publishing"):
        PublishConfig(approve=True).checked()


def test_publish_times_in_sheet_order_in_wall_clock_time() -> None:
    config = PublishConfig.from_dict(
        {**BASE, "every": "1d", "first": "2027-10-30T09:00", "timezone": "Europe/Berlin"}
    ).checked()
    times = [config.publish_time(k) for k in range(3)]
    assert [t.astimezone(UTC).hour for t in times if t] == [7, 8, 8]  # 31 Oct: back to CET
    assert config.publish_time(0, "2027-12-24T18:00") == datetime(
        2027, 12, 24, 18, tzinfo=ZoneInfo("Europe/Berlin")
    )
    assert PublishConfig.from_dict(BASE).publish_time(4) is None


def test_a_future_time_uploads_private_and_a_past_one_as_asked() -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    assert upload_privacy(Privacy.PUBLIC, datetime(2027, 1, 2, tzinfo=UTC), now) is Privacy.PRIVATE
    assert upload_privacy(Privacy.PUBLIC, datetime(2026, 1, 2, tzinfo=UTC), now) is Privacy.PUBLIC
    assert upload_privacy(Privacy.UNLISTED, None, now) is Privacy.UNLISTED


def test_tags_count_as_youtube_counts_them() -> None:
    assert tags_length([]) == 0
    assert tags_length(["sky"]) == 3
    assert tags_length(["sky", "blue sky"]) == 3 + 1 + 10  # quotes around the spaced tag
    assert metadata_problems({"title": "Fine", "tags": ["a" * 250, "b" * 250]}) == [
        ("tags", "add up to 501 characters; YouTube allows 500")
    ]


def test_metadata_limits_name_the_field() -> None:
    problems = metadata_problems({"title": "x" * 101 + "<", "description": "é" * 2501, "tags": []})
    assert [f for f, _ in problems] == ["title", "title", "description"]
    assert "5000" in problems[2][1] and "5002 bytes" in problems[2][1]
    assert metadata_problems({"title": " "}) == [("title", "is empty — YouTube needs a title")]


def test_the_quota_day_is_pacific_and_resets_at_its_midnight() -> None:
    evening = datetime(2027, 3, 14, 6, 30, tzinfo=UTC)  # 22:30 PST on 13 March
    assert quota_day(evening).isoformat() == "2027-03-13"
    assert quota_reset(evening) == datetime(2027, 3, 14, tzinfo=PACIFIC)
    summer = datetime(2027, 7, 1, 12, tzinfo=UTC)
    assert quota_reset(summer).astimezone(UTC) == datetime(2027, 7, 2, 7, tzinfo=UTC)


def test_categories_by_name_and_chunks_by_unit() -> None:
    assert category_id("science & technology") == "28" and category_id("27") == "27"
    assert parse_interval("1d12h").total_seconds() == 36 * 3600
    assert chunk_size(100) == 256 * 1024 and chunk_size(8192) == 8 * 1024 * 1024


def test_a_publish_at_column_is_read_and_checked_by_row_and_column() -> None:
    rows = [
        SourceRow(1, ["Title", "Publish at", "Script"]),
        SourceRow(2, ["Good", "2027-01-05 09:30", "Hi."]),
        SourceRow(3, ["Also good", "2027/01/06 10:00", "Hi."]),
        SourceRow(4, ["Bad", "next tuesday", "Hi."]),
        SourceRow(5, ["Unset", "", "Hi."]),
    ]
    report = validate_rows(rows, Rules(level=Level.MODERATE))
    ideas = [r.idea.publish_at if r.idea else None for r in report.rows]
    assert ideas == ["2027-01-05T09:30:00", "2027-01-06T10:00:00", None, ""]
    assert str(report.rows[2].errors[0]) == (
        "row 4, column B “Publish at”: “next tuesday” is not a date and time — "
        "write it like 2026-12-24 17:00"
    )
