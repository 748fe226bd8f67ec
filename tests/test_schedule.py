"""Schedules: crontab(5) semantics checked against an independent oracle, DST, templates, CLI."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.schedule import ScheduleError, check_template, parse_schedule, render_topic, zone
from app.triggers import preview

# --- an independent crontab(5) oracle, written from the man page ----------------------------

MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def oracle_field(text: str, index: int) -> set[int]:
    low, high = RANGES[index]

    def number(token: str) -> int:
        if index == 3 and token.lower() in MONTH_NAMES:
            return MONTH_NAMES.index(token.lower()) + 1
        if index == 4 and token.lower() in DAY_NAMES:
            return DAY_NAMES.index(token.lower())
        return int(token)

    out: set[int] = set()
    for item in text.split(","):
        rng, _, step = item.partition("/")
        step = step or "1"
        if rng == "*":
            a, b = low, high
        elif "-" in rng:
            a, b = (number(x) for x in rng.split("-"))
        else:
            a = b = number(rng)
        out.update(range(a, b + 1, int(step)))
    if index == 4:
        out = {d % 7 for d in out}  # "0 or 7 is Sun"
    return out


def oracle_runs(expression: str, start: datetime, count: int) -> list[datetime]:
    """Run times by the book: a day runs when month matches and (dom AND dow if either field
    starts with '*', else dom OR dow) — crontab(5) and Vixie cron's DOM_STAR/DOW_STAR rule."""
    parts = expression.split()
    minute, hour, dom, month, dow = (oracle_field(p, i) for i, p in enumerate(parts))
    either = not (parts[2].startswith("*") or parts[4].startswith("*"))
    runs: list[datetime] = []
    day = start.date()
    for _ in range(366 * 30):
        dom_ok, dow_ok = day.day in dom, day.isoweekday() % 7 in dow
        if day.month in month and ((dom_ok or dow_ok) if either else (dom_ok and dow_ok)):
            for h in sorted(hour):
                for m in sorted(minute):
                    moment = datetime(day.year, day.month, day.day, h, m, tzinfo=UTC)
                    if moment > start:
                        runs.append(moment)
                        if len(runs) == count:
                            return runs
        day += timedelta(days=1)
    return runs


def field(index: int) -> st.SearchStrategy[str]:
    low, high = RANGES[index]
    names = {3: MONTH_NAMES, 4: DAY_NAMES}.get(index)
    value = st.integers(low, high).map(str)
    if names:
        value = value | st.sampled_from(names).map(lambda n: n.capitalize() if len(n) % 2 else n)
    ranges = st.tuples(st.integers(low, high), st.integers(low, high)).map(
        lambda ab: f"{min(ab)}-{max(ab)}"
    )
    stepped = st.tuples(ranges | st.just("*"), st.integers(1, max(2, (high - low) // 2))).map(
        lambda rs: f"{rs[0]}/{rs[1]}"
    )
    item = value | ranges | stepped
    return st.just("*") | item | st.lists(item, min_size=2, max_size=3).map(",".join)


expressions = st.tuples(*(field(i) for i in range(5))).map(" ".join)


@settings(max_examples=250, deadline=None)
@given(expression=expressions, offset=st.integers(0, 365 * 24 * 60))
def test_cron_runs_exactly_when_crontab_says(expression: str, offset: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=offset)
    expected = oracle_runs(expression, start, 6)
    actual = preview(parse_schedule(expression), zone("UTC"), start, 6)
    assert actual == expected, expression


@pytest.mark.parametrize(
    ("expression", "first_runs"),
    [
        ("0 9 * * 7", ["2026-03-01 09:00", "2026-03-08 09:00"]),  # 7 is Sunday
        ("0 9 * * 0", ["2026-03-01 09:00", "2026-03-08 09:00"]),
        ("0 9 * * SUN", ["2026-03-01 09:00", "2026-03-08 09:00"]),
        ("0 9 * * mon-fri", ["2026-03-02 09:00", "2026-03-03 09:00"]),
        ("0 0 13 * fri", ["2026-03-06 00:00", "2026-03-13 00:00", "2026-03-20 00:00"]),  # OR
        ("0 0 */10 * fri", ["2026-05-01 00:00", "2026-07-31 00:00"]),  # AND: dom starts with *
        ("30 4 1,15 jan-mar *", ["2026-03-01 04:30", "2026-03-15 04:30", "2027-01-01 04:30"]),
        ("*/20 8-9 * * *", ["2026-03-01 08:00", "2026-03-01 08:20", "2026-03-01 08:40"]),
        ("@monthly", ["2026-03-01 00:00", "2026-04-01 00:00"]),
        ("@hourly", ["2026-03-01 00:00", "2026-03-01 01:00"]),
    ],
)
def test_crontab_examples(expression: str, first_runs: list[str]) -> None:
    start = datetime(2026, 2, 28, 23, 59, tzinfo=UTC)
    runs = [
        t.strftime("%Y-%m-%d %H:%M")
        for t in preview(parse_schedule(expression), zone("UTC"), start, len(first_runs))
    ]
    assert runs == first_runs


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("61 * * * *", "minute: 61 is out of range — use 0 to 59"),
        ("* * * *", "five fields"),
        ("0 0 0 * *", "day of month: 0 is out of range"),
        ("0 0 * 13 *", "month: 13 is out of range"),
        ("0 0 * * 8", "day of week: 8 is out of range"),
        ("0 0 * * funday", "not a number or a name such as mon"),
        ("5/15 * * * *", "not crontab syntax — write 5-59/15"),
        ("0 0 5-1 * *", "runs backwards"),
        ("*/0 * * * *", "step '0' must be a whole number above 0"),
        ("@reboot", "no time to schedule"),
        ("daily@9", "not a time — write it as HH:MM"),
        ("weekly@18:00", "weekly needs days and a time"),
        ("every@0h", "not an interval"),
        ("once@tomorrow", "not a date and time"),
        ("hourly@5", "unknown schedule kind 'hourly'"),
    ],
)
def test_bad_expressions_say_how_to_write_them(expression: str, says: str) -> None:
    with pytest.raises(ScheduleError, match=says.replace("(", r"\(")):
        parse_schedule(expression)


