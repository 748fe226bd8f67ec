"""Stock footage behind every sentence: Pexels and Pixabay, with the user's own API key.

For each scene (a sentence, or a few short ones — at least ``SCENE_SECONDS``) the sentence's
key words are searched, a clip in the output's orientation at (at least) its resolution is
chosen — a video if there is one, else a photo — and fetched through a cache folder shared by
every render (least recently used files go first when it is over its size). A clip is not
used twice in one video while the provider has others. Each provider asks for credit: what
was used is returned with its author and link, for the description.

Nothing here fails a render: no key, no network, a refused key, a provider over its limit or
with nothing to show — `FootageUnavailable` says why, and the caller falls back to the local
assets folder, then to the style's background, and says so on the item.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import logging
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock

from app.pipeline.errors import RenderError

log = logging.getLogger(__name__)
PROVIDERS = ("pexels", "pixabay")  # stock footage with the user's own key
FREE = ("openverse", "commons", "nasa")  # pictures that need no key (`free_pictures`)
# none: the style's background; local: the assets folder; free: the key-free providers; auto:
# Pexels or Pixabay when a key is set, then the key-free providers.
CHOICES = ("none", "local", "auto", "free", *PROVIDERS)
ENDPOINTS = {
    "pexels": "https://api.pexels.com",
    "pixabay": "https://pixabay.com",
    "openverse": "https://api.openverse.org",
    "commons": "https://commons.wikimedia.org",
    "nasa": "https://images-api.nasa.gov",
}
ENDPOINT_VARIABLES = {name: f"CADENCE_{name.upper()}_ENDPOINT" for name in ENDPOINTS}
NAMES = {
    "pexels": "Pexels",
    "pixabay": "Pixabay",
    "openverse": "Openverse",
    "commons": "Wikimedia Commons",
    "nasa": "NASA",
    "folder": "your media folder",
}
MEDIA_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".mp4", ".mov", ".webm", ".mkv", ".m4v"}
SCENE_SECONDS = 4.0  # shorter sentences share a scene (and a clip)
TIMEOUT = 20.0
CHUNK = 256 * 1024
USER_AGENT = "Cadence (faceless video studio)"


class FootageUnavailable(RenderError):
    """No stock footage for this render, and why (the render goes on without it)."""


@dataclass(frozen=True, slots=True)
class FootageSettings:
    provider: str = "none"  # one of CHOICES
    api_key: str = field(default="", repr=False)  # a secret: never in a repr or a log
    cache_dir: Path | None = None
    cache_mb: int = 2000
    # (provider, key) in the order they are asked, scene by scene; a secret each: no repr.
    chain: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def sources(self) -> tuple[tuple[str, str], ...]:
        """The providers to ask, in order (the chain, or the one provider with its key)."""
        if self.chain:
            return self.chain
        return ((self.provider, self.api_key),) if self.provider in (*PROVIDERS, *FREE) else ()

    @property
    def online(self) -> bool:
        return bool(self.sources())


@dataclass(frozen=True, slots=True)
class Clip:
    """One search result: what to download, and whom to credit."""

    provider: str
    id: str
    kind: str  # video | photo
    url: str  # the file to download
    page: str  # its page on the provider's site
    author: str
    author_url: str
    width: int
    height: int
    duration: float = 0.0
    licence: str = ""  # the key-free providers': what allows its use (CC BY 4.0 …)
    licence_url: str = ""

    @property
    def suffix(self) -> str:
        if self.kind == "video":
            return ".mp4"
        return ".png" if self.url.lower().split("?")[0].endswith(".png") else ".jpg"

    def credit(self) -> str:
        what = "Video" if self.kind == "video" else "Photo"
        licence = f" ({self.licence})" if self.licence else ""
        return f"{what} by {self.author}{licence} on {NAMES[self.provider]}: {self.page}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Shot:
    """A scene of the video and the file behind it."""

    start: float
    end: float
    path: Path
    clip: Clip


def endpoint(provider: str) -> str:
    return os.environ.get(ENDPOINT_VARIABLES[provider], "").rstrip("/") or ENDPOINTS[provider]


# --- searching --------------------------------------------------------------------------------


def get_json(url: str, headers: dict[str, str], provider: str, limits: Path | None) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
    name = NAMES[provider]
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            _note_limit(limits, provider, response.headers)
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        _note_limit(limits, provider, exc.headers)
        if exc.code == 429:
            raise FootageUnavailable(f"{name} is over its request limit for now") from None
        body = exc.read(300).lower() if exc.fp is not None else b""
        if exc.code in (401, 403) or (exc.code == 400 and b"key" in body):  # Pixabay: 400
            raise FootageUnavailable(
                f"{name} refused the API key — check it in Settings › Footage and voices"
            ) from None
        raise FootageUnavailable(f"{name} answered {exc.code}") from None
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FootageUnavailable(f"{name} cannot be reached ({reason})") from None
    except ValueError:
        raise FootageUnavailable(f"{name} sent an answer that is not JSON") from None


def _limit_file(limits: Path | None, provider: str) -> Path | None:
    return limits / f"{provider}.limit.json" if limits is not None else None


def _note_limit(limits: Path | None, provider: str, headers: Any) -> None:
    """Remember when a provider said its requests are spent, so that the next renders (each
    its own process) do not ask again before its reset."""
    path = _limit_file(limits, provider)
    if path is None or headers is None:
        return
    remaining = headers.get("X-Ratelimit-Remaining") or headers.get("X-RateLimit-Remaining")
    reset = headers.get("X-Ratelimit-Reset") or headers.get("X-RateLimit-Reset")
    if remaining is None or reset is None:
        return
    try:
        left, when = int(remaining), float(reset)
    except ValueError:
        return
    if left > 0:
        path.unlink(missing_ok=True)
        return
    # Pexels gives the reset as a Unix time, Pixabay as seconds from now.
    until = when if when > 1_000_000_000 else time.time() + when
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"until": until}))


def spent_until(limits: Path | None, provider: str) -> float | None:
    """When a provider's spent limit resets (Unix time), if it is spent now."""
    path = _limit_file(limits, provider)
    if path is None:
        return None
    try:
        until = float(json.loads(path.read_text())["until"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return until if until > time.time() else None


def _best(files: Sequence[dict[str, Any]], portrait: bool, need: int) -> dict[str, Any] | None:
    """The smallest rendition that covers the frame's long side, else the largest."""
    usable = [f for f in files if f.get("url") and f.get("width") and f.get("height")]
    if not usable:
        return None

    def side(f: dict[str, Any]) -> int:
        return int(f["height"] if portrait else f["width"])

    big_enough = [f for f in usable if side(f) >= need]
    if big_enough:
        return min(big_enough, key=lambda f: int(f["width"]) * int(f["height"]))
    return max(usable, key=lambda f: int(f["width"]) * int(f["height"]))


def search_pexels(
    query: str, key: str, portrait: bool, need: int, limits: Path | None = None
) -> list[Clip]:
    """Videos, then photos, matching ``query`` (Pexels API v1)."""
    base, headers = endpoint("pexels"), {"Authorization": key}
    params = {
        "query": query,
        "orientation": "portrait" if portrait else "landscape",
        "per_page": "15",
    }
    found = get_json(
        f"{base}/v1/videos/search?{urllib.parse.urlencode(params)}", headers, "pexels", limits
    )
    clips: list[Clip] = []
    for video in found.get("videos") or []:
        files = [
            {"url": f.get("link"), "width": f.get("width"), "height": f.get("height")}
            for f in video.get("video_files") or []
            if str(f.get("file_type", "video/mp4")) == "video/mp4"
        ]
        chosen = _best(files, portrait, need)
        user = video.get("user") or {}
        if chosen is not None:
            clips.append(
                Clip("pexels", str(video.get("id")), "video", chosen["url"], str(video.get("url")),
                     str(user.get("name") or "unknown"), str(user.get("url") or ""),
                     int(chosen["width"]), int(chosen["height"]), float(video.get("duration") or 0))
            )  # fmt: skip
    if clips:
        return clips
    found = get_json(
        f"{base}/v1/search?{urllib.parse.urlencode(params)}", headers, "pexels", limits
    )
    for photo in found.get("photos") or []:
        source = photo.get("src") or {}
        url = source.get("large2x") or source.get("original") or source.get("large")
        if url:
            clips.append(
                Clip("pexels", str(photo.get("id")), "photo", str(url), str(photo.get("url")),
                     str(photo.get("photographer") or "unknown"),
                     str(photo.get("photographer_url") or ""),
                     int(photo.get("width") or 0), int(photo.get("height") or 0))
            )  # fmt: skip
    return clips


def search_pixabay(
    query: str, key: str, portrait: bool, need: int, limits: Path | None = None
) -> list[Clip]:
    """Videos, then photos, matching ``query`` (Pixabay API)."""
    base = endpoint("pixabay")
    params = {"key": key, "q": query[:100], "per_page": "20", "safesearch": "true"}
    found = get_json(f"{base}/api/videos/?{urllib.parse.urlencode(params)}", {}, "pixabay", limits)
    clips: list[Clip] = []
    for hit in found.get("hits") or []:
        files = list((hit.get("videos") or {}).values())
        # Pixabay has no orientation filter for videos: keep those shaped like the frame.
        shaped = [f for f in files if f.get("width") and (f["height"] > f["width"]) == portrait]
        chosen = _best(shaped, portrait, need)
        if chosen is not None:
            clips.append(
                Clip("pixabay", str(hit.get("id")), "video", str(chosen["url"]),
                     str(hit.get("pageURL")), str(hit.get("user") or "unknown"),
                     f"https://pixabay.com/users/{hit.get('user')}-{hit.get('user_id')}/",
                     int(chosen["width"]), int(chosen["height"]), float(hit.get("duration") or 0))
            )  # fmt: skip
    if clips:
        return clips
    params |= {"image_type": "photo", "orientation": "vertical" if portrait else "horizontal"}
    found = get_json(f"{base}/api/?{urllib.parse.urlencode(params)}", {}, "pixabay", limits)
    for hit in found.get("hits") or []:
        url = hit.get("largeImageURL") or hit.get("webformatURL")
        if url:
            clips.append(
                Clip("pixabay", str(hit.get("id")), "photo", str(url), str(hit.get("pageURL")),
                     str(hit.get("user") or "unknown"),
                     f"https://pixabay.com/users/{hit.get('user')}-{hit.get('user_id')}/",
                     int(hit.get("imageWidth") or 0), int(hit.get("imageHeight") or 0))
            )  # fmt: skip
    return clips


def search_folder(
    query: str, folder: str, portrait: bool, need: int, limits: Path | None = None
) -> list[Clip]:
    """The user's own pictures and clips whose folder and file names share words with
    ``query``, most shared words first (``folder`` stands where a provider's key would)."""
    root = Path(folder)
    wanted = set(query.lower().split())
    scored = []
    for path in sorted(root.rglob("*")) if root.is_dir() else ():
        if path.suffix.lower() not in MEDIA_SUFFIXES or not path.is_file():
            continue
        name = " ".join(path.relative_to(root).with_suffix("").parts).lower()
        tags = set(re.findall(r"[^\W\d_]{3,}", name))
        if shared := len(tags & wanted):
            scored.append((-shared, str(path), path))
    return [
        Clip("folder", str(path.relative_to(root)),
             "video" if path.suffix.lower() in {".mp4", ".mov", ".webm", ".mkv", ".m4v"}
             else "photo", str(path), "", "", "", 0, 0, duration=SCENE_SECONDS)
        for _s, _n, path in sorted(scored)
    ]  # fmt: skip


SEARCHES: dict[str, Callable[..., list[Clip]]] = {
    "pexels": search_pexels,
    "pixabay": search_pixabay,
    "folder": search_folder,
}


def searcher(provider: str) -> Callable[..., list[Clip]]:
    """The search of ``provider`` (the key-free ones load when first asked for)."""
    if provider not in SEARCHES and provider in FREE:
        from app.pipeline import free_pictures

        SEARCHES.update(
            openverse=free_pictures.search_openverse,
            commons=free_pictures.search_commons,
            nasa=free_pictures.search_nasa,
        )
    return SEARCHES[provider]


def missing_key(provider: str) -> str:
    return f"no {NAMES[provider]} API key — add it in Settings › Footage and voices"


def check_key(provider: str, key: str) -> str:
    """Ask the provider one small question with ``key``: a sentence saying it works, or a
    `FootageUnavailable` saying why not (the wizard's and the CLI's *Test*)."""
    if provider not in (*PROVIDERS, *FREE):
        raise FootageUnavailable(f"{provider!r} is not a stock footage provider")
    if provider in PROVIDERS and not key:
        raise FootageUnavailable(missing_key(provider))
    found = searcher(provider)("ocean", key, False, 720)
    what = "clips" if provider in PROVIDERS else "pictures"
    return f"{NAMES[provider]} answered: {len(found)} {what} for “ocean”."


# --- the cache --------------------------------------------------------------------------------


class FootageCache:
    """Downloaded clips in one folder, shared by every render: a file is fetched once,
    resumed if a download was cut, checked against its announced size, and published under
    its final name only when whole. Over ``limit_bytes``, least recently used files go."""

    def __init__(self, folder: Path, limit_bytes: int) -> None:
        self.folder = folder
        self.limit = limit_bytes

    def path_for(self, clip: Clip) -> Path:
        digest = hashlib.sha1(f"{clip.provider}|{clip.url}".encode()).hexdigest()[:24]
        return self.folder / f"{clip.provider}-{digest}{clip.suffix}"

    def fetch(self, clip: Clip) -> Path:
        if clip.provider == "folder":  # the user's own file, used where it is
            if not Path(clip.url).is_file():
                raise FootageUnavailable(f"{clip.id} is no longer in your media folder")
            return Path(clip.url)
        target = self.path_for(clip)
        self.folder.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target) + ".lock", timeout=600):
            if target.exists():
                with contextlib.suppress(OSError):
                    os.utime(target)  # recently used
                return target
            partial = target.with_name(target.name + ".part")
            for attempt in range(3):
                try:
                    self._download(clip, partial)
                    break
                except FootageUnavailable:
                    if attempt == 2:
                        raise
                    time.sleep(0.5 * (attempt + 1))
            partial.replace(target)
        self.evict(keep=target)
        return target

    def _download(self, clip: Clip, partial: Path) -> None:
        have = partial.stat().st_size if partial.exists() else 0
        headers = {"User-Agent": USER_AGENT}
        if have:
            headers["Range"] = f"bytes={have}-"
        request = urllib.request.Request(clip.url, headers=headers)
        name = NAMES[clip.provider]
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                resumed = response.status == 206
                if not resumed:
                    have = 0  # the server sends it whole: start again
                length = response.headers.get("Content-Length")
                expected = have + int(length) if length and length.isdigit() else None
                with partial.open("ab" if resumed else "wb") as out:
                    while chunk := response.read(CHUNK):
                        out.write(chunk)
        except urllib.error.HTTPError as exc:
            if exc.code == 416:  # nothing left to send: what we have is whole (or garbage)
                partial.unlink(missing_ok=True)
            raise FootageUnavailable(f"{name}'s file answered {exc.code}") from None
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError) as exc:
            raise FootageUnavailable(f"{name}'s file was cut off ({type(exc).__name__})") from None
        size = partial.stat().st_size
        if expected is not None and size != expected:
            raise FootageUnavailable(f"{name}'s file came {size} of {expected} bytes")
        if size == 0:
            partial.unlink(missing_ok=True)
            raise FootageUnavailable(f"{name}'s file was empty")

    def evict(self, keep: Path | None = None) -> int:
        """Remove least recently used files until the folder is within its limit."""
        files = [p for p in self.folder.iterdir() if p.is_file() and p.suffix in (".mp4", ".jpg")]
        total = sum(p.stat().st_size for p in files)
        removed = 0
        for path in sorted(files, key=lambda p: p.stat().st_mtime):
            if total <= self.limit:
                break
            if path == keep:
                continue
            total -= path.stat().st_size
            path.unlink(missing_ok=True)
            removed += 1
        return removed


