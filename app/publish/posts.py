"""What every destination other than YouTube does the same way: the account an upload is
for (or why it waits), the rendered files it sends, the platform's view of the file, the
posts an account made lately, and a wait said in words."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.google.publisher import PublishOutcome
from app.store.database import Database
from app.store.models import Channel, Upload

_STREAM = re.compile(r"^(\w+).*?(\d{2,5})x(\d{2,5}).*?(\d+(?:\.\d+)?) fps")


def account_of(
    session: Session, upload: Upload, platform: str, adding: str
) -> Channel | PublishOutcome:
    """The account an upload goes to — or the hold while it is not signed in or is on hold.
    ``adding``: the command that signs one in (e.g. ``accounts add tiktok``)."""
    account = session.get(Channel, upload.channel_id)
    if account is None:
        return PublishOutcome(
            "hold",
            f"the {platform} account {upload.channel_id} is not signed in — add it in "
            f"Settings › Accounts or with `{adding}`",
        )
    if account.hold:
        return PublishOutcome("hold", account.hold)
    return account


def label(account: Channel) -> str:
    return f"{account.title} ({account.handle})" if account.handle else account.title


@dataclass(frozen=True, slots=True)
class Rendered:
    video: Path  # the 9:16 copy when the render made one, else the video
    metadata: dict[str, Any]

    @property
    def seconds(self) -> float:
        return float(self.metadata.get("duration_seconds") or 0)

    @property
    def tags(self) -> list[str]:
        return [str(t) for t in self.metadata.get("tags") or []]


def rendered(outputs: dict[str, Any], row: int) -> Rendered | PublishOutcome:
    """The files a vertical platform posts (the 9:16 copy made for TikTok, Reels and Shorts
    when the job's shape is not 9:16), or why they cannot be sent."""
    chosen = (outputs.get("renditions") or {}).get("9:16") or outputs.get("video")
    video = Path(str(chosen or ""))
    if not chosen or not video.is_file():
        return PublishOutcome(
            "failed",
            f"row {row}: the rendered video {chosen or ''} is missing — it was moved or "
            "deleted; retry the job to render it again",
        )
    try:
        metadata = json.loads(Path(outputs["metadata"]).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError):
        return PublishOutcome(
            "failed", f"row {row}: the video's metadata file cannot be read — retry the job"
        )
    return Rendered(video, metadata)


def stream_facts(video: Path) -> tuple[str, int, int, float] | None:
    """The video stream's codec, width, height and frame rate as ffmpeg reads them; None for
    a file ffmpeg cannot read (left for the platform to judge)."""
    from app.pipeline.probe import ffmpeg_summary

    match = _STREAM.match(ffmpeg_summary(video).video)
    if match is None:
        return None
    codec, width, height, fps = match.groups()
    return codec, int(width), int(height), float(fps)


def posted_since(
    db: Database, destination: str, account: str, since: datetime, statuses: tuple[str, ...]
) -> list[datetime]:
    """When the account's posts on ``destination`` since ``since`` were made, oldest first."""
    with db.read() as session:
        return list(
            session.scalars(
                select(Upload.updated_at)
                .where(
                    Upload.destination == destination,
                    Upload.channel_id == account,
                    Upload.status.in_(statuses),
                    Upload.updated_at >= since,
                )
                .order_by(Upload.updated_at)
            )
        )


def wait(what: str, until: datetime) -> PublishOutcome:
    local = until.astimezone()
    return PublishOutcome("wait", f"waiting for {what} until {local:%H:%M}", until)
