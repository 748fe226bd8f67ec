"""Job scheduling: modes, per-job limits, the priority queue, rules, and the rate limiter."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from app import queries
from app.domain.dispatch import Mode, SchedulingConfig, item_cost, item_tags
from app.domain.errors import DraftError
from app.domain.idea import Idea, Priority
from app.domain.job import JobDraft
from app.domain.validation import Level, RowReport
from app.engine import rendering, service
from app.engine.load import LoadGauge, Reading
from app.google.ratelimit import RateLimiter
from app.paths import AppPaths
from app.pipeline.runner import RenderOutcome
from app.services import Services
from app.store import jobs as job_store
from app.store import queue, stats
from app.store.models import Item, Job, utcnow
from tests.conftest import FakeClock

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def workspace(data_dir: Path) -> Iterator[Services]:
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        yield ws


def idea(n: int, **fields: Any) -> Idea:
    return Idea(
        idea_title=f"Idea {n}", script_content=fields.pop("script", "Hello there."), **fields
    )


def add_job(
    workspace: Services,
    ideas: list[Idea],
    scheduling: dict[str, Any] | None = None,
    priority: str = "normal",
    title: str = "Batch",
) -> int:
    rows = [RowReport(n + 2, i.idea_title, i) for n, i in enumerate(ideas)]
    draft = JobDraft(
        title=title,
        source_kind="csv",
        source_location="/tmp/x.csv",
        validation_level=Level.PERMISSIVE,
        priority=Priority(priority),
        scheduling=scheduling or {},
    )
    with workspace.db.write() as session:
        return job_store.create_job(session, draft, rows, "test")


def claim(workspace: Services, limit: int = 10, **kwargs: Any) -> list[tuple[int, int]]:
    """(job id, row) of each claimed item, in claim order."""
    with workspace.db.write() as session:
        return [(c.job_id, c.row) for c in queue.claim_next(session, limit, **kwargs)]


def items(workspace: Services, job_id: int) -> list[Item]:
    with workspace.db.read() as session:
        found = session.scalars(
            select(Item).where(Item.job_id == job_id).order_by(Item.row_number)
        ).all()
        session.expunge_all()
        return list(found)


# --- configuration is checked, field by field --------------------------------------------


@pytest.mark.parametrize(
    ("scheduling", "field", "words"),
    [
        ({"mode": "fastest"}, "mode", "smart"),
        ({"max_concurrent": 0}, "max_concurrent", "from 1 to 16"),
        ({"max_concurrent": "two"}, "max_concurrent", "whole number"),
        ({"priority_queue": "yes"}, "priority_queue", "true or false"),
        ({"start_at": "tomorrow"}, "start time", "date and time"),
        ({"start_at": "2026-12-02T10:00", "end_at": "2026-12-01T10:00"}, "end time", "after"),
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA"),
        ({"order": "random"}, "order", "simple_first"),
        ({"speed": 3}, "scheduling.speed", "not a scheduling setting"),
        ({"rules": {"id": "x"}}, "rules", "list"),
        ({"rules": [{"name": "no id", "type": "time_based"}]}, "rules[1].id", "missing"),
        ({"rules": [{"id": "a", "type": "weather"}]}, "rules[1].type", "time_based"),
        (
            {"rules": [{"id": "a", "type": "time_based", "settings": {"time_window": "9-17"}}]},
            "rules[1].settings.time_window",
            "HH:MM-HH:MM",
        ),
        (
            {
                "rules": [
                    {
                        "id": "a",
                        "type": "time_based",
                        "settings": {"time_window": "09:00-17:00", "action": "skip"},
                    }
                ]
            },
            "rules[1].settings.action",
            "delay or only",
        ),
        (
            {
                "rules": [
                    {"id": "a", "type": "time_based", "settings": {"days_of_week": ["funday"]}}
                ]
            },
            "rules[1].settings.days_of_week",
            "not a day",
        ),
        (
            {"rules": [{"id": "a", "type": "content_based", "settings": {"max_concurrent": 2}}]},
            "rules[1].settings",
            "needs content_tags",
        ),
        (
            {
                "rules": [
                    {"id": "a", "type": "priority_based", "settings": {"priority_threshold": "top"}}
                ]
            },
            "rules[1].settings.priority_threshold",
            "low, normal or high",
        ),
        (
            {"rules": [{"id": "a", "type": "time_based", "settings": {"window": "09:00-10:00"}}]},
            "rules[1].settings.window",
            "not a rule setting",
        ),
        (
            {
                "rules": [
                    {"id": "a", "type": "time_based", "settings": {"days_of_week": ["mon"]}},
                    {"id": "a", "type": "time_based", "settings": {"days_of_week": ["tue"]}},
                ]
            },
            "rules",
            "share the id",
        ),
        (
            {
                "rules": [
                    {"id": "a", "type": "time_based", "settings": {"days_of_week": "mon"}},
                    {
                        "id": "b",
                        "type": "priority_based",
                        "settings": {"priority_threshold": "high", "min_interval_ms": -5},
                    },
                ]
            },
            "rules[2].settings.min_interval_ms",
            "from 0 to",
        ),
    ],
)
def test_a_malformed_setting_is_refused_naming_its_field(
    scheduling: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(DraftError) as caught:
        SchedulingConfig.from_dict(scheduling)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_a_job_with_a_malformed_rule_is_not_stored(workspace: Services) -> None:
    bad = {"rules": [{"id": "night", "type": "time_based", "settings": {"time_window": "25:00"}}]}
    with pytest.raises(DraftError, match=r"rules\[1\]\.settings\.time_window"):
        add_job(workspace, [idea(1)], bad)
    assert queries.jobs.jobs(workspace) == []


def test_settings_survive_a_round_trip() -> None:
    config = SchedulingConfig.from_dict(
        {
            "mode": "content_based",
            "max_concurrent": 3,
            "priority_queue": False,
            "start_at": "2026-12-01T09:00",
            "end_at": "2026-12-01T18:00",
            "timezone": "Europe/Berlin",
            "tags": "YouTube, upbeat",
            "priority_threshold": "normal",
            "order": "complex_first",
            "rules": [
                {
                    "id": "office",
                    "name": "Office hours",
                    "type": "time_based",
                    "settings": {"time_window": "9:00-17:30", "days_of_week": ["Mon", "fri", 2]},
                },
                {
                    "id": "slow",
                    "type": "priority_based",
                    "enabled": False,
                    "settings": {"priority_threshold": "high", "min_interval_ms": 500},
                },
            ],
            "retry": {"strategy": "fixed"},
        }
    )
    assert config.start_at == datetime(2026, 12, 1, 9, tzinfo=BERLIN)
    assert config.tags == {"youtube", "upbeat"}
    assert config.rules[0].days_of_week == {0, 2, 4}
    assert SchedulingConfig.from_dict(config.to_dict()) == config
    assert config.to_dict()["rules"][0]["settings"]["time_window"] == "09:00-17:30"


# --- time rules ----------------------------------------------------------------------------


def window_config(window: str, action: str = "only", **settings: Any) -> SchedulingConfig:
    return SchedulingConfig.from_dict(
        {
            "timezone": "Europe/Berlin",
            "rules": [
                {
                    "id": "w",
                    "type": "time_based",
                    "settings": {"time_window": window, "action": action, **settings},
                }
            ],
        }
    )


def berlin(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("window", "action", "now", "expected"),
    [
        ("09:00-17:00", "only", berlin(2, 8, 15), berlin(2, 9)),  # before: wait for it
        ("09:00-17:00", "only", berlin(2, 12), berlin(2, 12)),  # inside: now
        ("09:00-17:00", "only", berlin(2, 17), berlin(3, 9)),  # the end is exclusive
        ("22:00-06:00", "only", berlin(2, 12), berlin(2, 22)),  # across midnight
        ("22:00-06:00", "only", berlin(3, 5, 59), berlin(3, 5, 59)),
        ("12:00-13:00", "delay", berlin(2, 12, 30), berlin(2, 13)),  # blackout: wait it out
        ("12:00-13:00", "delay", berlin(2, 14), berlin(2, 14)),
    ],
)
def test_time_windows_on_the_jobs_wall_clock(
    window: str, action: str, now: datetime, expected: datetime
) -> None:
    assert window_config(window, action).next_start(now) == expected


def test_days_of_week_and_windows_combine() -> None:
    config = window_config("10:00-11:00", days_of_week=["sat", "sun"])
    wednesday = berlin(2, 10, 30)
    assert config.next_start(wednesday) == berlin(5, 10)  # Saturday 10:00


def test_a_window_opening_on_a_daylight_saving_day_is_wall_clock_time() -> None:
    # Europe/Berlin springs forward on 29 March 2026: 02:00 → 03:00.
    config = window_config("08:00-09:00")
    start = config.next_start(datetime(2026, 3, 28, 20, tzinfo=BERLIN))
    assert start == datetime(2026, 3, 29, 8, tzinfo=BERLIN)
    assert start.utcoffset() == timedelta(hours=2)


# --- filters and costs ---------------------------------------------------------------------


def test_item_tags_and_cost_come_from_the_row() -> None:
    row = idea(
        1,
        tone="Upbeat, friendly",
        platform_preferences=("youtube", "tiktok"),
        style_override="minimal",
        target_audience="Students",
    ).to_dict()
    assert item_tags(row) >= {"upbeat", "friendly", "youtube", "tiktok", "minimal", "students"}
    short = item_cost(idea(1, script="one two three four five").to_dict(), {"resolution": "720p"})
    long = item_cost(idea(2, script=" ".join(["word"] * 500)).to_dict(), {"resolution": "4k"})
    assert 0 < short < long


def test_content_based_jobs_skip_rows_outside_their_tags_and_threshold(
    workspace: Services,
) -> None:
    job = add_job(
        workspace,
        [
            idea(1, tone="upbeat", priority=Priority.HIGH),
            idea(2, tone="calm", priority=Priority.HIGH),
            idea(3, tone="upbeat", priority=Priority.LOW),
        ],
        {"mode": "content_based", "tags": ["upbeat"], "priority_threshold": "normal"},
    )
    states = [(i.row_number, i.state, i.error) for i in items(workspace, job)]
    assert states[0] == (2, "pending", None)
    assert states[1][1] == "canceled" and "tagged upbeat" in (states[1][2] or "")
    assert states[2][1] == "canceled" and "normal priority or higher" in (states[2][2] or "")
    with workspace.db.read() as session:
        progress = stats.job_progress(session, job)
    assert (progress["items_skipped"], progress["items_pending"]) == (2, 1)


def test_a_job_whose_rows_are_all_filtered_out_is_complete(workspace: Services) -> None:
    job = add_job(
        workspace,
        [idea(1, tone="calm")],
        {"rules": [{"id": "t", "type": "content_based", "settings": {"content_tags": "upbeat"}}]},
    )
    assert queries.jobs.job(workspace, job)["state"] == "completed"


def test_disabled_rules_do_nothing(workspace: Services) -> None:
    job = add_job(
        workspace,
        [idea(1, tone="calm")],
        {
            "rules": [
                {
                    "id": "t",
                    "type": "content_based",
                    "enabled": False,
                    "settings": {"content_tags": "upbeat"},
                }
            ]
        },
    )
    assert claim(workspace) == [(job, 2)]


# --- the queue -----------------------------------------------------------------------------


def test_priority_queue_serves_high_priority_jobs_and_rows_first(workspace: Services) -> None:
    older = add_job(workspace, [idea(1), idea(2)], title="older, normal")
    urgent = add_job(
        workspace,
        [idea(3, priority=Priority.LOW), idea(4, priority=Priority.HIGH)],
        priority="high",
        title="newer, high",
    )
    assert claim(workspace) == [(urgent, 3), (urgent, 2), (older, 2), (older, 3)]


def test_without_the_priority_queue_it_is_first_come_first_served(workspace: Services) -> None:
    fifo = {"priority_queue": False}
    older = add_job(workspace, [idea(1), idea(2)], fifo)
    newer = add_job(
        workspace,
        [idea(3, priority=Priority.LOW), idea(4, priority=Priority.HIGH)],
        fifo,
        priority="high",
    )
    assert claim(workspace) == [(older, 2), (older, 3), (newer, 2), (newer, 3)]


def test_smart_mode_runs_cheap_items_first_within_the_load_allowance(
    workspace: Services,
) -> None:
    long, short, middle = (" ".join(["word"] * n) for n in (400, 10, 100))
    job = add_job(
        workspace,
        [idea(1, script=long), idea(2, script=short), idea(3, script=middle)],
        {"mode": "smart"},
    )
    manual = add_job(workspace, [idea(4), idea(5)])
    # Load allows one smart start; manual jobs ignore the load reading.
    assert claim(workspace, load_slots=1) == [(job, 3), (manual, 2), (manual, 3)]
    assert claim(workspace, load_slots=5) == [(job, 4), (job, 2)]


def test_complex_first_orders_costly_items_first(workspace: Services) -> None:
    short, long = "a b c", " ".join(["word"] * 300)
    job = add_job(
        workspace,
        [idea(1, script=short), idea(2, script=long)],
        {"mode": "content_based", "order": "complex_first"},
    )
    assert claim(workspace) == [(job, 3), (job, 2)]


def test_a_jobs_max_concurrent_leaves_room_for_other_jobs(workspace: Services) -> None:
    capped = add_job(workspace, [idea(n) for n in range(5)], {"max_concurrent": 2}, priority="high")
    other = add_job(workspace, [idea(9)])
    assert claim(workspace, limit=4) == [(capped, 2), (capped, 3), (other, 2)]
    assert claim(workspace, limit=4) == []  # two of the capped job's are still running
    with workspace.db.write() as session:
        first = queue.claim_next(session, 0)  # nothing
        assert first == []
        running = session.scalars(
            select(Item).where(Item.job_id == capped, Item.state == "running")
        ).first()
        assert running is not None
        running.state = "completing"
        running.state = "completed"
    assert claim(workspace, limit=4) == [(capped, 4)]


def test_a_rule_caps_concurrency_and_spaces_starts(workspace: Services) -> None:
    job = add_job(
        workspace,
        [idea(n) for n in range(4)],
        {
            "rules": [
                {
                    "id": "gentle",
                    "type": "priority_based",
                    "settings": {
                        "priority_threshold": "low",
                        "max_concurrent": 3,
                        "min_interval_ms": 60_000,
                    },
                }
            ]
        },
    )
    assert claim(workspace) == [(job, 2)]  # one start per interval
    assert claim(workspace) == []
    with workspace.db.write() as session:
        session.execute(
            update(Item)
            .where(Item.job_id == job, Item.state == "running")
            .values(started_at=utcnow() - timedelta(seconds=61))
        )
    assert claim(workspace) == [(job, 3)]


def test_a_closed_window_holds_items_and_progress_says_until_when(workspace: Services) -> None:
    now = datetime.now(UTC)
    opens = (now + timedelta(hours=2)).replace(second=0, microsecond=0)
    closes = opens + timedelta(hours=1)
    window = f"{opens:%H:%M}-{closes:%H:%M}"
    job = add_job(
        workspace,
        [idea(1), idea(2)],
        {
            "timezone": "UTC",
            "rules": [{"id": "w", "type": "time_based", "settings": {"time_window": window}}],
        },
    )
    assert claim(workspace) == []
    waiting = items(workspace, job)
    assert {i.not_before for i in waiting} == {opens}
    with workspace.db.read() as session:
        assert stats.job_progress(session, job)["waiting_until"] == opens.isoformat()
    with workspace.db.write() as session:  # the window opens
        session.execute(
            update(Item).where(Item.job_id == job).values(not_before=now - timedelta(seconds=1))
        )
    # Still outside the window by the clock: the items are held again, not started.
    assert claim(workspace) == []


def test_time_based_jobs_wait_for_their_start_and_skip_after_their_end(
    workspace: Services,
) -> None:
    later = datetime.now(UTC) + timedelta(hours=3)
    waiting = add_job(workspace, [idea(1)], {"mode": "time_based", "start_at": later.isoformat()})
    over = add_job(
        workspace,
        [idea(2), idea(3)],
        {"mode": "time_based", "end_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()},
    )
    assert claim(workspace) == []
    assert items(workspace, waiting)[0].not_before == later
    assert queries.jobs.job(workspace, over)["state"] == "completed"
    reasons = {i.error for i in items(workspace, over)}
    assert len(reasons) == 1 and "end time" in reasons.pop()  # type: ignore[operator]
    with workspace.db.read() as session:
        assert stats.job_progress(session, over)["items_skipped"] == 2


# --- load ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpu", "free_mib", "running", "free", "expected"),
    [
        (5.0, 16000.0, 0, 4, 4),  # idle machine: all the slots
        (95.0, 16000.0, 0, 4, 1),  # busy, nothing of ours running: still one
        (95.0, 16000.0, 1, 3, 0),  # busy with our render: wait
        (45.0, 16000.0, 1, 3, 1),  # one render takes 45 %: room for one more under 85 %
        (10.0, 16000.0, 1, 3, 3),
        (10.0, 1000.0, 1, 3, 1),  # memory for one more render only
        (10.0, 300.0, 1, 3, 0),  # not even that
        (10.0, 300.0, 0, 3, 1),
    ],
)
def test_load_gauge(cpu: float, free_mib: float, running: int, free: int, expected: int) -> None:
    gauge = LoadGauge(read=lambda: Reading(cpu, free_mib))
    assert gauge.slots(running, free) == expected


def test_the_engine_honours_per_job_limits_and_smart_load(
    workspace: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real engine, stand-in renders that record how many of each job ran at once."""
    lock = threading.Lock()
    now_running: dict[int, int] = {}
    peak: dict[int, int] = {}

    def fake_render(task: Any, progress: Any, **_kwargs: Any) -> RenderOutcome:
        job = int(task.out_dir.name.split("-")[1])
        with lock:
            now_running[job] = now_running.get(job, 0) + 1
            peak[job] = max(peak.get(job, 0), now_running[job])
        time.sleep(0.3)
        with lock:
            now_running[job] -= 1
        return RenderOutcome("completed", None, None)

    monkeypatch.setattr(rendering, "run_render", fake_render)
    (workspace.paths.data_dir / "out").mkdir()
    workspace.settings.set("output.folder", str(workspace.paths.data_dir / "out"))
    capped = add_job(workspace, [idea(n) for n in range(4)], {"max_concurrent": 2})
    smart = add_job(workspace, [idea(n) for n in range(3)], {"mode": "smart"})
    busy = LoadGauge(read=lambda: Reading(99.0, 16000.0))  # smart jobs: one at a time
    engine = service.Engine(
        workspace, max_concurrent=4, poll_seconds=0.05, run_schedules=False, gauge=busy
    )
    asyncio.run(engine.run(asyncio.Event(), until_idle=True))
    assert peak[capped] == 2
    assert peak[smart] == 1
    assert (
        queries.jobs.job(workspace, capped)["state"]
        == queries.jobs.job(workspace, smart)["state"]
        == "completed"
    )


