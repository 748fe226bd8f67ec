"""Publishing on the command line: ``jobs create`` options, ``channels`` and ``items``."""

from __future__ import annotations

import argparse
import json
from contextlib import closing
from datetime import datetime
from typing import Any

from app import ops
from app.cli.common import record_id
from app.domain.errors import UserError
from app.domain.output import Container, Optimize, OutputConfig, Resolution
from app.domain.publishing import Privacy, category_id, parse_when
from app.domain.schedule import local_zone_name
from app.domain.tiktok import privacy_of
from app.paths import AppPaths
from app.pipeline.footage import CHOICES, FOOTAGE_HELP
from app.pipeline.styles import BUILTIN
from app.services import Services

# --- jobs create ------------------------------------------------------------------------------


def add_job_arguments(create: argparse.ArgumentParser) -> None:
    """The output options `render` has, and the publishing options."""
    out = create.add_argument_group("output (as for `render`)")
    out.add_argument("--format", choices=[c.value for c in Container], help="default mp4")
    out.add_argument("--video-codec", choices=["h264", "h265", "vp9"])
    out.add_argument("--audio-codec", choices=["aac", "opus"])
    out.add_argument("--resolution", choices=[r.value for r in Resolution], help="default 1080p")
    out.add_argument("--vertical", action="store_true", help="9:16 (Shorts, Reels, TikTok)")
    out.add_argument("--optimize", choices=[o.value for o in Optimize], help="default balanced")
    out.add_argument("--style", metavar="NAME", help=f"{', '.join(BUILTIN)} or a template name")
    out.add_argument("--footage", choices=CHOICES, help=FOOTAGE_HELP)
    out.add_argument("--out", metavar="DIR", help="folder for the videos (default: one per job)")
    out.add_argument(
        "--storage",
        metavar="URL",
        help="also deliver the videos to s3://bucket/folder or gs://bucket/folder, or none "
        "(default: the storage.target setting)",
    )
    out.add_argument(
        "--needs",
        metavar="NAME=AMOUNT",
        help="on a render cluster: only workers offering this render it, e.g. GPU=1 "
        "(default: the render.cluster_needs setting)",
    )
    pub = create.add_argument_group("publishing")
    pub.add_argument(
        "--publish",
        metavar="PLATFORMS|sheet",
        help="publish each video when rendered: youtube, shorts, tiktok, instagram, facebook or "
        "several (youtube,tiktok); sheet: where each row's Platforms cell says (sheet:youtube — "
        "youtube where it is empty)",
    )
    pub.add_argument(
        "--channel", metavar="ID|TITLE", help="YouTube: a channel from `accounts list`"
    )
    pub.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="PLATFORM:ACCOUNT",
        help="the account for a platform, by id, name or handle (repeatable), e.g. "
        "tiktok:@skyfacts; the only one signed in is used when none is named",
    )
    pub.add_argument(
        "--privacy", choices=[p.value for p in Privacy], default="private", help="default private"
    )
    pub.add_argument(
        "--publish-at", metavar="ISO", help="one publish time for all (e.g. 2026-12-24T17:00)"
    )
    pub.add_argument("--publish-every", metavar="DURATION", help="e.g. 1d, 12h: with --first")
    pub.add_argument("--first", metavar="ISO", help="the first video's publish time")
    pub.add_argument(
        "--publish-slots",
        action="store_true",
        help="each video into the channel's next free calendar slot (see `calendar config`)",
    )
    pub.add_argument("--playlist", metavar="ID", help="add each video to this playlist")
    pub.add_argument("--category", metavar="ID|NAME", default="27", help="default 27 (Education)")
    kids = pub.add_mutually_exclusive_group()
    kids.add_argument("--made-for-kids", dest="kids", action="store_true", default=None)
    kids.add_argument("--not-made-for-kids", dest="kids", action="store_false")
    pub.add_argument(
        "--synthetic-media",
        action="store_true",
        help="disclose altered or synthetic content (YouTube's label)",
    )
    pub.add_argument(
        "--approve", action="store_true", help="hold each rendered video for your approval"
    )
    tik = create.add_argument_group("TikTok (required by TikTok when it is a destination)")
    tik.add_argument(
        "--tiktok-privacy",
        metavar="LEVEL",
        help="who may see the posts: PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS, "
        "FOLLOWER_OF_CREATOR or SELF_ONLY — TikTok allows no default",
    )
    tik.add_argument(
        "--tiktok-music-consent",
        action="store_true",
        help="you agree to TikTok's Music Usage Confirmation (needed to post)",
    )
    for flag, what in (("comment", "comments"), ("duet", "duets"), ("stitch", "stitches")):
        tik.add_argument(
            f"--tiktok-allow-{flag}",
            action="store_true",
            help=f"allow {what} (off unless asked; off anyway where the account turned them off)",
        )
    tik.add_argument(
        "--tiktok-your-brand",
        action="store_true",
        help="disclose: the posts promote your own business (labelled Promotional content)",
    )
    tik.add_argument(
        "--tiktok-branded-content",
        action="store_true",
        help="disclose: paid partnerships promoting another brand (labelled Paid partnership)",
    )
    tik.add_argument(
        "--tiktok-not-ai-generated",
        action="store_true",
        help="leave off TikTok's AI-generated content label (on by default: Cadence makes "
        "the voice and often the script)",
    )