# --- choosing shots ---------------------------------------------------------------------------


def group_sentences(sentences: Sequence[str], seconds_per_word: float = 0.36) -> list[list[int]]:
    """Sentences grouped into scenes of at least ``SCENE_SECONDS`` of speech, judged from
    their words (known before the voice is made, so footage can be fetched meanwhile)."""
    groups: list[list[int]] = []
    length = 0.0
    for n, sentence in enumerate(sentences):
        if groups and length < SCENE_SECONDS:
            groups[-1].append(n)
        else:
            groups.append([n])
            length = 0.0
        length += max(len(sentence.split()), 1) * seconds_per_word
    return groups


def place(
    groups: Sequence[Sequence[int]],
    picked: Sequence[tuple[int, Clip, Path]],
    timings: Sequence[tuple[float, float]],
    span: tuple[float, float],
) -> list[Shot]:
    """The chosen clips on the voice's real timeline: a scene runs from its first sentence to
    the next scene's; the first from 0, the last to the end of the video."""
    starts = [timings[group[0]][0] + span[0] if group[0] < len(timings) else span[1]
              for group in groups]  # fmt: skip
    starts[0] = 0.0
    ends = [*starts[1:], span[1]]
    return [Shot(starts[g], ends[g], path, clip) for g, clip, path in picked if g < len(groups)]


