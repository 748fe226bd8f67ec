"""A job told in words: timeline, scheduling settings and problems with their fixes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from app import ops, queries
from app.domain.job_story import problems, scheduling_words, timeline
from app.ops.jobs import JobRequest
from app.ui.job_details import JobDetails

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def record() -> dict[str, Any]:
    # fmt: off
    return {
        "state": "failed",
        "created_at": "2026-12-02T09:00:00+00:00",
        "started_at": "2026-12-02T09:01:00+00:00",
        "finished_at": "2026-12-02T09:20:00+00:00",
        "scheduling": {
            "mode": "smart", "max_concurrent": 2, "start_at": "2026-12-03T08:00:00+00:00",
            "rules": [{"id": "n", "name": "Nights", "type": "time_based",
                       "settings": {"time_window": "22:00-06:00", "days_of_week": ["sat"]}}],
        },
        "items": [
            {"row": 2, "title": "Sky", "state": "completed", "phase": "upload",
             "updated_at": "2026-12-02T09:10:00+00:00",
             "upload": {"status": "published", "video_id": "v1",
                        "url": "https://www.youtube.com/watch?v=v1",
                        "publish_at": "2026-12-02T10:00:00+00:00"},
             "history": [
                 {"attempt": 1, "started_at": "2026-12-02T09:01:00+00:00",
                  "finished_at": "2026-12-02T09:02:05+00:00", "outcome": "completed"}]},
            {"row": 3, "title": "Bees", "state": "failed", "phase": "render", "error": "no voice",
             "history": [
                 {"attempt": 1, "started_at": "2026-12-02T09:03:00+00:00",
                  "finished_at": "2026-12-02T09:03:30+00:00", "outcome": "failed",
                  "error": "the renderer crashed"},
                 {"attempt": 2, "started_at": "2026-12-02T09:05:00+00:00",
                  "finished_at": "2026-12-02T09:05:40+00:00", "outcome": "failed",
                  "error": "no voice"}]},
            {"row": 4, "title": "Cats", "state": "pending", "phase": "approval", "history": []},
        ],
    }
    # fmt: on


def test_the_timeline_tells_attempts_retries_and_uploads_in_order() -> None:
    moments = timeline(record())
    told = [m.text for m in moments]
    assert told == [
        "Job created",
        "Job started",
        "Row 2 “Sky”: attempt completed after 1 min 05 s",
        "Row 3 “Bees”: attempt failed after 30 s — the renderer crashed",
        "Row 3 “Bees”: retry (attempt 2) failed after 40 s — no voice",
        "Job failed",
        "Row 2 “Sky”: published on YouTube (https://www.youtube.com/watch?v=v1)",
    ]
    # An attempt is stamped when it ended, not when it began.
    assert moments[2].at == datetime(2026, 12, 2, 9, 2, 5, tzinfo=UTC)


def test_scheduling_in_words() -> None:
    words = scheduling_words(record()["scheduling"])
    assert words[0].startswith("Smart: items render when the computer has room")
    assert words[1] == "At most 2 at once; higher-priority rows first; in sheet order."
    assert words[2].startswith("Starts Thu 03 Dec 2026 08:00")
    assert words[3] == "Rule “Nights” (time): only 22:00–06:00; on Sat."
    assert scheduling_words({"mode": "nonsense"})[0].startswith("The scheduling settings no")


def test_problems_come_with_the_action_that_fixes_them(qtbot: QtBot) -> None:
    found = problems(record(), NOW)
    assert [(p.text, p.action) for p in found] == [
        ("1 row failed — row 3 “Bees”: no voice", "retry"),
        ("1 video awaits your approval", "approve"),
    ]
    details = JobDetails()
    qtbot.addWidget(details)
    asked: list[str] = []
    details.act.connect(asked.append)
    details.show_record(record(), NOW)
    from PySide6.QtWidgets import QPushButton

    buttons = {b.text(): b for b in details.findChildren(QPushButton)}
    buttons["Retry failed items"].click()
    buttons["Review"].click()
    assert asked == ["retry", "approve"]
    assert details.timeline.count() == 7
    assert "At most 2 at once" in details.scheduling.text()


def test_the_rows_a_job_left_out_are_kept_and_told(workspace: Any, tmp_path: Path) -> None:
    """Validation's problem rows and the empty rows it skipped stay on the job: its Details,
    `jobs show`, the API's record and the export list them with their reasons."""
    from app.domain.job_story import problems
    from app.export import render
    from app.sources.intake import SourceSpec

    sheet = tmp_path / "mixed.csv"
    sheet.write_text(
        "idea_title,script_content,duration_seconds\nGood,Words.,60\nBad,,abc\n\nAlso,More.,30\n"
    )
    created = ops.jobs.create_job(workspace, JobRequest.of(SourceSpec(str(sheet))))
    record = queries.jobs.job(workspace, created.job_id)
    assert [r["row"] for r in record["left_out"]] == [3, 4]
    assert record["left_out"][1]["problems"] == ["empty row, skipped"]
    assert any("“abc” is not a whole number" in p for p in record["left_out"][0]["problems"])
    told = [p.text for p in problems(record, datetime.now(UTC))]
    assert told and told[0].startswith("2 rows were left out — row 3 “Bad”: column C")
    assert "row 4: empty row, skipped" in told[0]
    exported = render([record], "csv").splitlines()
    assert exported[0].endswith(",left_out") and "row 4: empty row, skipped" in exported[1]
