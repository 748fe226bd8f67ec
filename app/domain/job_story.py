"""A job told in words: its timeline, its scheduling settings, and its problems with the action
that fixes each — what the Jobs view's *Details* tab shows, from a `jobs show --json` record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.dispatch import (
    DAY_NAMES,
    Mode,
    Order,
    RuleType,
    SchedulingConfig,
    SchedulingRule,
)
from app.domain.errors import DraftError

MODES = {
    Mode.MANUAL: "Manual: items render in sheet order as slots free up",
    Mode.SMART: "Smart: items render when the computer has room, cheap ones first",
    Mode.TIME_BASED: "Time-based: items render only when their times and rules allow",
    Mode.CONTENT_BASED: "Content-based: only rows with the job's tags and priority render",
}
ORDERS = {
    Order.SHEET: "in sheet order",
    Order.SIMPLE_FIRST: "simplest rows first",
    Order.COMPLEX_FIRST: "most complex rows first",
}


@dataclass(frozen=True, slots=True)
class Moment:
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class Problem:
    text: str
    action: str  # retry | approve | settings | "" (nothing to press: it says what to do)
    button: str


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _span(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, rest = divmod(whole, 60)
    return (
        f"{minutes} min {rest:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"
    )


def timeline(record: dict[str, Any]) -> list[Moment]:
    """Created, started, each item's attempts (when each ended, how, and how long it took),
    uploads, finished — oldest first."""
    moments: list[Moment] = []
    created = _when(record.get("created_at"))
    if created:
        moments.append(Moment(created, "Job created"))
    started = _when(record.get("started_at"))
    if started:
        moments.append(Moment(started, "Job started"))
    for item in record.get("items") or []:
        label = f"Row {item['row']} “{item['title']}”"
        for entry in item.get("history") or []:
            began, ended = _when(entry.get("started_at")), _when(entry.get("finished_at"))
            if began is None:
                continue
            what = "attempt" if entry["attempt"] <= 1 else f"retry (attempt {entry['attempt']})"
            if ended is None:
                moments.append(Moment(began, f"{label}: {what} started, running"))
                continue
            outcome = entry.get("outcome") or "ended"
            error = f" — {entry['error']}" if entry.get("error") else ""
            took = _span((ended - began).total_seconds())
            # Stamped when it ended (what the line says happened then), with how long it took.
            moments.append(Moment(ended, f"{label}: {what} {outcome} after {took}{error}"))
        upload = item.get("upload") or {}
        published = _when(upload.get("publish_at"))
        if upload.get("video_id") and upload.get("status") in ("published", "scheduled"):
            verb = "published" if upload["status"] == "published" else "scheduled to publish"
            at = published or _when(item.get("updated_at"))
            if at is not None:
                moments.append(Moment(at, f"{label}: {verb} on YouTube ({upload.get('url')})"))
    finished = _when(record.get("finished_at"))
    if finished:
        moments.append(Moment(finished, f"Job {record.get('state', 'ended')}"))
    return sorted(moments, key=lambda m: m.at)


def _rule_words(rule: SchedulingRule) -> str:
    parts = []
    if rule.time_window is not None:
        window = f"{rule.time_window.start:%H:%M}–{rule.time_window.end:%H:%M}"
        parts.append(
            f"only {window}" if rule.time_window.action.value == "only" else f"not {window}"
        )
    if rule.days_of_week:
        parts.append(
            "on " + ", ".join(DAY_NAMES[d].capitalize() for d in sorted(rule.days_of_week))
        )
    if rule.max_concurrent:
        parts.append(f"at most {rule.max_concurrent} at once")
    if rule.min_interval_ms:
        parts.append(f"{_span(rule.min_interval_ms / 1000)} between starts")
    if rule.content_tags:
        parts.append("rows tagged " + ", ".join(sorted(rule.content_tags)))
    if rule.priority_threshold is not None:
        parts.append(f"{rule.priority_threshold.value} priority and above")
    kind = {RuleType.TIME_BASED: "time", RuleType.CONTENT_BASED: "content",
            RuleType.PRIORITY_BASED: "priority"}[rule.type]  # fmt: skip
    state = "" if rule.enabled else " (off)"
    return f"Rule “{rule.name}” ({kind}){state}: " + ("; ".join(parts) or "no limits")


def scheduling_words(scheduling: dict[str, Any]) -> list[str]:
    """The job's scheduling settings as sentences."""
    try:
        config = SchedulingConfig.from_dict(scheduling)
    except DraftError as exc:  # stored before a rule tightened
        return [f"The scheduling settings no longer read: {exc}"]
    lines = [MODES[config.mode] + "."]
    limits = []
    if config.max_concurrent:
        limits.append(f"at most {config.max_concurrent} at once")
    limits.append(
        "higher-priority rows first" if config.priority_queue else "first come, first served"
    )
    limits.append(ORDERS[config.order])
    said = "; ".join(limits)
    lines.append(said[0].upper() + said[1:] + ".")
    if config.start_at is not None:
        lines.append(f"Starts {config.start_at:%a %d %b %Y %H:%M} ({config.timezone}).")
    if config.end_at is not None:
        lines.append(f"Nothing starts after {config.end_at:%a %d %b %Y %H:%M}.")
    if config.tags:
        lines.append("Only rows tagged " + ", ".join(sorted(config.tags)) + ".")
    if config.priority_threshold is not None:
        lines.append(f"Only rows of {config.priority_threshold.value} priority and above.")
    lines += [_rule_words(rule) + "." for rule in config.rules]
    retry = config.retry or {}
    if retry:
        lines.append(
            f"Retries: up to {retry.get('max_attempts', 3)} attempts"
            + (f", {retry['strategy']} back-off" if retry.get("strategy") else "")
            + "."
        )
    return lines


