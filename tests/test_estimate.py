"""What a job will cost before it starts: from this machine's own renders, or a stated guess."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from app.domain.estimate import GUESSED_PACE, Pace, estimate
from app.paths import DEMO_SHEET
from app.sources.intake import SourceSpec
from app.store.models import Execution, Item
from app.workspace import Workspace

START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_a_guess_until_something_was_rendered_here() -> None:
    found = estimate([60.0] * 4, "1080p", 2, START, Pace(), upload=False)
    assert not found.measured
    assert found.render_seconds == 4 * 60 * GUESSED_PACE / 2  # two at once
    assert found.ready_by == START + timedelta(seconds=found.render_seconds)
    assert found.quota_units == 0 and found.quota_days == 0
    assert found.disk_bytes == 4 * (60 * 900_000 + 400_000)
    assert "a guess" in found.lines()[0] and not any("quota" in line for line in found.lines())


def test_measured_pace_and_quota_days() -> None:
    pace = Pace(seconds_per_second=2.0, bytes_per_second=1_000_000, renders=9)
    found = estimate([30.0] * 10, "4k", 1, START, pace, upload=True, units_per_day=10_000)
    assert found.measured and found.render_seconds == 600  # 10 × 30 s × 2, one at a time
    assert found.disk_bytes == 10 * (30 * 1_000_000 + 400_000)
    assert found.quota_units == 10 * 1_704 and found.quota_days == 2
    lines = found.lines()
    assert lines[0] == "Estimated render time: 10 min (from this computer's recent renders)"
    assert lines[-1] == "YouTube quota: 17,040 units — 2 days of quota"


def test_the_pace_comes_from_each_items_render_not_its_upload(
    workspace: Workspace, tmp_path: Path
) -> None:
    made = workspace.create_job(SourceSpec(str(DEMO_SHEET)), title="Paced")
    video = tmp_path / "001.mp4"
    video.write_bytes(b"x" * 60_000)
    with workspace.db.write() as session:
        item = session.scalars(select(Item).where(Item.job_id == made.job_id)).first()
        assert item is not None
        item.outputs = {"video": str(video), "duration": 60.0}
        # The render took 30 s; the upload after it 600 s (not rendering time).
        render = (START, START + timedelta(seconds=30))
        upload = (START + timedelta(minutes=1), START + timedelta(minutes=11))
        for began, ended in (render, upload):
            session.add(
                Execution(
                    item=item, attempt=1, started_at=began, finished_at=ended, outcome="completed"
                )
            )
    pace = workspace.render_pace()
    assert pace.renders == 1 and pace.seconds_per_second == 0.5
    assert pace.bytes_per_second == 1_000