def output_from_arguments(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, attribute in (
        ("container", "format"),
        ("video_codec", "video_codec"),
        ("audio_codec", "audio_codec"),
        ("resolution", "resolution"),
        ("optimize", "optimize"),
        ("footage", "footage"),
    ):
        if getattr(args, attribute):
            data[key] = getattr(args, attribute)
    if args.vertical:
        data["vertical"] = True
    if data.get("container") == "webm":  # codecs WebM can hold, unless asked otherwise
        data.setdefault("video_codec", "vp9")
        data.setdefault("audio_codec", "opus")
    OutputConfig.from_dict(data)  # impossible combinations refused before anything is stored
    if args.out:
        data["folder"] = args.out
    if args.storage is not None:
        data["storage"] = args.storage.strip()
    if args.needs is not None:
        data["needs"] = args.needs.strip()
    return data


def publish_from_arguments(args: argparse.Namespace) -> dict[str, Any]:
    asked = [
        flag
        for flag, value in (
            ("--channel", args.channel),
            ("--publish-at", args.publish_at),
            ("--publish-every", args.publish_every),
            ("--first", args.first),
            ("--publish-slots", args.publish_slots),
            ("--playlist", args.playlist),
            ("--approve", args.approve),
            ("--synthetic-media", args.synthetic_media),
            ("--account", args.account),
            ("--tiktok-privacy", args.tiktok_privacy),
        )
        if value
    ]
    if not args.publish:
        if asked:
            raise UserError(f"{asked[0]} needs --publish (youtube, tiktok or sheet)")
        return {}
    accounts: dict[str, str] = {}
    channel = args.channel or ""
    for text in args.account:
        platform, sep, ref = text.partition(":")
        platform = platform.strip().lower()
        platform = {"instagram": "instagram_reels", "reels": "instagram_reels"}.get(
            platform, platform
        )
        if not sep or not ref.strip() or platform not in (
            "youtube", "tiktok", "instagram_reels", "facebook"
        ):  # fmt: skip
            raise UserError(
                f"--account {text!r}: write it as PLATFORM:ACCOUNT, e.g. tiktok:@skyfacts "
                "(platforms: youtube, tiktok, instagram, facebook)"
            )
        if platform == "youtube":
            channel = channel or ref.strip()
        else:
            accounts[platform] = ref.strip()
    plan: dict[str, Any] = {
        "target": args.publish.strip(),
        "channel": channel,
        "accounts": accounts,
        "privacy": args.privacy,
        "category": category_id(args.category),
        "made_for_kids": args.kids,
        "synthetic_media": args.synthetic_media,
        "approve": args.approve,
    }
    if args.publish_slots:
        if args.publish_at or args.publish_every:
            flag = "--publish-at" if args.publish_at else "--publish-every"
            raise UserError(f"--publish-slots and {flag} exclude each other — pick one")
        plan["slots"] = True
    for key, value in (
        ("publish_at", args.publish_at),
        ("every", args.publish_every),
        ("first", args.first),
        ("playlist", args.playlist),
    ):
        if value:
            plan[key] = value
    if args.timezone:
        plan["timezone"] = args.timezone
    if "tiktok" in args.publish.lower() or "sheet" in args.publish.lower():
        plan["tiktok"] = {
            "privacy": privacy_of(args.tiktok_privacy).value if args.tiktok_privacy else None,
            "music_consent": args.tiktok_music_consent,
            "allow_comment": args.tiktok_allow_comment,
            "allow_duet": args.tiktok_allow_duet,
            "allow_stitch": args.tiktok_allow_stitch,
            "your_brand": args.tiktok_your_brand,
            "branded_content": args.tiktok_branded_content,
            "ai_generated": not args.tiktok_not_ai_generated,
        }
    return plan


# --- channels and items ----------------------------------------------------------------------


def add_parser(commands: Any) -> None:
    channels = commands.add_parser("channels", help="YouTube channels Cadence publishes to")
    actions = channels.add_subparsers(dest="channels_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the signed-in channels")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_channels_list)
    remove = actions.add_parser("remove", help="forget a channel (its token is revoked)")
    remove.add_argument("channel", metavar="ID", help="its id, title or handle")
    remove.set_defaults(handler=cmd_channels_remove)

    items = commands.add_parser("items", help="approve, reject or reschedule videos")
    item_actions = items.add_subparsers(dest="items_command", metavar="ACTION", required=True)
    approve = item_actions.add_parser("approve", help="let rendered videos upload")
    approve.add_argument("ids", type=record_id, nargs="+", metavar="ID")
    approve.set_defaults(handler=cmd_items_approve)
    reject = item_actions.add_parser("reject", help="skip rendered videos (or render them again)")
    reject.add_argument("ids", type=record_id, nargs="+", metavar="ID")
    reject.add_argument("--reason", default="", metavar="TEXT", help="why, for the record")
    reject.add_argument(
        "--render-again", action="store_true", help="render them again instead of skipping them"
    )
    reject.set_defaults(handler=cmd_items_reject)
    reschedule = item_actions.add_parser(
        "reschedule", help="a new publish time for a video not yet public"
    )
    reschedule.add_argument("id", type=record_id, metavar="ID")
    reschedule.add_argument("--publish-at", required=True, metavar="ISO")
    reschedule.add_argument(
        "--timezone",
        metavar="ZONE",
        help="zone of a time without offset (default: local)",
    )
    reschedule.set_defaults(handler=cmd_items_reschedule)


