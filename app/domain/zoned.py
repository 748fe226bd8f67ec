"""A moment told in the zone it was planned in — and in this computer's time beside it.

A schedule made for Europe/Berlin runs at 09:00 Berlin time whatever the computer's zone; a
window that shows "08:00" (the computer's time) with no zone misleads. Every front end shows
such times with `zoned`, so the window, the calendar and `schedule list` say the same thing.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.schedule import local_zone_name

DAY_AND_TIME = "%a %d %b %Y %H:%M"
DAY_TIME = "%a %d %b %H:%M"  # where the year goes without saying


def _zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zoned(
    moment: datetime,
    zone_name: str,
    *,
    here: str | None = None,
    fmt: str = DAY_AND_TIME,
) -> str:
    """``moment`` (aware) in ``zone_name`` with the zone's abbreviation, and when this
    computer's clock (``here``, by default the computer's zone) differs then, its time beside
    it: "Mon 14 Dec 2026 09:00 CET (08:00 here)" — with the day too when it is another day
    here. An unknown zone (stored before a check) shows this computer's time."""
    local_zone = _zone(here or local_zone_name())
    zone = _zone(zone_name) or local_zone
    there = moment.astimezone(zone)
    text = f"{there.strftime(fmt)} {there.strftime('%Z')}"
    local = moment.astimezone(local_zone)
    if local.utcoffset() == there.utcoffset():
        return text  # another name for the same clock (Paris and Berlin)
    clock = "%H:%M" if local.date() == there.date() else "%a %H:%M"
    return f"{text} ({local.strftime(clock)} here)"


def zoned_iso(text: str | None, zone_name: str, **options: str) -> str:
    """`zoned` for a stored ISO time; "—" for none."""
    if not text:
        return "—"
    return zoned(datetime.fromisoformat(text), zone_name, **options)


def beside(moment: datetime, zone_name: str, shown: tzinfo | None) -> str:
    """What a view that shows times in ``shown`` adds beside ``moment`` planned in
    ``zone_name``: "" when the clocks agree then, else the planned time with its zone
    ("09:00 CET", or "Tue 09:00 JST" when it is another day there)."""
    zone = _zone(zone_name) if zone_name else None
    if zone is None:
        return ""
    there, here = moment.astimezone(zone), moment.astimezone(shown)
    if there.utcoffset() == here.utcoffset():
        return ""
    clock = "%H:%M %Z" if there.date() == here.date() else "%a %H:%M %Z"
    return there.strftime(clock)


def zone_of(moment: datetime) -> str:
    """The IANA name of the zone ``moment`` carries ("" for a fixed offset)."""
    return str(getattr(moment.tzinfo, "key", "") or "")