def _local(times: list[datetime]) -> list[str]:
    return [t.isoformat() for t in times]


@pytest.mark.parametrize(
    ("zone_name", "expression", "start", "expected"),
    [
        # Europe: clocks jump 02:00 → 03:00 on 29 March 2026 and fall 03:00 → 02:00 on 25 October.
        ("Europe/Berlin", "daily@02:30", "2026-03-28T12:00",
         ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]),
        ("Europe/Berlin", "daily@02:30", "2026-10-24T12:00",
         ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]),
        ("Europe/Berlin", "daily@09:00", "2026-03-28T12:00",
         ["2026-03-29T09:00:00+02:00", "2026-03-30T09:00:00+02:00"]),
        ("Europe/Berlin", "*/30 * * * *", "2026-10-25T01:40",
         ["2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00",
          "2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+01:00"]),
        ("Europe/Berlin", "*/30 * * * *", "2026-03-29T01:10",
         ["2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00"]),
        # America: 8 March 2026 02:00 → 03:00; 1 November 2026 02:00 → 01:00.
        ("America/New_York", "30 2 * * *", "2026-03-07T12:00",
         ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]),
        ("America/New_York", "30 1 * * *", "2026-10-31T12:00",
         ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]),
        ("America/New_York", "once@2026-03-08T02:15", "2026-01-01T00:00",
         ["2026-03-08T03:00:00-04:00"]),
        ("America/New_York", "every@12h", "2026-03-07T20:00",
         ["2026-03-08T09:00:00-04:00", "2026-03-08T21:00:00-04:00"]),
        # Leap days and month ends.
        ("UTC", "0 12 29 2 *", "2026-01-01T00:00",
         ["2028-02-29T12:00:00+00:00", "2032-02-29T12:00:00+00:00"]),
        ("UTC", "monthly@31@08:00", "2026-01-31T09:00",
         ["2026-03-31T08:00:00+00:00", "2026-05-31T08:00:00+00:00"]),
        ("UTC", "monthly@30@08:00", "2028-01-31T00:00",
         ["2028-03-30T08:00:00+00:00", "2028-04-30T08:00:00+00:00"]),
        ("Asia/Kolkata", "weekly@mon,wed@18:00", "2026-03-02T18:00",
         ["2026-03-04T18:00:00+05:30", "2026-03-09T18:00:00+05:30"]),
    ],
)  # fmt: skip
def test_wall_clock_across_daylight_saving(
    zone_name: str, expression: str, start: str, expected: list[str]
) -> None:
    tz = zone(zone_name)
    begin = datetime.fromisoformat(start).replace(tzinfo=tz)
    assert _local(preview(parse_schedule(expression), tz, begin, len(expected))) == expected


def test_unknown_time_zone() -> None:
    with pytest.raises(ScheduleError, match="IANA name such as Europe/Berlin"):
        zone("Europe/Atlantis")


def test_topic_templates() -> None:
    when = datetime(2026, 3, 2, 9, 5, tzinfo=zone("Europe/Berlin"))
    text = render_topic(
        "{weekday} {date} {time} · week {week} · {month} ({month_num}) {day}, {year}", when
    )
    assert text == "Monday 2026-03-02 09:05 · week 10 · March (03) 02, 2026"
    assert (
        render_topic("{datetime} {timestamp}", when) == f"2026-03-02 09:05 {int(when.timestamp())}"
    )
    assert check_template("Ideas for {date}") == ["date"]
    with pytest.raises(ScheduleError, match=r"unknown variable \{topic\} — use \{date\}"):
        check_template("Ideas about {topic}")
    with pytest.raises(ScheduleError, match="braces"):
        check_template("Ideas {date")
    with pytest.raises(ScheduleError, match="without a format"):
        check_template("{date:%Y}")


def test_preview_cli(run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    result = run_cli("schedule", "preview", "0 9 * * mon-fri", "--tz", "Europe/Berlin",
                     "--from", "2026-03-27T12:00", "--count", "3", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "expression": "0 9 * * mon-fri",
        "kind": "cron",
        "timezone": "Europe/Berlin",
        "runs": [
            "2026-03-30T09:00:00+02:00",
            "2026-03-31T09:00:00+02:00",
            "2026-04-01T09:00:00+02:00",
        ],
    }
    text = run_cli(
        "schedule",
        "preview",
        "daily@02:30",
        "--tz",
        "Europe/Berlin",
        "--from",
        "2026-03-28T12:00",
        "--count",
        "1",
    )
    assert "2026-03-29T03:00:00+02:00   Sun 29 Mar 2026 03:00" in text.stdout
    bad = run_cli("schedule", "preview", "0 25 * * *")
    assert (
        bad.returncode == 2
        and bad.stderr.strip() == "cadence: hour: 25 is out of range — use 0 to 23"
    )