def search_terms(
    text: str, fallback: set[str], words: Callable[[str], set[str]], phrase: str | None = None
) -> list[str]:
    """Queries for a scene, most specific first: the language model's phrase when it proposed
    one, its two longest key words, then one, then the idea's own key words."""
    mine = sorted(words(text), key=lambda w: (-len(w), w))
    queries = [phrase] if phrase else []
    if len(mine) >= 2:
        queries.append(" ".join(mine[:2]))
    queries += mine[:2]
    if fallback:
        queries.append(" ".join(sorted(fallback, key=lambda w: (-len(w), w))[:2]))
    return list(dict.fromkeys(q for q in queries if q))


def plan_shots(
    settings: FootageSettings,
    texts: Sequence[str],
    *,
    portrait: bool,
    need: int,
    idea_words: set[str],
    words: Callable[[str], set[str]],
    seconds: float = SCENE_SECONDS,
    phrases: Sequence[str | None] = (),
    folder: Path | None = None,
) -> tuple[list[tuple[int, Clip, Path]], list[str]]:
    """A clip (or picture) for each scene's text, fetched through the cache: (scene index,
    clip, file); and the notes for the item (a scene without one keeps the fallback
    background). The providers are asked in order, scene by scene — a provider that cannot be
    used (no key, over its limit, unreachable) is said once and left out for the rest.
    ``phrases``: a search phrase per scene proposed by a language model, tried first;
    ``folder``: the user's media folder, asked before every provider.
    Raises `FootageUnavailable` when no provider gave anything."""
    assert settings.cache_dir is not None
    notes: list[str] = []
    live = _usable_sources(settings, notes)
    if folder is not None and folder.is_dir():
        live.insert(0, ("folder", str(folder)))
    if not live:
        raise FootageUnavailable(notes[0] if notes else "no footage provider is chosen")
    cache = FootageCache(settings.cache_dir, settings.cache_mb * 1024 * 1024)
    results: dict[tuple[str, str], list[Clip]] = {}
    used: set[tuple[str, str]] = set()
    shots: list[tuple[int, Clip, Path]] = []
    for index, text in enumerate(texts):
        phrase = phrases[index] if index < len(phrases) else None
        terms = search_terms(text, idea_words, words, phrase)
        chosen = None
        for provider, key in list(live):

            def found(query: str, provider: str = provider, key: str = key) -> list[Clip]:
                if (provider, query) not in results:
                    search = searcher(provider)
                    limits = settings.cache_dir
                    results[(provider, query)] = search(query, key, portrait, need, limits)
                return results[(provider, query)]

            try:
                chosen = _choose(terms, found, used, seconds)
            except FootageUnavailable as exc:  # left out for the rest of this video
                notes.append(str(exc))
                live.remove((provider, key))
                continue
            if chosen is not None:
                break
        if chosen is None:  # every result used already: repeat rather than show nothing
            chosen = next((c for r in results.values() for c in r), None)
        if chosen is None:
            if live:  # (when none is left, each one's failure is the note)
                names = " or ".join(NAMES[p] for p, _k in live)
                notes.append(
                    f"scene {index + 1} (“{text[:40]}”) shows the style's colours: "
                    f"nothing found on {names}"
                )
            continue
        try:
            path = cache.fetch(chosen)
        except FootageUnavailable as exc:
            notes.append(str(exc))
            continue
        used.add((chosen.provider, chosen.id))
        shots.append((index, chosen, path))
    if not shots:
        if not live:  # every provider failed: each one's reason
            raise FootageUnavailable("; ".join(dict.fromkeys(notes)))
        names = " and ".join(NAMES[p] for p, _k in live)
        raise FootageUnavailable(
            f"{names} had nothing for this video" + (f" ({notes[0]})" if notes else "")
        )
    return shots, notes


