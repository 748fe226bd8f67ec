"""Pictures that need no key: Openverse, Wikimedia Commons and NASA's Image and Video Library.

Only media that may be used commercially and changed (cropped, panned, captioned) are kept:
Openverse's CC0, public-domain mark, CC BY and CC BY-SA; Commons files whose licence says the
same (never NC, ND or a non-free file); NASA's imagery, public domain (its media-usage
guidelines: credit NASA, imply no endorsement — so no NASA logo is used as a picture). Each
result keeps its author, licence and page, for the video's credits. Each host can be moved
(`CADENCE_OPENVERSE_ENDPOINT`, `CADENCE_COMMONS_ENDPOINT`, `CADENCE_NASA_ENDPOINT`); file
addresses the APIs return are used as given.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from pathlib import Path
from typing import Any

from app.pipeline.footage import Clip, endpoint, get_json

# Openverse's licence codes that allow commercial use and modification.
OPEN_LICENCES = {"cc0": "CC0", "pdm": "Public Domain Mark", "by": "CC BY", "by-sa": "CC BY-SA"}
TAGS = re.compile(r"<[^>]+>")
NASA_GUIDELINES = "https://www.nasa.gov/nasa-brand-center/images-and-media/"


def usable_licence(name: str) -> bool:
    """Whether a licence's name allows commercial reuse and modification: public domain, CC0,
    CC BY, CC BY-SA — never NonCommercial, NoDerivatives or a licence Cadence cannot read."""
    text = name.strip().lower()
    words = set(re.split(r"[^a-z0-9]+", text))
    squeezed = text.replace("-", "").replace(" ", "")
    if not text or {"nc", "nd"} & words or "noncommercial" in squeezed or "noderiv" in squeezed:
        return False
    if text.startswith(("cc0", "pdm", "pd-")) or "public domain" in text:
        return True
    return text.startswith(("cc by", "cc-by"))


def _shape(portrait: bool) -> str:
    return "tall" if portrait else "wide"


def _plain(text: Any) -> str:
    """An HTML snippet (Commons' artist field) as plain text."""
    return html.unescape(TAGS.sub("", str(text or ""))).strip()


def search_openverse(
    query: str, _key: str, portrait: bool, need: int, limits: Path | None = None
) -> list[Clip]:
    """Images for ``query`` that may be used commercially and modified (Openverse API v1)."""
    params = {
        "q": query[:200],
        "license_type": "commercial,modification",
        "aspect_ratio": _shape(portrait),
        "page_size": "20",
        "mature": "false",
    }
    url = f"{endpoint('openverse')}/v1/images/?{urllib.parse.urlencode(params)}"
    found = get_json(url, {}, "openverse", limits)
    clips = []
    for hit in found.get("results") or []:
        licence = str(hit.get("license") or "").lower()
        if licence not in OPEN_LICENCES or not hit.get("url"):
            continue  # asked for commercial use and modification; checked again here
        width, height = int(hit.get("width") or 0), int(hit.get("height") or 0)
        if width and height and max(width, height) < need // 2:
            continue  # too small to fill the frame
        version = str(hit.get("license_version") or "")
        clips.append(
            Clip("openverse", str(hit.get("id")), "photo", str(hit["url"]),
                 str(hit.get("foreign_landing_url") or hit["url"]),
                 str(hit.get("creator") or "unknown"), str(hit.get("creator_url") or ""),
                 width, height, 0.0,
                 f"{OPEN_LICENCES[licence]} {version}".strip(), str(hit.get("license_url") or ""))
        )  # fmt: skip
    return _ranked(clips, portrait, need)


def search_commons(
    query: str, _key: str, portrait: bool, need: int, limits: Path | None = None
) -> list[Clip]:
    """Bitmaps on Wikimedia Commons for ``query`` whose licence allows commercial reuse and
    modification (MediaWiki API: a search generator with image info and its extmetadata)."""
    width = 1920 if need > 1280 else 1280
    params = {
        "action": "query",
        "format": "json",
        "formatversion": "2",
        "generator": "search",
        "gsrsearch": f"{query[:200]} filetype:bitmap",
        "gsrnamespace": "6",
        "gsrlimit": "20",
        "prop": "imageinfo",
        "iiprop": "url|size|mime|extmetadata",
        "iiurlwidth": str(width),
    }
    url = f"{endpoint('commons')}/w/api.php?{urllib.parse.urlencode(params)}"
    found = get_json(url, {}, "commons", limits)
    pages = (found.get("query") or {}).get("pages") or []
    if isinstance(pages, dict):  # formatversion 1
        pages = list(pages.values())
    clips = []
    for page in sorted(pages, key=lambda p: int(p.get("index") or 0)):
        for info in page.get("imageinfo") or []:
            clip = _commons_clip(page, info)
            if clip is not None:
                clips.append(clip)
    return _ranked(clips, portrait, need)


def _commons_clip(page: dict[str, Any], info: dict[str, Any]) -> Clip | None:
    meta = info.get("extmetadata") or {}

    def field(name: str) -> str:
        return _plain((meta.get(name) or {}).get("value"))

    licence = field("LicenseShortName") or field("License")
    if field("NonFree").lower() == "true" or not usable_licence(licence):
        return None
    if str(info.get("mime") or "") not in ("image/jpeg", "image/png", "image/webp"):
        return None
    url = info.get("thumburl") or info.get("url")
    if not url:
        return None
    return Clip(
        "commons", str(page.get("pageid")), "photo", str(url),
        str(info.get("descriptionurl") or ""), field("Artist") or "unknown", "",
        int(info.get("thumbwidth") or info.get("width") or 0),
        int(info.get("thumbheight") or info.get("height") or 0), 0.0,
        licence, field("LicenseUrl"),
    )  # fmt: skip


# A NASA video's renditions, smallest that fills a frame first (the original can be gigabytes).
NASA_VIDEO_SIZES = ("~medium.mp4", "~large.mp4", "~small.mp4", "~mobile.mp4", "~orig.mp4")


def search_nasa(
    query: str, _key: str, portrait: bool, need: int, limits: Path | None = None
) -> list[Clip]:
    """Images and videos from NASA's Image and Video Library for ``query``; the file of each
    of the first few is read from its asset list (the address as the API gives it)."""
    base = endpoint("nasa")
    params = {"q": query[:200], "media_type": "image,video", "page_size": "20"}
    found = get_json(f"{base}/search?{urllib.parse.urlencode(params)}", {}, "nasa", limits)
    clips = []
    for item in ((found.get("collection") or {}).get("items") or [])[:4]:
        data = (item.get("data") or [{}])[0]
        title = str(data.get("title") or "")
        if "logo" in title.lower() or "insignia" in title.lower():
            continue  # NASA's insignia would imply an endorsement
        assets = get_json(str(item.get("href")), {}, "nasa", limits) if item.get("href") else []
        files = [str(a.get("href") if isinstance(a, dict) else a) for a in assets or []]
        video = data.get("media_type") == "video"
        sizes = NASA_VIDEO_SIZES if video else ("~large.", "~orig.", "~medium.")
        url = next((f for size in sizes for f in files if size in f), None)
        suffixes = (".mp4",) if video else (".jpg", ".jpeg", ".png")
        if url is None or not url.lower().endswith(suffixes):
            continue
        nasa_id = str(data.get("nasa_id") or "")
        who = str(data.get("photographer") or data.get("secondary_creator") or "NASA")
        clips.append(
            Clip("nasa", nasa_id, "video" if video else "photo", url,
                 f"https://images.nasa.gov/details/{urllib.parse.quote(nasa_id)}",
                 who if who == "NASA" else f"{who}/NASA", "", 0, 0, 0.0,
                 "Public domain (NASA; no endorsement implied)", NASA_GUIDELINES)
        )  # fmt: skip
    return clips


def _ranked(clips: list[Clip], portrait: bool, need: int) -> list[Clip]:
    """In the API's order of relevance, those shaped like the frame and big enough first."""

    def fit(clip: Clip) -> int:
        if not clip.width or not clip.height:
            return 1
        shaped = (clip.height > clip.width) == portrait
        big = max(clip.width, clip.height) >= need
        return 0 if shaped and big else 1 if shaped or big else 2

    return sorted(clips, key=fit)
