"""``analytics``: how the published videos do — views, likes, comments, best and worst, and
the weekdays and hours that worked for this channel."""

from __future__ import annotations

import argparse
import json
from contextlib import closing
from datetime import datetime
from typing import Any

from app import ops, queries
from app.cli.common import record_id, whole
from app.domain.analytics import Bucket, Ranked
from app.paths import AppPaths
from app.services import Services

SHOWN = 5  # best and worst videos listed


def add_parser(commands: Any) -> None:
    show = commands.add_parser(
        "analytics", help="views, likes and comments of published videos; the hours that work"
    )
    show.add_argument("--fetch", action="store_true", help="read the latest figures from YouTube")
    show.add_argument("--channel", metavar="CHANNEL", help="one channel (id, @handle or title)")
    show.add_argument("--job", type=record_id, metavar="ID", help="one job's videos")
    show.add_argument(
        "--days",
        type=whole(1, 3650),
        default=7,
        help="compare videos by their views this many days in",
    )
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_analytics)


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _figures(ranked: Ranked) -> str:
    reading = ranked.video.latest
    extra = ""
    if reading is not None:
        likes = "likes hidden" if reading.likes is None else plural(reading.likes, "like")
        comments = (
            "comments off" if reading.comments is None else plural(reading.comments, "comment")
        )
        extra = f" · now {reading.views:,} views, {likes}, {comments}"
    return f"{ranked.views:,} views{extra}"


def _buckets(buckets: list[Bucket]) -> str:
    shown = [f"{b.label} {b.mean_views:,.0f} ({b.videos})" for b in buckets if b.mean_views]
    return " · ".join(shown) or "not enough figures yet"


def cmd_analytics(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        channel = workspace.channels.resolve(args.channel).id if args.channel else None
        if args.fetch:
            print(ops.publishing.fetch_analytics(workspace).message)
        report = queries.analytics.analytics_report(workspace, channel, args.job, args.days)
    if args.json:
        print(json.dumps(_as_json(report), indent=2))
        return 0
    videos = report["videos"]
    last: datetime | None = report["last_read"]
    when = f"read {last.astimezone():%Y-%m-%d %H:%M}" if last else "never read yet"
    print(f"{len(videos)} published videos; figures {when}")
    if not videos:
        print("Nothing is published yet: videos appear here once they are on YouTube.")
        return 0
    ranked: list[Ranked] = report["ranked"]
    if not ranked:
        print("No figures yet — run `analytics --fetch` (the engine reads them once a day).")
        return 0
    basis = f"views {args.days} days after publishing" if ranked[0].at_days else "views so far"
    print(f"Best ({basis}):")
    for n, item in enumerate(ranked[:SHOWN], 1):
        print(f"  {n}. “{item.video.title}” (job {item.video.job_id}): {_figures(item)}")
    if len(ranked) > SHOWN:
        print("Worst:")
        for item in ranked[-min(SHOWN, len(ranked) - SHOWN) :]:
            print(f"  “{item.video.title}” (job {item.video.job_id}): {_figures(item)}")
    print(f"By weekday published (mean views, videos): {_buckets(report['weekday'])}")
    print(f"By hour published: {_buckets(report['hour'])}")
    hours = report["best_hours"]
    if hours:
        listed = ", ".join(f"{h:02d}:00" for h in hours)
        print(f"Best hours: {listed} — `calendar suggest` and new jobs prefer them")
    else:
        print("Best hours: not enough videos a week old yet to tell")
    return 0


def _as_json(report: dict[str, Any]) -> dict[str, Any]:
    last = report["last_read"]
    return {
        "last_read": last.isoformat() if last else None,
        "videos": [
            {
                "item_id": v.item_id,
                "job_id": v.job_id,
                "title": v.title,
                "video_id": v.video_id,
                "channel_id": v.channel_id,
                "published_at": v.published_at.isoformat(),
                "readings": [
                    {
                        "at": r.at.isoformat(),
                        "views": r.views,
                        "likes": r.likes,
                        "comments": r.comments,
                    }
                    for r in v.readings
                ],
            }
            for v in report["videos"]
        ],
        "ranked": [
            {"item_id": r.video.item_id, "views": r.views, "at_days": r.at_days}
            for r in report["ranked"]
        ],
        "by_weekday": [_bucket(b) for b in report["weekday"]],
        "by_hour": [_bucket(b) for b in report["hour"]],
        "best_hours": report["best_hours"],
    }


def _bucket(bucket: Bucket) -> dict[str, Any]:
    return {"label": bucket.label, "videos": bucket.videos, "mean_views": bucket.mean_views}
