"""Shared set-up for the publishing tests: a signed-in channel, a job whose items publish,
and items brought to the upload phase through the real queue (with stand-in video files)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from app import ops
from app.domain.publishing import CHUNK_UNIT
from app.google.channels import token_key
from app.google.publisher import Publisher, PublishSettings
from app.google.quota import QuotaLimits
from app.ops.jobs import JobRequest
from app.services import Services
from app.sources.intake import SourceSpec
from app.store import queue
from app.store.models import Channel
from tests.conftest import HEADER, full_row
from tests.fake_google import Google
from tests.fake_youtube import Channel as FakeChannel


def sign_in_channel(
    workspace: Services, google: Google, channel: FakeChannel | None = None, token: str = ""
) -> str:
    """A channel as `auth login --youtube` leaves it: a token secret and a channels row."""
    channel = channel or google.youtube.channels[0]
    if channel not in google.youtube.channels:
        google.youtube.channels.append(channel)
    token = token or f"token-{channel.id}"
    google.tokens.add(token)
    google.youtube.token_channel[token] = channel.id
    workspace.channels.secrets.set(
        token_key(channel.id),
        json.dumps(
            {
                "token": token,
                "refresh_token": f"refresh-{channel.id}",
                "client_id": "cid.apps.googleusercontent.com",
                "client_secret": "csecret",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        ),
    )
    with workspace.db.write() as session:
        session.merge(
            Channel(
                id=channel.id,
                title=channel.title,
                handle=channel.handle,
                project="cid.apps.googleusercontent.com",
            )
        )
    return channel.id


def publishing_job(
    workspace: Services,
    tmp_path: Path,
    rows: int = 1,
    *,
    titles: list[str] | None = None,
    **publish: Any,
) -> int:
    path = tmp_path / "ideas.csv"
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for n in range(rows):
            title = titles[n] if titles else f"Video number {n + 1}"
            writer.writerow(full_row(idea_title=title))
    plan = {
        "target": "youtube",
        "channel": publish.pop("channel", "UC_x5XG1OV2P6uZZ5FSM9Ttw"),
        "privacy": "public",
        "made_for_kids": False,
        **publish,
    }
    return ops.jobs.create_job(
        workspace, JobRequest.of(SourceSpec(str(path)), title="Publishing", publish=plan)
    ).job_id


def render_stand_in(
    workspace: Services, job_id: int, folder: Path, size: int = 3 * CHUNK_UNIT + 1000
) -> list[int]:
    """Claim and 'render' every item of the job: files are written, the outcome recorded
    through the real queue (so each item moves on to approval or upload)."""
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    with workspace.db.write() as session:
        claims = [c for c in queue.claim_next(session, 100) if c.job_id == job_id]
        for claim in claims:
            video = folder / f"{claim.row:03d}.mp4"
            video.write_bytes(os.urandom(size))
            thumb = folder / f"{claim.row:03d}.png"
            thumb.write_bytes(b"\x89PNG\r\n\x1a\nthumbnail")
            meta = folder / f"{claim.row:03d}.json"
            meta.write_text(
                json.dumps(
                    {
                        "title": claim.idea["idea_title"],
                        "description": "A description.",
                        "tags": ["sky", "blue sky", "science"],
                        "language": "en",
                    }
                )
            )
            outputs = {
                "video": str(video),
                "thumbnail": str(thumb),
                "captions": str(folder / "x.srt"),
                "metadata": str(meta),
                "duration": 12.0,
            }
            queue.finish_item(session, claim, "completed", outputs=outputs)
            done.append(claim.item_id)
    return done


def publisher(workspace: Services, clock: Any = None, **settings: Any) -> Publisher:
    limits = settings.pop("limits", QuotaLimits())
    destination = settings.pop("destination", "youtube")
    options = {"chunk_bytes": CHUNK_UNIT, "attempts": 4, "max_wait": 0.01, **settings}
    ledger = workspace.quota
    if clock is not None:
        ledger.clock = clock
    ledger.limits = lambda: limits
    return Publisher(
        workspace.db,
        workspace.channels,
        ledger,
        PublishSettings(limits=limits, **options),
        sleep=lambda _s: None,
        destination=destination,
        **({"clock": clock} if clock is not None else {}),
    )


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def upload_once(
    workspace: Services, pub: Publisher, item_id: int, now: datetime | None = None, **events: Any
) -> tuple[Any, str]:
    """What the engine does for one upload: claim, publish, record. (outcome, item state)"""
    from app.store import publishing
    from app.store.models import utcnow

    with workspace.db.write() as session:
        claims = [c for c in publishing.claim_uploads(session, 10, now or utcnow())
                  if c.item_id == item_id]  # fmt: skip
    assert claims, f"item {item_id} is not ready to upload"
    outcome = pub.publish(item_id, **events)
    with workspace.db.write() as session:
        state = publishing.finish_upload(
            session,
            claims[0],
            outcome.kind,
            message=outcome.message,
            status=outcome.status,
            until=outcome.until,
        )
    return outcome, state


def stand_in_render(task: Any, progress: Any, **_kwargs: Any) -> Any:
    """For the engine's `run_render`: writes a video, thumbnail and metadata as a render
    would, in a moment."""
    from app.pipeline.runner import RenderOutcome

    task.out_dir.mkdir(parents=True, exist_ok=True)
    stem = task.out_dir / f"{task.row:03d}"
    files = {
        "video": stem.with_suffix(".mp4"),
        "thumbnail": stem.with_suffix(".png"),
        "captions": stem.with_suffix(".srt"),
        "metadata": stem.with_suffix(".json"),
    }
    files["video"].write_bytes(os.urandom(300_000))
    files["thumbnail"].write_bytes(b"\x89PNG thumbnail")
    files["captions"].write_text("1\n00:00:00,000 --> 00:00:01,000\nHi\n")
    files["metadata"].write_text(
        json.dumps({"title": task.idea["idea_title"], "description": "d", "tags": ["a"]})
    )
    progress("encode", 0.5)
    result: dict[str, Any] = {k: str(v) for k, v in files.items()}
    result["duration"] = 10.0
    return RenderOutcome("completed", result)
