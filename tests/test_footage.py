"""Stock footage from Pexels and Pixabay (loopback fakes of their APIs): chosen, cached,
credited, fallen back from — and on screen in a real render."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app import ops, queries
from app.ops.jobs import JobRequest
from app.pipeline import footage
from app.pipeline.footage import FootageCache, FootageSettings, FootageUnavailable
from app.pipeline.render import RenderSettings, render_item
from app.pipeline.script import LLMSettings
from app.pipeline.styles import pick_style
from app.pipeline.visuals import gradient, keywords
from tests.fake_chat import ChatServer
from tests.fake_stock import KEY, Stock, serve
from tests.test_render_output import FAST, IDEA, decoded_frame


@pytest.fixture
def stock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stock]:
    with serve(tmp_path / "stock") as fake:
        monkeypatch.setenv("CADENCE_PEXELS_ENDPOINT", fake.base_url)
        monkeypatch.setenv("CADENCE_PIXABAY_ENDPOINT", fake.base_url)
        yield fake


def settings(tmp_path: Path, provider: str = "pexels", key: str = KEY) -> FootageSettings:
    return FootageSettings(provider, key, tmp_path / "cache", cache_mb=100)


SCENES = ["Blue ocean waves", "Golden desert sunset", "Blue ocean waves again"]


def plan_shots(
    chosen: FootageSettings, texts: list[str], **options: Any
) -> tuple[list[Any], list[str]]:
    """The picks as shots (times do not matter here)."""
    picked, notes = footage.plan_shots(chosen, texts, **options)
    return [footage.Shot(0.0, 0.0, path, clip) for _scene, clip, path in picked], notes


def test_scenes_group_short_sentences_and_cover_the_video(tmp_path: Path) -> None:
    sentences = ["One.", "Two short.", "A longer sentence with many words in it here.", "End."]
    groups = footage.group_sentences(sentences, seconds_per_word=0.4)
    assert groups == [[0, 1, 2], [3]]  # judged from words, before the voice exists
    clip = footage.Clip("pexels", "1", "video", "u", "p", "a", "au", 1280, 720, 3.0)
    picked = [(0, clip, tmp_path / "a.mp4"), (1, clip, tmp_path / "b.mp4")]
    timings = [(0.0, 1.0), (1.2, 2.5), (2.8, 7.0), (7.2, 8.0)]
    shots = footage.place(groups, picked, timings, (1.5, 11.0))  # on the real timeline
    assert [(s.start, s.end) for s in shots] == [(0.0, 8.7), (8.7, 11.0)]
    assert all(a.end == b.start for a, b in pairwise(shots))  # no gaps


def test_search_terms_are_the_sentences_key_words_then_the_ideas() -> None:
    terms = footage.search_terms("The mountains glow at sunrise", {"travel", "alps"}, keywords)
    assert terms == ["mountains sunrise", "mountains", "sunrise", "travel alps"]


def test_pexels_clips_match_the_frame_and_come_from_the_cache(stock: Stock, tmp_path: Path) -> None:
    shots, notes = plan_shots(
        settings(tmp_path), SCENES, portrait=False, need=1280, idea_words={"sea"}, words=keywords
    )
    assert notes == [] and len(shots) == 3
    assert all(
        s.clip.kind == "video" and (s.clip.width, s.clip.height) == (1280, 720) for s in shots
    )
    assert shots[0].clip.id != shots[2].clip.id  # the same words, but no clip twice
    assert any("orientation=landscape" in r for r in stock.searches())
    assert all(s.path.exists() and s.path.parent == tmp_path / "cache" for s in shots)
    assert shots[0].clip.credit().startswith("Video by Author ")
    assert "https://www.pexels.com/video/" in shots[0].clip.credit()

    downloads = len([r for r in stock.requests if "/files/" in r])
    again, _notes = plan_shots(
        settings(tmp_path), SCENES, portrait=False, need=1280, idea_words=set(), words=keywords
    )
    assert [s.path for s in again] == [s.path for s in shots]
    assert len([r for r in stock.requests if "/files/" in r]) == downloads  # cached


def test_portrait_and_small_frames_pick_their_renditions(stock: Stock, tmp_path: Path) -> None:
    shots, _ = plan_shots(
        settings(tmp_path), SCENES[:1], portrait=True, need=600, idea_words=set(), words=keywords
    )
    assert (shots[0].clip.width, shots[0].clip.height) == (360, 640)  # the smallest that covers
    assert any("orientation=portrait" in r for r in stock.searches())


def test_photos_when_there_is_no_video_and_pixabay_too(stock: Stock, tmp_path: Path) -> None:
    stock.photos_only.update({"lighthouse lonely", "lighthouse", "lonely"})
    shots, _ = plan_shots(
        settings(tmp_path), ["Lonely lighthouse"], portrait=False, need=1280,
        idea_words=set(), words=keywords,
    )  # fmt: skip
    assert shots[0].clip.kind == "photo" and shots[0].path.suffix == ".jpg"
    assert shots[0].clip.credit() == (
        "Photo by Photo Person on Pexels: https://www.pexels.com/photo/lighthouse_lonely-photo-4242/"
    )
    pix, _ = plan_shots(
        settings(tmp_path, "pixabay"), SCENES[:2], portrait=True, need=640, idea_words=set(),
        words=keywords,
    )  # fmt: skip
    assert all(s.clip.provider == "pixabay" and s.clip.height > s.clip.width for s in pix)
    assert "on Pixabay: https://pixabay.com/videos/" in pix[0].clip.credit()


def test_a_download_cut_half_way_is_resumed_and_checked(stock: Stock, tmp_path: Path) -> None:
    first, _ = plan_shots(
        settings(tmp_path), SCENES[:1], portrait=False, need=1280, idea_words=set(), words=keywords
    )
    name = first[0].clip.url.rsplit("/", 1)[1]
    first[0].path.unlink()
    stock.cut_once.add(name)
    again, _ = plan_shots(
        settings(tmp_path), SCENES[:1], portrait=False, need=1280, idea_words=set(), words=keywords
    )
    assert again[0].path.read_bytes() == stock.files[name]
    assert len(stock.ranges) == 1 and stock.ranges[0].startswith("bytes=")  # resumed
    assert not list((tmp_path / "cache").glob("*.part"))


def test_the_cache_forgets_the_least_recently_used_clips(stock: Stock, tmp_path: Path) -> None:
    shots, _ = plan_shots(
        settings(tmp_path), SCENES, portrait=False, need=1280, idea_words=set(), words=keywords
    )
    sizes = [s.path.stat().st_size for s in shots]
    cache = FootageCache(tmp_path / "cache", limit_bytes=sizes[1] + sizes[2])
    os.utime(shots[0].path, (1, 1))  # the oldest use
    assert cache.evict() == 1
    assert not shots[0].path.exists() and shots[1].path.exists() and shots[2].path.exists()


def test_over_the_limit_the_provider_rests_until_its_reset(stock: Stock, tmp_path: Path) -> None:
    stock.over_limit = True
    with pytest.raises(FootageUnavailable, match="over its request limit"):
        plan_shots(
            settings(tmp_path), SCENES, portrait=False, need=1280, idea_words=set(), words=keywords
        )
    asked = len(stock.requests)
    stock.over_limit = False
    with pytest.raises(FootageUnavailable, match=r"over its request limit for \d+ s"):
        plan_shots(
            settings(tmp_path), SCENES, portrait=False, need=1280, idea_words=set(), words=keywords
        )
    assert len(stock.requests) == asked  # not asked again before the reset


def test_a_wrong_or_missing_key_says_which_setting(stock: Stock, tmp_path: Path) -> None:
    with pytest.raises(
        FootageUnavailable,
        match=r"Pexels refused the API key — check it in Settings › Footage and voices",
    ):
        plan_shots(
            settings(tmp_path, key="wrong"), SCENES, portrait=False, need=1280, idea_words=set(),
            words=keywords,
        )  # fmt: skip
    with pytest.raises(
        FootageUnavailable, match=r"^no Pixabay API key — add it in Settings › Footage and voices$"
    ):
        plan_shots(
            settings(tmp_path, "pixabay", key=""), SCENES, portrait=False, need=1280,
            idea_words=set(), words=keywords,
        )  # fmt: skip
    assert footage.check_key("pexels", KEY).startswith("Pexels answered: 3 clips")
    with pytest.raises(FootageUnavailable, match="refused"):
        footage.check_key("pixabay", "wrong")


def test_a_render_shows_footage_and_credits_it(stock: Stock, tmp_path: Path) -> None:
    chosen = RenderSettings(output=FAST, footage=settings(tmp_path))
    result = render_item(IDEA, 2, chosen, tmp_path / "out", tmp_path / "work")
    metadata = json.loads(result.metadata.read_text())
    assert "Footage:\nVideo by Author" in metadata["description"]
    assert len(metadata["footage"]) >= 2 and "notes" not in metadata
    assert KEY not in result.metadata.read_text()
    assert metadata["voice"]["engine"] and metadata["voice"]["voice"]  # which voice spoke
    # During a sentence the frame shows a clip (the fake's are flat bright colours), not the
    # style's dark gradient that a render without footage shows there.
    style = pick_style("modern", None)
    behind = gradient((1280, 720), style.background)[40:120, 40:200].reshape(-1, 3).mean(axis=0)
    for t in (3.0, 6.0):
        frame = decoded_frame(result.video, t, (1280, 720))
        corner = frame[40:120, 40:200].reshape(-1, 3).astype(float)
        assert np.ptp(corner, axis=0).max() < 8  # one flat colour
        assert np.abs(corner.mean(axis=0) - behind).sum() > 100, t  # and not the gradient


def test_offline_the_render_falls_back_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CADENCE_PEXELS_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    chosen = RenderSettings(output=FAST, footage=settings(tmp_path))
    result = render_item(IDEA, 2, chosen, tmp_path / "out", tmp_path / "work")
    metadata = json.loads(result.metadata.read_text())
    assert result.video.exists() and "Footage:" not in metadata["description"]
    [note] = metadata["notes"]
    assert note.startswith("no pictures: Pexels cannot be reached")
    assert note.endswith("every scene shows the style's colours in motion")
    # Not a still gradient: the picture behind the captions moves (caption-free top band).
    early, late = (decoded_frame(result.video, t, (1280, 720))[:60] for t in (2.5, 6.5))
    assert np.abs(early.astype(int) - late.astype(int)).mean() > 1.0


def test_the_wizard_offers_footage_and_tests_the_key(qtbot: Any, stock: Stock) -> None:
    from app.pipeline.footage import check_key
    from app.ui.background import Background
    from app.ui.wizard import OutputPage

    page = OutputPage(Background(), lambda provider: check_key(provider, KEY))
    qtbot.addWidget(page)
    assert not page.test_key.isEnabled() and "footage" not in page.config()  # as in Settings
    page.footage.setCurrentIndex(page.footage.findData("pexels"))
    assert (
        page.test_key.isEnabled() and "Credits go into the description" in page.footage_note.text()
    )
    page.test_key.click()
    qtbot.waitUntil(lambda: page.footage_note.text().startswith("✓"), timeout=10_000)
    assert page.footage_note.text() == "✓ Pexels answered: 3 clips for “ocean”."
    assert page.config()["footage"] == "pexels"
    page.footage.setCurrentIndex(page.footage.findData("none"))
    assert not page.test_key.isEnabled() and page.config()["footage"] == "none"

    refusing = OutputPage(Background(), lambda provider: check_key(provider, "wrong"))
    qtbot.addWidget(refusing)
    refusing.footage.setCurrentIndex(refusing.footage.findData("pixabay"))
    refusing.test_key.click()
    qtbot.waitUntil(lambda: refusing.footage_note.text().startswith("✗"), timeout=10_000)
    assert "refused the API key — check it in Settings" in refusing.footage_note.text()


def test_the_wizard_says_what_a_footage_choice_without_its_key_will_show(qtbot: Any) -> None:
    from app.ui.background import Background
    from app.ui.wizard import OutputPage

    page = OutputPage(Background())
    qtbot.addWidget(page)
    page.know_keys(({"pixabay"}, True))
    page.footage.setCurrentIndex(page.footage.findData("pexels"))
    assert not page.validatePage()  # the first Next says what will happen instead
    assert page.footage_note.text() == (
        "⚠ No Pexels API key is set, so these videos will show pictures that need no key "
        "(Openverse, Wikimedia Commons, NASA) instead. Add the key in Settings › Footage and "
        "voices, choose another source, or press Next again to go on."
    )
    assert page.validatePage()  # the second goes on: the user was told
    page.footage.setCurrentIndex(page.footage.findData("pixabay"))
    assert page.validatePage()  # its key is set: nothing to say
    page.know_keys((set(), False))
    assert not page.validatePage()
    assert "show the assets folder or the style's colours in motion" in page.footage_note.text()


def test_a_job_remembers_its_footage_choice_for_the_engine(
    tmp_path: Path, run_cli: Any, data_dir: Path
) -> None:
    from contextlib import closing

    from app.paths import DEMO_SHEET, AppPaths
    from app.render_config import render_settings
    from app.services import Services

    made = run_cli("jobs", "create", "--source", str(DEMO_SHEET), "--footage", "pixabay")
    assert made.returncode == 0, made.stderr
    with closing(Services(AppPaths.resolve(data_dir))) as workspace:
        [job] = queries.jobs.jobs(workspace)
        assert queries.jobs.job(workspace, job.id)["output"]["footage"] == "pixabay"
        chosen = render_settings(workspace.settings, workspace.paths, footage="pixabay")
        assert chosen.footage.provider == "pixabay" and chosen.footage.cache_dir is not None
        default = render_settings(workspace.settings, workspace.paths).footage
        # No key set: the pictures that need none, in order.
        assert default.provider == "auto"
        assert default.sources() == (("openverse", ""), ("commons", ""), ("nasa", ""))
        assert chosen.footage.sources()[0] == ("pixabay", "")  # no key: said when it renders
        assert [p for p, _k in chosen.footage.sources()[1:]] == ["openverse", "commons", "nasa"]
        none = render_settings(workspace.settings, workspace.paths, footage="none")
        assert none.visuals.assets_dir is None
    refused = run_cli("jobs", "create", "--source", str(DEMO_SHEET), "--footage", "vimeo")
    assert refused.returncode == 2 and "invalid choice: 'vimeo'" in refused.stderr


def test_footage_is_fetched_while_the_voice_is_made(
    stock: Stock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from app.pipeline import stages

    fetching = threading.Event()
    real_plan, real_narrate = footage.plan_shots, stages.narrate

    def plan(*args: Any, **options: Any) -> Any:
        fetching.set()
        return real_plan(*args, **options)

    overlapped: list[bool] = []

    def narrate(*args: Any, **options: Any) -> Any:
        overlapped.append(fetching.wait(10))  # the voice waits to see the footage start
        return real_narrate(*args, **options)

    monkeypatch.setattr(footage, "plan_shots", plan)
    monkeypatch.setattr(stages, "narrate", narrate)
    chosen = RenderSettings(output=FAST, footage=settings(tmp_path))
    result = render_item(IDEA, 2, chosen, tmp_path / "out", tmp_path / "work")
    assert overlapped == [True]
    assert "Footage:" in json.loads(result.metadata.read_text())["description"]


def test_the_engine_records_the_clips_and_the_item_panel_shows_them(
    stock: Stock, tmp_path: Path, data_dir: Path, qtbot: Any
) -> None:
    import asyncio
    from contextlib import closing

    from app.engine.service import Engine
    from app.paths import AppPaths
    from app.services import Services
    from app.sources.intake import SourceSpec
    from app.ui.job_models import ItemsModel

    sheet = tmp_path / "ideas.csv"
    sheet.write_text(
        "Title,Script\nOcean life,Whales sing across the ocean. Coral reefs shelter fish.\n"
    )
    with closing(Services(AppPaths.resolve(data_dir))) as workspace:
        workspace.settings.set("footage.pexels_key", KEY)
        (tmp_path / "videos").mkdir()
        workspace.settings.set("output.folder", str(tmp_path / "videos"))
        job_id = ops.jobs.create_job(
            workspace,
            JobRequest.of(
                SourceSpec(str(sheet)), output_config={"resolution": "720p", "footage": "pexels"}
            ),
        ).job_id
        asyncio.run(Engine(workspace, run_schedules=False).run(asyncio.Event(), until_idle=True))
        [item] = queries.jobs.job(workspace, job_id)["items"]
    assert item["state"] == "completed", item["error"]
    assert item["outputs"]["credits"] and item["outputs"]["notes"] == []
    assert all("on Pexels: https://www.pexels.com/video/" in c for c in item["outputs"]["credits"])

    model = ItemsModel()
    model.set_records([item])
    footage_column = [name for name, _ in model.columns].index("Footage")
    cell = model.index(0, footage_column)
    assert model.data(cell).endswith("· Pexels") and model.data(cell)[0].isdigit()
    assert model.data(cell, 3).startswith("Video by Author")  # the tooltip: each credit
    offline = {
        **item,
        "outputs": {**item["outputs"], "credits": [], "notes": ["no stock footage: x"]},
    }
    model.set_records([offline])
    problem = [name for name, _ in model.columns].index("Problem")
    assert model.data(model.index(0, problem)) == "no stock footage: x"


def test_a_language_model_proposes_the_search_phrases(
    stock: Stock, tmp_path: Path, chat_server: type[ChatServer]
) -> None:
    from app.pipeline.stages import FootageWork

    answer = '```json\n["surfers at dawn", "camel caravan dunes"]\n```'
    chat_server.replies = [(200, {"choices": [{"message": {"content": answer}}]})]
    llm = LLMSettings(endpoint=chat_server.url, model="llama3")
    chosen = RenderSettings(output=FAST, footage=settings(tmp_path), llm=llm)
    scenes = [  # long enough to be a scene each
        "The ocean is wild today and the waves roll in from far away over the rocks.",
        "Far away from the water, the quiet desert waits for the evening wind to come.",
    ]
    work = FootageWork(chosen, scenes, (1280, 720), set(), None)
    assert work.thread is not None
    work.thread.join(30)
    asked = chat_server.seen[0]["body"]["messages"][1]["content"]
    assert f"1. {scenes[0]}" in asked and f"2. {scenes[1]}" in asked
    searched = [r.split("query=")[1].split("&")[0] for r in stock.searches()]
    assert searched[:2] == ["surfers+at+dawn", "camel+caravan+dunes"]
    assert [clip.id for _scene, clip, _path in work.picked] and work.notes == []


def test_without_a_useful_answer_footage_is_searched_by_key_words(
    stock: Stock, tmp_path: Path, chat_server: type[ChatServer]
) -> None:
    from app.pipeline.stages import FootageWork

    chat_server.replies = [(200, {"choices": [{"message": {"content": "Sorry, I can't."}}]})]
    llm = LLMSettings(endpoint=chat_server.url, model="llama3")
    chosen = RenderSettings(output=FAST, footage=settings(tmp_path), llm=llm)
    work = FootageWork(chosen, ["Blue ocean waves crash."], (1280, 720), set(), None)
    assert work.thread is not None
    work.thread.join(30)
    assert len(work.picked) == 1
    assert work.notes == [
        "footage searched by key words: the language model did not answer with a list of "
        "search phrases"
    ]
    first = footage.search_terms("Blue ocean waves crash.", set(), keywords)[0]
    assert f"query={first.replace(' ', '+')}&" in stock.searches()[0]


def test_testing_a_provider_without_its_key_says_where_to_add_it(run_cli: Any) -> None:
    tested = run_cli("footage", "test", "pixabay")
    assert tested.returncode != 0
    assert (
        "no Pixabay API key — add it in Settings › Footage and voices, or here: "
        "settings set footage.pixabay_key -"
    ) in tested.stdout + tested.stderr
