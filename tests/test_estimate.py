"""What a job will take, learned from this computer's own renders: video lengths from the
scripts' words, render time per second of video at the job's resolution and preset, the time
left in a running render from its stage's own rate — and never a time already past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.estimate import (
    GUESSED_PER_SECOND,
    Measured,
    Pace,
    estimate,
    finish_times,
    minute_up,
    time_left,
)

START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
HUNDRED_WORDS = " ".join(["Ten words in a sentence that the voice will say."] * 10)


def measured(video: float, render: float, **more: object) -> Measured:
    return Measured(video_seconds=video, render_seconds=render, **more)  # type: ignore[arg-type]


def test_a_video_is_as_long_as_its_script_not_its_duration_cell() -> None:
    """Espeak at 165 wpm says a word in 0.4 s here (measured): 100 words, 10 sentences."""
    pace = Pace((measured(30, 20, words=100, sentences=10, narration=40.0 + 9 * 0.35),))
    assert pace.seconds_per_word(165) == pytest.approx(0.4)
    assert pace.video_seconds(HUNDRED_WORDS, 600, intro=1.5, outro=2) == pytest.approx(
        1.5 + 40 + 9 * 0.35 + 2
    )
    # Twice the rate, half the time a word; no script: the cell (a language model writes to it).
    assert pace.seconds_per_word(330) == pytest.approx(0.2)
    assert pace.video_seconds("", 75) == 75


def test_the_pace_is_for_the_jobs_resolution_and_preset() -> None:
    pace = Pace(
        (
            measured(20, 10, resolution="720p", optimize="speed"),
            measured(20, 30, resolution="1080p", optimize="quality"),
        )
    )
    assert pace.line("720p", "speed").seconds(40) == 20  # 0.5 s a second
    assert pace.line("1080p", "quality").seconds(40) == 60  # 1.5
    scaled = pace.line("4k", "balanced")  # never made here: scaled from what was, and said so
    assert "scaled from this computer's renders" in scaled.basis
    assert scaled.per_second > pace.line("1080p", "quality").per_second / 1.9


def test_one_long_script_is_not_priced_like_short_ones() -> None:
    """Renders of different lengths: a fixed cost per video plus a cost per second."""
    pace = Pace(tuple(measured(v, 5 + 0.5 * v) for v in (20, 40, 80, 160)))
    line = pace.line("1080p", "balanced")
    assert line.fixed == pytest.approx(5) and line.per_second == pytest.approx(0.5)
    assert line.seconds(1000) == pytest.approx(505)


def test_a_guess_until_something_was_rendered_here() -> None:
    found = estimate([60.0] * 4, "1080p", "balanced", 2, START, Pace(), upload=False)
    assert not found.measured and "a guess" in found.lines()[1]
    per_video = 2.0 + 60 * GUESSED_PER_SECOND
    assert found.render_seconds == pytest.approx(2 * per_video)  # four videos, two at once
    assert found.quota_units == 0 and not any("quota" in line for line in found.lines())


def test_measured_pace_disk_and_quota_days() -> None:
    pace = Pace(tuple(measured(30, 60, size=3_000_000) for _ in range(3)))
    found = estimate([30.0] * 10, "1080p", "balanced", 1, START, pace, upload=True, left_out=2)
    assert found.measured and found.render_seconds == 600  # 10 × 30 s × 2, one at a time
    assert found.disk_bytes == 10 * (30 * 100_000 + 100_000)
    assert found.quota_units == 10 * 1_704 and found.quota_days == 2
    lines = found.lines()
    assert lines[0] == "Videos: 10, about 5 min of video (2 rows left out)"
    assert lines[1] == "Estimated render time: 10 min (from this computer's recent renders)"
    assert lines[-1] == "YouTube quota: 17,040 units — 2 days of quota"


def test_the_last_video_is_never_ready_before_it_could_be() -> None:
    """Rounded to the minute, a time is rounded up: 09:00:20 is said as 09:01."""
    assert minute_up(START + timedelta(seconds=20)) == START + timedelta(minutes=1)
    assert minute_up(START) == START
    found = estimate([10.0], "720p", "speed", 1, START, Pace(), upload=False)
    assert found.ready_by > START


def test_time_left_follows_the_stage_and_what_comes_after() -> None:
    plan = {"speech": 10.0, "visuals": 5.0, "encode": 100.0, "thumbnail": 2.0, "metadata": 1.0}
    # Half-way through encoding after 60 s: its own rate says 60 s more, then 3 s of stages.
    assert time_left(plan, "encode", 0.5, 60) == pytest.approx(63)
    # Encoding has only just begun: what it was expected to take still decides.
    assert time_left(plan, "encode", 0.0, 2) == pytest.approx(98 + 3)
    # Speech overran its plan with no fraction to go by: nothing negative, the rest still due.
    assert time_left(plan, "speech", 0.0, 30) == pytest.approx(5 + 100 + 3)
    assert time_left(plan, "metadata", 1.0, 1) == 0


def test_lanes_take_the_work_in_order() -> None:
    # Two lanes, one busy for 30 s: 10 s jobs go to the free one first.
    assert finish_times(2, [30.0], [(0, 10), (0, 10), (0, 10), (0, 10)]) == [10, 20, 30, 40]
    # Work that may not start before 100 s waits for it.
    assert finish_times(1, [], [(100, 10)]) == [110]


def test_stored_outputs_without_a_measure_teach_nothing() -> None:
    assert Measured.from_outputs({"video": "x.mp4", "duration": 10}) is None
    assert Measured.from_outputs({"duration": "n/a", "measure": {"seconds": 5}}) is None
    found = Measured.from_outputs(
        {"duration": 20, "measure": {"seconds": 9.5, "resolution": "720p", "stages": {"encode": 8}}}
    )
    assert found is not None and found.render_seconds == 9.5 and found.stages == {"encode": 8.0}


def test_a_vertical_copy_for_tiktok_or_reels_is_counted_in_the_estimate() -> None:
    """One render, two shapes: the 9:16 copy's encode and its file are in the figures."""
    from datetime import UTC, datetime

    from app.domain.estimate import Pace, estimate

    start = datetime(2026, 12, 7, tzinfo=UTC)
    plain = estimate([60.0] * 4, "1080p", "balanced", 1, start, Pace(), False)
    both = estimate([60.0] * 4, "1080p", "balanced", 1, start, Pace(), False, vertical_copy=True)
    assert 1.8 < both.render_seconds / plain.render_seconds < 2.0
    assert both.disk_bytes > 1.5 * plain.disk_bytes
