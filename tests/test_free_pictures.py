"""Pictures without a key: Openverse, Wikimedia Commons and NASA, against loopback fakes of
their APIs — only what may be used commercially and changed, credited with its licence; the
providers asked in order, scene by scene; a provider that is down left out with a note; the
render going on without pictures when none answers."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.domain.idea import Idea
from app.domain.output import Optimize, OutputConfig, Resolution
from app.pipeline import footage, free_pictures
from app.pipeline.footage import FootageSettings, FootageUnavailable, plan_shots
from app.pipeline.render import RenderSettings, render_item
from app.pipeline.visuals import keywords
from tests.fake_pictures import Pictures, serve
from tests.test_render_output import decoded_frame

FREE = (("openverse", ""), ("commons", ""), ("nasa", ""))


@pytest.fixture
def pictures(monkeypatch: pytest.MonkeyPatch) -> Iterator[Pictures]:
    with serve() as fake:
        fake.env(monkeypatch)
        yield fake


def test_openverse_keeps_only_what_may_be_used_commercially_and_changed(
    pictures: Pictures,
) -> None:
    found = free_pictures.search_openverse("ocean waves", "", False, 1280)
    assert "license_type=commercial%2Cmodification" in pictures.requests[0]
    assert {c.licence.split()[0] for c in found} <= {"CC0", "CC", "Public"}
    assert all("NC" not in c.licence and "ND" not in c.licence for c in found)
    assert [c.licence for c in found] == ["CC BY 4.0", "CC0 1.0", "CC BY-SA 2.0",
                                          "Public Domain Mark 1.0"]  # fmt: skip
    first = found[0]
    assert first.credit() == (
        "Photo by Photographer 0 (CC BY 4.0) on Openverse: https://www.flickr.com/photos/someone/0"
    )


def test_commons_reads_each_files_licence_and_refuses_the_rest(pictures: Pictures) -> None:
    found = free_pictures.search_commons("lighthouse", "", False, 1920)
    assert [(c.licence, c.author) for c in found] == [
        ("CC BY-SA 4.0", "A&0"),  # the artist's HTML as plain text
        ("Public domain", "A&3"),
    ]  # never NC, never GFDL-only, never a file marked non-free
    assert found[0].url.endswith("cm-lighthouse-0.jpg") and found[0].width == 1920
    assert "filetype%3Abitmap" in pictures.requests[0]


def test_nasa_pictures_come_from_their_asset_lists_and_never_the_insignia(
    pictures: Pictures,
) -> None:
    found = free_pictures.search_nasa("saturn", "", False, 1280)
    assert [(c.kind, c.url.rsplit("/", 1)[1]) for c in found] == [
        ("photo", "PIAsaturn0~large.jpg"),
        ("video", "JSCsaturnv~medium.mp4"),  # a video's middle rendition, not its original
        ("photo", "PIAsaturn2~large.jpg"),
    ]
    assert found[0].credit().startswith("Photo by NASA (Public domain")
    assert found[1].credit().startswith("Video by NASA (Public domain")
    assert "media_type=image%2Cvideo" in pictures.requests[0]


@pytest.mark.parametrize(
    ("name", "usable"),
    [
        ("CC BY 4.0", True), ("CC BY-SA 3.0", True), ("CC0", True), ("Public domain", True),
        ("PD-USGov", True), ("CC BY-NC 2.0", False), ("CC BY-NC-SA 4.0", False),
        ("CC BY-ND 4.0", False), ("cc-by-nc-nd-3.0", False), ("GFDL", False), ("", False),
        ("Attribution-NonCommercial", False), ("All rights reserved", False),
    ],
)  # fmt: skip
def test_only_licences_that_allow_commercial_use_and_changes_are_read_as_usable(
    name: str, usable: bool
) -> None:
    assert free_pictures.usable_licence(name) is usable


def _plan(settings: FootageSettings, texts: list[str]) -> tuple[list, list[str]]:  # type: ignore[type-arg]
    return plan_shots(settings, texts, portrait=False, need=1280, idea_words=set(), words=keywords)


def test_each_scene_gets_its_own_picture_from_the_first_provider_that_has_one(
    pictures: Pictures, tmp_path: Path
) -> None:
    settings = FootageSettings("free", cache_dir=tmp_path / "cache", chain=FREE)
    scenes = ["Ocean waves roll onto the beach.", "A lighthouse guides the ships home."]
    shots, notes = _plan(settings, scenes)
    assert notes == [] and [index for index, _clip, _path in shots] == [0, 1]
    clips = [clip for _index, clip, _path in shots]
    assert {clip.provider for clip in clips} == {"openverse"}
    assert len({clip.id for clip in clips}) == 2  # never the same picture twice in a video
    assert all(path.exists() and path.stat().st_size > 0 for _i, _c, path in shots)


def test_a_provider_that_is_down_is_said_once_and_the_next_one_asked(
    pictures: Pictures, tmp_path: Path
) -> None:
    pictures.down.add("openverse")
    settings = FootageSettings("free", cache_dir=tmp_path / "cache", chain=FREE)
    shots, notes = _plan(settings, ["Storm clouds over the sea.", "Rain on the window."])
    assert notes == ["Openverse answered 503"]
    assert {clip.provider for _i, clip, _p in shots} == {"commons"}
    asked = [r for r in pictures.requests if r.startswith("GET /openverse/v1")]
    assert len(asked) == 1  # left out for the rest of the video


def test_with_every_provider_down_the_render_goes_on_and_says_why(
    pictures: Pictures, tmp_path: Path
) -> None:
    pictures.down.update({"openverse", "commons"})
    pictures.over_limit.add("nasa")
    settings = FootageSettings("free", cache_dir=tmp_path / "cache", chain=FREE)
    with pytest.raises(FootageUnavailable) as refused:
        _plan(settings, ["Quiet mountains at dawn."])
    assert str(refused.value) == (
        "Openverse answered 503; Wikimedia Commons answered 503; "
        "NASA is over its request limit for now"
    )


def test_a_video_made_without_any_key_has_pictures_and_credits_them(
    pictures: Pictures, tmp_path: Path
) -> None:
    idea = Idea.from_dict({
        "idea_title": "Why the ocean is blue",
        "script_content": "The ocean looks blue. Water soaks up red light and scatters blue.",
        "duration_seconds": 30,
    })  # fmt: skip
    chosen = RenderSettings(
        output=OutputConfig(resolution=Resolution.HD, optimize=Optimize.SPEED),
        footage=FootageSettings("auto", cache_dir=tmp_path / "cache", chain=FREE),
        hardware_encoding=False,
    )
    result = render_item(idea, 2, chosen, tmp_path / "out", tmp_path / "work")
    metadata = json.loads(result.metadata.read_text(encoding="utf-8"))
    assert result.credits and all("(CC" in c or "(Public" in c for c in result.credits)
    assert all(credit in metadata["description"] for credit in result.credits)
    assert [shot["provider"] for shot in metadata["footage"]] == ["openverse"] * len(
        metadata["footage"]
    )
    assert "notes" not in metadata
    assert pictures.fetched()  # the pictures were downloaded, once each
    # Pictures from the first frame to the last, one after another (the metadata says when).
    shown = [shot["shown"] for shot in metadata["footage"]]
    assert shown[0][0] == 0 and shown[-1][1] == pytest.approx(result.duration, abs=0.01)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(shown))
    # The hook: the title over the first picture (the fake's are one flat colour each), not
    # over the style's dark gradient; and the thumbnail is made from that picture too.
    first = decoded_frame(result.video, 0.5, (1280, 720))[20:80, 20:200].reshape(-1, 3)
    assert np.ptp(first.astype(int), axis=0).max() < 12 and first.mean() > 80
    with Image.open(result.thumbnail) as thumbnail:
        corner = np.asarray(thumbnail.convert("RGB"))[10:60, 10:200].reshape(-1, 3)
    assert np.ptp(corner.astype(int), axis=0).max() < 12  # the picture, darkened
    assert np.abs(corner.mean(axis=0) - first.mean(axis=0) * 0.6).max() < 25


def test_the_default_tries_the_key_free_providers_after_any_key(
    workspace: object,
) -> None:
    from app.render_config import footage_chain

    settings = workspace.settings  # type: ignore[attr-defined]
    assert footage_chain("auto", settings) == FREE
    settings.set("footage.free", "false")
    assert footage_chain("auto", settings) == ()  # then the assets folder or the style
    assert footage_chain("free", settings) == FREE  # asked for by name: used anyway
    assert footage.FREE == ("openverse", "commons", "nasa")


def test_footage_and_pictures_are_set_and_tested_in_the_settings_view(
    qtbot: object, data_dir: Path, pictures: Pictures
) -> None:
    """The Settings view's *Footage and pictures*: the choice, the key-free providers, a key
    (kept in the keyring, never shown again) and each provider's Test — no terminal needed."""
    from app.paths import AppPaths
    from app.services import Services
    from app.ui.main_window import PAGES, MainWindow

    workspace = Services(AppPaths.resolve(data_dir), front_end="gui")
    window = MainWindow(lambda: workspace)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    wait = qtbot.waitUntil  # type: ignore[attr-defined]
    wait(lambda: window.workspace is not None, timeout=15_000)
    window.nav.setCurrentRow(PAGES.index("Settings"))
    page = window.settings_page
    wait(page.footage_free.isChecked, timeout=10_000)  # the stored settings, shown
    assert page.footage_provider.currentData() == "auto"
    page.footage_keys["pexels"].setText("pexels-key-123")
    page.footage_provider.setCurrentIndex(page.footage_provider.findData("free"))
    page.save_button.click()
    wait(lambda: page.message.text() == "Saved.", timeout=10_000)
    assert workspace.settings.get("footage.provider") == "free"
    assert workspace.settings.get("footage.pexels_key") == "pexels-key-123"
    wait(lambda: "in the keyring" in page.footage_keys["pexels"].placeholderText(), timeout=10_000)
    assert page.footage_keys["pexels"].text() == ""
    page.test_footage.emit("free")
    wait(lambda: "Openverse answered" in page.footage_status.text(), timeout=15_000)
    assert "Wikimedia Commons answered" in page.footage_status.text()
    window.close()
    workspace.close()


def test_testing_the_key_free_providers_offline_fails_in_one_line(run_cli: object) -> None:
    """No network (the suite points them at a closed port): `footage test free` fails with
    each provider's reason on one line, not a success that found nothing."""
    tested = run_cli("footage", "test", "free")  # type: ignore[operator]
    assert tested.returncode == 2
    [line] = tested.stderr.strip().splitlines()
    assert line.startswith("cadence: Openverse cannot be reached")
    assert "; Wikimedia Commons cannot be reached" in line and "; NASA cannot be reached" in line
