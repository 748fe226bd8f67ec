"""``calendar`` on the command line, and jobs that publish into the channel's free slots —
against the real database and the loopback YouTube."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app import ops, queries
from app.domain.errors import UserError
from app.ops.jobs import JobRequest
from app.paths import DEMO_SHEET, AppPaths
from app.queries.calendar import Calendar
from app.services import Services
from app.sources.intake import SourceSpec
from tests.fake_google import Google
from tests.youtube_helpers import sign_in_channel

Run = Callable[..., subprocess.CompletedProcess[str]]
BERLIN = ZoneInfo("Europe/Berlin")
TOPICS = ("Volcanoes", "Tax returns", "Sourdough", "Black holes", "Knitting", "Jazz")


def test_calendar_config_shows_saves_and_refuses_in_one_line(run_cli: Run) -> None:
    shown = run_cli("calendar", "config")
    assert shown.returncode == 0 and "No minimum gap between videos" in shown.stdout
    saved = run_cli(
        "calendar", "config", "--min-gap-hours", "20", "--slots", "mon-fri 17:00; sat 10:00",
        "--blackout-days", "sun", "--timezone", "Europe/Berlin",
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    assert "Posting slots: Sat 10:00; Mon–Fri 17:00" in saved.stdout
    assert "At least 20 h between videos" in saved.stdout
    again = json.loads(run_cli("calendar", "config", "--max-per-day", "1", "--json").stdout)
    assert again["min_gap_hours"] == 20 and again["max_per_day"] == 1  # earlier settings kept
    assert again["timezone"] == "Europe/Berlin" and again["blackout_days"] == ["sun"]
    for flags, words in (
        (["--slots", "weekdays 17:00"], "slots: 'weekdays' is not a weekday"),
        (["--blackout-dates", "2027-13-01"], "blackout dates: '2027-13-01' is not a date"),
        (["--timezone", "Moon/Base"], "timezone: 'Moon/Base' is not a time zone"),
        (["--channel", "nobody", "--max-per-day", "2"], "no signed-in channel 'nobody'"),
    ):
        refused = run_cli("calendar", "config", *flags)
        assert refused.returncode == 2 and words in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert json.loads(run_cli("calendar", "config", "--json").stdout)["max_per_day"] == 1


def test_a_job_publishes_into_free_slots_and_the_calendar_shows_checks_and_suggests(
    run_cli: Run, google: Google, data_dir: Path
) -> None:
    with closing(Services(AppPaths.resolve(data_dir))) as workspace:
        channel = sign_in_channel(workspace, google)
    configured = run_cli(
        "calendar", "config", "--slots", "daily 17:00", "--max-per-day", "1",
        "--timezone", "Europe/Berlin", "--blackout-days", "sun",
    )  # fmt: skip
    assert configured.returncode == 0, configured.stderr
    made = run_cli(
        "jobs", "create", "--source", str(DEMO_SHEET), "--publish", "youtube",
        "--not-made-for-kids", "--publish-slots", "--json",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    job = json.loads(run_cli("jobs", "show", str(json.loads(made.stdout)["id"]), "--json").stdout)
    with closing(Services(AppPaths.resolve(data_dir))) as workspace:
        planner = Calendar(workspace)
        start = datetime.now(UTC)
        state = planner.state(start, start + timedelta(days=30))
        times = sorted(o.when.astimezone(BERLIN) for o in state.occurrences if o.kind == "item")
        period, _found = planner.view("month", times[0].date(), channel)
    assert len(times) == len(job["items"]) == 8
    assert {t.strftime("%H:%M") for t in times} == {"17:00"}  # each its own slot, on its day
    assert len({t.date() for t in times}) == 8 and all(t.weekday() != 6 for t in times)
    assert all(t > start for t in times)
    this_month = [t for t in times if (t.year, t.month) == (times[0].year, times[0].month)]
    assert period.totals["planned"] == len(this_month)  # the month grid counts the same videos

    quiet = run_cli("calendar", "conflicts", "--json")
    assert quiet.returncode == 0 and json.loads(quiet.stdout) == []
    run_cli("calendar", "config", "--min-gap-hours", "30")
    found = run_cli("calendar", "conflicts")
    assert found.returncode == 1  # conflicts found: a script can tell
    assert "time" in found.stdout and "keep at least 30 h between videos" in found.stdout

    # Four weeks: with a video every day but Sunday for eight days and 30 h between videos,
    # two weeks can hold only one more, depending on the weekday the test runs on.
    suggested = run_cli(
        "calendar", "suggest", "--count", "2", "--days", "28", "--channel", channel, "--json"
    )
    assert suggested.returncode == 0, suggested.stderr
    free = [datetime.fromisoformat(t) for t in json.loads(suggested.stdout)]
    assert len(free) == 2 and all(t.strftime("%H:%M") == "17:00" for t in free)
    assert min(free) > max(times) + timedelta(hours=30)  # after the planned ones, apart

    week = json.loads(run_cli("calendar", "show", "--week", times[0].date().isoformat(),
                              "--json").stdout)  # fmt: skip
    day = next(d for d in week["days"] if d["day"] == times[0].date().isoformat())
    assert day["counts"] == {"planned": 1} and day["allowed"] == 1
    assert day["occurrences"][0]["when"].endswith(("+01:00", "+02:00"))  # ISO with offsets
    gaps = run_cli("calendar", "gaps", "--days", "3", "--from", "2020-01-06")
    assert gaps.returncode == 0 and "3 days with nothing to publish" in gaps.stdout
    refused = run_cli("calendar", "suggest", "--count", "0")
    assert refused.returncode == 2 and "--count must be from 1 to 1000" in refused.stderr


def test_moving_a_video_keeps_the_rules_and_says_why_not(google: Google, data_dir: Path) -> None:
    workspace = Services(AppPaths.resolve(data_dir))
    channel = sign_in_channel(workspace, google)
    clock = datetime(2030, 1, 7, 8, tzinfo=UTC)  # a Monday
    planner = Calendar(workspace, clock=lambda: clock)
    ops.calendar.set_config(
        planner.services, "", {"min_gap_hours": 4, "blackout_days": "sun", "timezone": "UTC"}
    )
    created = ops.jobs.create_job(workspace, JobRequest.of(
        SourceSpec(str(DEMO_SHEET)),
        publish={
            "target": "youtube", "channel": channel, "privacy": "public",
            "made_for_kids": False, "every": "1d", "first": "2030-01-08T17:00:00+00:00",
        },
    ))  # fmt: skip
    job = queries.jobs.job(workspace, created.job_id)
    first, second = (item["id"] for item in job["items"][:2])
    with pytest.raises(UserError, match="keep at least 4 h between videos"):
        ops.calendar.move(
            planner.services,
            f"item:{second}",
            datetime(2030, 1, 8, 19, tzinfo=UTC),
            calendar=planner,
        )
    with pytest.raises(UserError, match="Sun 13 Jan is a day with nothing published"):
        ops.calendar.move(
            planner.services,
            f"item:{second}",
            datetime(2030, 1, 13, 12, tzinfo=UTC),
            calendar=planner,
        )
    with pytest.raises(UserError, match="schedule 1 is not active"):
        ops.calendar.move(
            planner.services,
            "run:1@2030-01-09T09:00:00+00:00",
            datetime(2030, 1, 9, 12, tzinfo=UTC),
            calendar=planner,
        )
    said = ops.calendar.move(
        planner.services, f"item:{second}", datetime(2030, 1, 8, 22, tzinfo=UTC), calendar=planner
    ).message
    assert "now publishes Tue 08 Jan 2030" in said
    state = planner.state(clock, clock + timedelta(days=20))
    moved = {o.key: o.when for o in state.occurrences}
    assert moved[f"item:{second}"] == datetime(2030, 1, 8, 22, tzinfo=UTC)
    assert moved[f"item:{first}"] == datetime(2030, 1, 8, 17, tzinfo=UTC)
    workspace.close()


def test_hundreds_of_schedules_are_counted_per_day_not_listed(data_dir: Path) -> None:
    from app.domain.calendar_plan import RUN, Kind
    from app.queries.calendar import LISTED_PLANS
    from app.store.models import Schedule

    workspace = Services(AppPaths.resolve(data_dir))
    with workspace.db.write() as session:
        for n in range(LISTED_PLANS + 1):
            session.add(
                Schedule(name=f"S{n}", kind="daily", expression=f"daily@{n % 24:02d}:00",
                         timezone="UTC", job_template={"source": str(DEMO_SHEET)})
            )  # fmt: skip
    clock = datetime(2030, 1, 7, 0, 30, tzinfo=UTC)
    planner = Calendar(workspace, clock=lambda: clock)
    ops.calendar.set_config(planner.services, "", {"timezone": "UTC"})
    week, _found = planner.view("week", date(2030, 1, 7))
    assert all(o.kind != Kind.RUN for day in week.days for o in day.occurrences)
    after_clock = sum(1 for n in range(LISTED_PLANS + 1) if n % 24)  # 00:00 runs have passed
    assert [day.counts[RUN] for day in week.days] == [after_clock] + [LISTED_PLANS + 1] * 6
    workspace.close()


def test_suggestions_without_a_channel_keep_clear_of_the_channels_videos(
    google: Google, data_dir: Path, tmp_path: Path
) -> None:
    """Videos at 10:00 and 12:00 on the one channel, 26–30 March 2027 (Berlin's spring-forward
    week), its rules a 6-hour gap, 3 a day, preferred hours 10, 14 and 18, Sundays off: the
    suggestions without a channel are that channel's, and none adds a conflict. With two
    channels, suggestions name one; each channel's keep its own rules."""
    from app.domain.calendar_plan import PLANNED, Kind, Occurrence
    from tests.fake_youtube import Channel as FakeChannel
    from tests.youtube_helpers import publishing_job

    clock = datetime(2027, 3, 25, 9, 0, tzinfo=UTC)
    with closing(Services(AppPaths.resolve(data_dir))) as workspace:
        channel = sign_in_channel(workspace, google)
        for hour in (10, 12):
            (tmp_path / f"h{hour}").mkdir()
            publishing_job(
                workspace, tmp_path / f"h{hour}", 5, channel=channel, every="1d",
                first=f"2027-03-26T{hour}:00", timezone="Europe/Berlin",
            )  # fmt: skip
        planner = Calendar(workspace, clock=lambda: clock)
        rules = {"min_gap_hours": 6, "max_per_day": 3, "preferred_hours": [10, 14, 18],
                 "blackout_days": ["sun"], "timezone": "Europe/Berlin"}  # fmt: skip
        ops.calendar.set_config(planner.services, channel, rules)

        def added_conflicts(found: list[datetime], on: str) -> int:
            first = date(2027, 3, 26)
            start, end = planner._span(first, 6)
            state = planner.state(start, end)
            before = len(planner._conflicts(state, state.occurrences))
            extra = [
                Occurrence(f"item:{9000 + n}", when, topic, Kind.ITEM, PLANNED, on)
                for n, (when, topic) in enumerate(zip(found, TOPICS, strict=False))
            ]
            return len(planner._conflicts(state, [*state.occurrences, *extra])) - before

        found = planner.suggest(4, date(2027, 3, 26), 6)
        assert found == planner.suggest(4, date(2027, 3, 26), 6, channel)
        assert {t.astimezone(BERLIN).hour for t in found} == {18}  # 10:00 is taken, 14 too near
        assert added_conflicts(found, channel) == 0

        other = FakeChannel("UC_second_channel_0000000", "Second", "@second")
        second = sign_in_channel(workspace, google, other)
        ops.calendar.set_config(
            planner.services, second, {"min_gap_hours": 2, "timezone": "Europe/Berlin"}
        )
        with pytest.raises(UserError, match="2 channels have their own calendars"):
            planner.suggest(4, date(2027, 3, 26), 6)
        for name in (channel, second):
            mine = planner.suggest(4, date(2027, 3, 26), 6, name)
            assert len(mine) == 4 and added_conflicts(mine, name) == 0