def problems(record: dict[str, Any], now: datetime) -> list[Problem]:
    """What is wrong, each with the action that fixes it."""
    found: list[Problem] = []
    items: Iterable[dict[str, Any]] = record.get("items") or []
    failed = [i for i in items if i["state"] == "failed"]
    if failed:
        listed = "; ".join(
            f"row {i['row']} “{i['title']}”: {i.get('error') or 'no reason given'}"
            for i in failed[:3]
        )
        more = f"; and {len(failed) - 3} more" if len(failed) > 3 else ""
        rows = "1 row" if len(failed) == 1 else f"{len(failed)} rows"
        found.append(Problem(f"{rows} failed — {listed}{more}", "retry", "Retry failed items"))
    waiting = [
        i
        for i in record.get("items") or []
        if i["state"] == "pending" and i.get("phase") == "approval"
    ]
    if waiting:
        count = len(waiting)
        said = "1 video awaits" if count == 1 else f"{count} videos await"
        found.append(Problem(f"{said} your approval", "approve", "Review"))
    held = {
        (i.get("upload") or {}).get("note")
        for i in record.get("items") or []
        if (i.get("upload") or {}).get("status") == "on_hold"
    }
    for note in sorted(n for n in held if n):
        found.append(Problem(f"Uploads on hold: {note}", "settings", "Sign in again"))
    left_out = record.get("left_out") or []
    if left_out:
        listed = "; ".join(
            f"row {r['row']}"
            + (f" “{r['title']}”" if r.get("title") else "")
            + f": {', '.join(r.get('problems') or [])}"
            for r in left_out
        )
        rows = "1 row of the sheet was" if len(left_out) == 1 else f"{len(left_out)} rows were"
        found.append(
            Problem(f"{rows} left out — {listed} (fix the sheet and make a job of them)", "", "")
        )
    limited = (record.get("progress") or {}).get("rate_limited_until")
    if limited and datetime.fromisoformat(limited) > now:
        found.append(
            Problem(
                f"Google's quota holds this job until "
                f"{datetime.fromisoformat(limited).astimezone():%H:%M} — it goes on by itself",
                "",
                "",
            )
        )
    return found