def cmd_channels_list(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        records = workspace.channels.records()
    if args.json:
        print(json.dumps([r.to_dict() for r in records], indent=2, ensure_ascii=False))
        return 0
    if not records:
        print("No YouTube channel yet. Add one with: python main.py auth login --youtube")
        return 0
    for record in records:
        line = f"{record.id}  {record.title}"
        line += f"  {record.handle}" if record.handle else ""
        if record.waiting:
            line += f"  ({record.waiting} uploads planned)"
        print(line)
        if record.hold:
            print(f"    on hold: {record.hold}")
    return 0


def cmd_channels_remove(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        print(ops.accounts.remove_channel(workspace, args.channel))
    return 0


def cmd_items_approve(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        print(ops.publishing.approve(workspace, args.ids))
    return 0


def cmd_items_reject(args: argparse.Namespace, paths: AppPaths) -> int:
    with closing(Services(paths)) as workspace:
        print(ops.publishing.reject(workspace, args.ids, args.reason, args.render_again))
    return 0


def cmd_items_reschedule(args: argparse.Namespace, paths: AppPaths) -> int:
    when: datetime = parse_when(args.publish_at, args.timezone or local_zone_name())
    with closing(Services(paths)) as workspace:
        print(ops.publishing.reschedule(workspace, args.id, when))
    return 0
