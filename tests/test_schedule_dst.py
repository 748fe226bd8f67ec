"""Schedules across daylight-saving changes, checked against a brute-force oracle that walks
real time minute by minute: the DST policy written independently of the trigger's maths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.schedule import parse_schedule, zone
from app.triggers import build_trigger, preview
from tests.test_schedule import expressions, oracle_field

MINUTE = timedelta(minutes=1)
ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago")


def transitions(name: str, year: int = 2027) -> list[datetime]:
    """The instants a zone's UTC offset changes in ``year`` (to the minute)."""
    tz = ZoneInfo(name)
    found = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    offset = t.astimezone(tz).utcoffset()
    while t.year == year:
        nxt = t + timedelta(hours=1)
        if nxt.astimezone(tz).utcoffset() != offset:
            probe = t
            while probe.astimezone(tz).utcoffset() == offset:
                probe += MINUTE
            found.append(probe)
            offset = nxt.astimezone(tz).utcoffset()
        t = nxt
    return found


def oracle(expression: str, tz: ZoneInfo, start: datetime, end: datetime, limit: int) -> list[str]:
    """Walk real time: a fixed-time job runs at the first occurrence of a matching local minute
    and once right after a jump that skipped matching minutes; a job with * leading its minute
    or hour field runs whenever the local clock shows a matching minute (cron(8))."""
    parts = expression.split()
    minute, hour, dom, month, dow = (oracle_field(p, i) for i, p in enumerate(parts))
    either = not (parts[2].startswith("*") or parts[4].startswith("*"))
    wildcard = parts[0].startswith("*") or parts[1].startswith("*")

    def matches(local: datetime) -> bool:
        dom_ok, dow_ok = local.day in dom, local.isoweekday() % 7 in dow
        day_ok = (dom_ok or dow_ok) if either else (dom_ok and dow_ok)
        return local.month in month and day_ok and local.hour in hour and local.minute in minute

    runs: list[str] = []
    t = start.replace(second=0, microsecond=0) + MINUTE
    previous = (t - MINUTE).astimezone(tz)
    while t < end and len(runs) < limit:
        local = t.astimezone(tz)
        naive, before = local.replace(tzinfo=None), previous.replace(tzinfo=None)
        if wildcard:
            run = matches(naive)
        elif naive - before > MINUTE:  # clocks jumped: the skipped minutes run now, once
            skipped = (before + MINUTE * k for k in range(1, (naive - before) // MINUTE))
            run = matches(naive) or any(matches(s) for s in skipped)
        else:
            run = local.fold == 0 and matches(naive)  # a repeated minute runs only the first time
        if run:
            runs.append(t.isoformat())
        previous, t = local, t + MINUTE
    return runs


def trigger_runs(
    expression: str, tz: ZoneInfo, start: datetime, end: datetime, limit: int
) -> list[str]:
    trigger = build_trigger(parse_schedule(expression), tz, start=start)
    runs: list[str] = []
    previous, now = None, start
    while len(runs) < limit:
        moment = trigger.get_next_fire_time(previous, now)
        if moment is None or moment >= end:
            break
        runs.append(moment.astimezone(UTC).isoformat())
        previous, now = moment, moment + timedelta(seconds=1)
    return runs


CASES = [(name, change) for name in ZONES for change in transitions(name)]


@settings(max_examples=300, deadline=None)
@given(
    expression=expressions,
    case=st.sampled_from(CASES),
    before=st.integers(0, 36 * 60),
)
def test_runs_across_dst_changes_match_real_time(
    expression: str, case: tuple[str, datetime], before: int
) -> None:
    name, change = case
    start = change - timedelta(minutes=before, seconds=30)
    end = change + timedelta(days=2)
    tz = zone(name)
    expected = oracle(expression, tz, start, end, 40)
    assert trigger_runs(expression, tz, start, end, 40) == expected, (expression, name, start)


@pytest.mark.parametrize(
    ("zone_name", "expression", "start", "expected"),
    [
        # The runs APScheduler's CronTrigger lost (a differential test found them).
        ("Europe/Berlin", "0 0 * * *", "2027-03-27T12:00",
         ["2027-03-28T00:00:00+01:00", "2027-03-29T00:00:00+02:00", "2027-03-30T00:00:00+02:00"]),
        ("America/New_York", "0 0 1 * *", "2027-03-01T12:00",
         ["2027-04-01T00:00:00-04:00", "2027-05-01T00:00:00-04:00"]),
        ("Europe/Berlin", "0 1,2 * * *", "2027-03-28T00:30",
         ["2027-03-28T01:00:00+01:00", "2027-03-28T03:00:00+02:00",
          "2027-03-29T01:00:00+02:00"]),
        ("Australia/Lord_Howe", "30 2 * * *", "2027-10-02T12:00",
         ["2027-10-03T02:30:00+11:00", "2027-10-04T02:30:00+11:00"]),
        ("Australia/Lord_Howe", "0 2 * * *", "2027-10-02T12:00",
         ["2027-10-03T02:30:00+11:00", "2027-10-04T02:00:00+11:00"]),
        # A wildcard minute follows real time, as cron(8) does: 02:00–02:59 never happens.
        ("Europe/Berlin", "*/20 2-3 * * *", "2027-03-28T00:00",
         ["2027-03-28T03:00:00+02:00", "2027-03-28T03:20:00+02:00"]),
    ],
)  # fmt: skip
def test_the_lost_runs(zone_name: str, expression: str, start: str, expected: list[str]) -> None:
    tz = zone(zone_name)
    begin = datetime.fromisoformat(start).replace(tzinfo=tz)
    runs = preview(parse_schedule(expression), tz, begin, len(expected))
    assert [t.isoformat() for t in runs] == expected


def test_triggers_stored_under_their_old_module_path_still_load() -> None:
    """APScheduler's job store pickles triggers by class path; jobs stored before the
    triggers moved to ``app.triggers`` name ``app.engine.triggers`` and must still load."""
    import pickle

    from app.domain.schedule import parse_cron, zone
    from app.triggers import CrontabTrigger

    trigger = CrontabTrigger(parse_cron("0 9 * * *"), zone("UTC"), follow_real_time=False)
    old = pickle.dumps(trigger, protocol=0).replace(b"capp.triggers\n", b"capp.engine.triggers\n")
    assert b"app.engine.triggers" in old
    loaded = pickle.loads(old)
    assert isinstance(loaded, CrontabTrigger) and loaded.fields == trigger.fields
