"""Times are told in the zone they were planned in, with this computer's time beside them."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.zoned import zoned, zoned_iso

WINTER = datetime(2026, 12, 14, 8, 0, tzinfo=UTC)  # 09:00 in Berlin (CET)
SUMMER = datetime(2027, 7, 5, 7, 0, tzinfo=UTC)  # 09:00 in Berlin (CEST)


def test_a_time_in_another_zone_says_its_zone_and_the_time_here() -> None:
    assert zoned(WINTER, "Europe/Berlin", here="UTC") == "Mon 14 Dec 2026 09:00 CET (08:00 here)"
    assert zoned(SUMMER, "Europe/Berlin", here="America/New_York") == (
        "Mon 05 Jul 2027 09:00 CEST (03:00 here)"
    )


def test_the_day_here_is_said_when_it_is_another_day() -> None:
    late = datetime(2026, 12, 14, 23, 30, tzinfo=UTC)
    assert zoned(late, "Asia/Tokyo", here="America/Los_Angeles") == (
        "Tue 15 Dec 2026 08:30 JST (Mon 15:30 here)"
    )


def test_the_same_clock_needs_nothing_beside_it() -> None:
    assert zoned(WINTER, "Europe/Berlin", here="Europe/Berlin") == "Mon 14 Dec 2026 09:00 CET"
    assert zoned(WINTER, "Europe/Paris", here="Europe/Berlin") == "Mon 14 Dec 2026 09:00 CET"


def test_a_zone_that_is_the_same_only_in_winter_shows_here_in_summer() -> None:
    """London and Lisbon share a clock; London and UTC only in winter."""
    assert zoned(WINTER, "Europe/London", here="UTC") == "Mon 14 Dec 2026 08:00 GMT"
    assert zoned(SUMMER, "Europe/London", here="UTC") == "Mon 05 Jul 2027 08:00 BST (07:00 here)"


def test_stored_times_and_unknown_zones() -> None:
    assert zoned_iso(None, "Europe/Berlin") == "—"
    assert zoned_iso("2026-12-14T08:00:00+00:00", "Europe/Berlin", here="UTC").endswith(
        "(08:00 here)"
    )
    assert zoned(WINTER, "Mars/Olympus", here="UTC") == "Mon 14 Dec 2026 08:00 UTC"