# --- rate limits ---------------------------------------------------------------------------


def test_the_per_user_limit_paces_requests() -> None:
    clock = FakeClock()
    limited: list[tuple[int | None, float]] = []
    limiter = RateLimiter(
        60, 300, clock=clock, sleep=clock.sleep, on_limited=lambda j, s: limited.append((j, s))
    )
    waits = [limiter.acquire("me@example.com", job_id=7) for _ in range(62)]
    assert waits[:60] == [0.0] * 60  # a minute's worth at once
    assert waits[60] == pytest.approx(1.0) and waits[61] == pytest.approx(1.0)  # then one a second
    assert limited and limited[0] == (7, pytest.approx(1.0))
    assert limiter.delay("someone-else@example.com") == 0.0


def test_the_per_project_limit_spans_users() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, 300, clock=clock, sleep=clock.sleep)
    for user in range(5):
        for _ in range(60):
            assert limiter.acquire(f"user{user}") == 0.0
    assert limiter.delay("user9") == pytest.approx(60 / 300)  # the project is out of tokens


def test_a_quota_error_holds_every_request_until_retry_after() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, 300, clock=clock, sleep=clock.sleep)
    limiter.acquire("me")
    limiter.hold("me", 30)
    assert limiter.acquire("me") == pytest.approx(31.0)  # 30 s held, then a slow start


def test_a_rate_limited_job_says_so_in_its_progress(workspace: Services) -> None:
    job = add_job(workspace, [idea(1)])
    with workspace.db.write() as session:
        stats.mark_rate_limited(session, job, utcnow() + timedelta(seconds=20))
    with workspace.db.read() as session:
        progress = stats.job_progress(session, job)
    assert progress["rate_limited"] is True and progress["rate_limited_until"]
    with workspace.db.write() as session:
        session.execute(
            update(Job).where(Job.id == job).values(rate_limited_until=utcnow() - timedelta(1))
        )
    with workspace.db.read() as session:
        assert stats.job_progress(session, job)["rate_limited"] is False


def test_modes_are_named() -> None:
    assert {m.value for m in Mode} == {"smart", "time_based", "content_based", "manual"}