def _usable_sources(settings: FootageSettings, notes: list[str]) -> list[tuple[str, str]]:
    """The providers that can be asked now: a keyed one without its key, or one over its
    request limit, is said in ``notes`` and left out."""
    live = []
    for provider, key in settings.sources():
        if provider in PROVIDERS and not key:
            notes.append(missing_key(provider))
            continue
        spent = spent_until(settings.cache_dir, provider)
        if spent is not None:
            wait = max(spent - time.time(), 0)
            notes.append(f"{NAMES[provider]} is over its request limit for {wait:.0f} s")
            continue
        live.append((provider, key))
    return live


def _choose(
    terms: Sequence[str],
    found: Callable[[str], list[Clip]],
    used: set[tuple[str, str]],
    seconds: float,
) -> Clip | None:
    """The first clip not used yet in this video, by the first search term that has one —
    preferring a clip at least as long as a scene (short clips loop)."""
    for query in terms:
        fresh = [c for c in found(query) if (c.provider, c.id) not in used]
        if fresh:
            long_enough = [c for c in fresh if c.kind == "video" and c.duration >= seconds]
            return (long_enough or fresh)[0]
    return None


def credits(shots: Sequence[Shot]) -> list[str]:
    """One credit line per clip used, in order of first use (the user's own files need none)."""
    return list(dict.fromkeys(s.clip.credit() for s in shots if s.clip.provider != "folder"))


FOOTAGE_HELP = (
    "backgrounds: auto (pexels or pixabay with your API key, then pictures that need no key), "
    "free (Openverse, Wikimedia Commons and NASA: no key), pexels, pixabay, local (the assets "
    "folder), none (the style's background); default: the footage.provider setting"
)
