"""TikTok through the command line and the real engine: `accounts add tiktok --no-browser`,
`jobs create --publish sheet`, one row to YouTube and TikTok — and a SIGKILL while the video
is on its way to TikTok, then a restart: one post, its bytes the file's."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import requests

from app.paths import AppPaths
from app.pipeline.probe import probe_mp4
from app.services import Services
from tests.conftest import HEADER, ROOT, full_row
from tests.fake_google import Google
from tests.fake_tiktok import TikTok
from tests.tiktok_helpers import sign_in_tiktok
from tests.youtube_helpers import sign_in_channel

CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"


def test_accounts_add_tiktok_without_a_browser_prints_the_address_alone_and_waits(
    tiktok: TikTok, data_dir: Path, tmp_path: Path
) -> None:
    key, secret = tiktok.app()
    tiktok.user(username="skyfacts", nickname="Sky Facts")
    (tmp_path / "secret.txt").write_text(secret + "\n")
    main = [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir)]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    adding = subprocess.Popen(
        [*main, "accounts", "add", "tiktok", "--client-key", key, "--client-secret",
         f"@{tmp_path / 'secret.txt'}", "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert adding.stdout is not None
    lines = []
    for line in adding.stdout:
        lines.append(line)
        if line.startswith("http"):
            break
    url = lines[-1].strip()
    assert url.startswith(tiktok.base + "/v2/auth/authorize/?") and " " not in url
    threading.Thread(target=lambda: requests.get(url, timeout=30), daemon=True).start()
    out, err = adding.communicate(timeout=60)
    assert adding.returncode == 0, err
    assert "Added the TikTok account Sky Facts (@skyfacts)" in out
    assert secret not in out + err + "".join(lines)
    listed = subprocess.run([*main, "accounts", "list", "--json"], capture_output=True,
                            text=True, env=env, timeout=60, check=True)  # fmt: skip
    [account] = json.loads(listed.stdout)
    assert (account["platform"], account["handle"]) == ("tiktok", "@skyfacts")
    channels = subprocess.run([*main, "channels", "list"], capture_output=True, text=True,
                              env=env, timeout=60, check=True)  # fmt: skip
    assert "No YouTube channel yet" in channels.stdout
    removed = subprocess.run([*main, "accounts", "remove", "@skyfacts"], capture_output=True,
                             text=True, env=env, timeout=60, check=False)  # fmt: skip
    assert removed.returncode == 0 and "Removed the TikTok account" in removed.stdout
    assert tiktok.revoked


def test_jobs_create_with_tiktok_insists_on_tiktoks_choices(
    tiktok: TikTok, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        sign_in_tiktok(ws, tiktok, monkeypatch)
    sheet = _sheet(tmp_path, ["tiktok"])
    main = [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir)]
    base = [*main, "jobs", "create", "--source", str(sheet), "--publish", "tiktok"]
    run: Any = lambda *a: subprocess.run([*base, *a], capture_output=True, text=True,  # noqa: E731
                                         timeout=120, check=False)  # fmt: skip
    missing = run()
    assert missing.returncode != 0 and "TikTok allows no default" in missing.stderr
    consent = run("--tiktok-privacy", "SELF_ONLY")
    assert consent.returncode != 0 and "Music Usage Confirmation" in consent.stderr
    wrong = run("--tiktok-privacy", "everyone-ish", "--tiktok-music-consent")
    assert wrong.returncode != 0 and "PUBLIC_TO_EVERYONE" in wrong.stderr
    later = run("--tiktok-privacy", "SELF_ONLY", "--tiktok-music-consent", "--publish",
                "tiktok,instagram")  # fmt: skip
    assert later.returncode != 0 and "is missing for Instagram Reels" in later.stderr
    ok = run("--tiktok-privacy", "SELF_ONLY", "--tiktok-music-consent", "--json")
    assert ok.returncode == 0, ok.stderr
    shown = subprocess.run(
        [*main, "jobs", "show", str(json.loads(ok.stdout)["id"]), "--json"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    publish = json.loads(shown.stdout)["publish"]
    assert publish["target"] == "tiktok" and publish["tiktok"]["privacy"] == "SELF_ONLY"
    assert publish["accounts"] == {"tiktok": "open-abc"}


def _sheet(tmp_path: Path, platforms: list[str]) -> Path:
    path = tmp_path / "ideas.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for n, names in enumerate(platforms):
            writer.writerow(
                full_row(
                    idea_title=f"Sky fact {n + 1}",
                    platform_preferences=names,
                    script_content="The sky is blue because air scatters blue light the most. "
                    "Sunsets are red because the light travels further through the air.",
                    style_override="minimal",
                )
            )
    return path


@pytest.mark.slow
def test_one_row_to_youtube_and_tiktok_killed_mid_post_restarted_gives_one_of_each(
    google: Google, tiktok: TikTok, data_dir: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        sign_in_channel(ws, google)
        open_id = sign_in_tiktok(ws, tiktok, monkeypatch, username="skyfacts")
        (tmp_path / "videos").mkdir()
        ws.settings.set("output.folder", str(tmp_path / "videos"))
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    main = [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir)]
    created = subprocess.run(
        [*main, "jobs", "create", "--source", str(_sheet(tmp_path, ["youtube, tiktok"])),
         "--publish", "sheet", "--channel", CHANNEL, "--account", "tiktok:@skyfacts",
         "--privacy", "public", "--not-made-for-kids", "--tiktok-privacy",
         "PUBLIC_TO_EVERYONE", "--tiktok-music-consent", "--resolution", "720p", "--json"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    job = json.loads(created.stdout)["id"]
    tiktok.put_delay = 30.0  # a slow line: time to pull the plug while the video travels
    engine = subprocess.Popen(
        [*main, "run", "--headless", "--until-idle"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while tiktok.puts_started < 1 and time.monotonic() < deadline:
        assert engine.poll() is None, "the engine ended before posting"
        time.sleep(0.05)
    assert tiktok.puts_started == 1
    os.killpg(engine.pid, signal.SIGKILL)
    engine.wait(timeout=30)
    tiktok.put_delay = 0.0
    time.sleep(0.5)
    assert len(google.youtube.videos) == 1 and not tiktok.published()
    again = subprocess.run(
        [*main, "run", "--headless", "--until-idle"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "row 2 TikTok: published → https://www.tiktok.com/@skyfacts/video/" in again.stdout
    assert len(google.youtube.videos) == 1 and google.youtube.inserts == 1
    [post] = tiktok.posts.values()  # the same publish_id, asked after and finished
    assert post.status == "PUBLISH_COMPLETE" and post.open_id == open_id
    shown = json.loads(subprocess.run([*main, "jobs", "show", str(job), "--json"],
                                      capture_output=True, text=True, env=env, timeout=60,
                                      check=True).stdout)  # fmt: skip
    [item] = shown["items"]
    assert item["state"] == "completed"
    # One render, two shapes: YouTube takes the job's 16:9, TikTok the 9:16 copy.
    video = Path(item["outputs"]["video"])
    vertical = Path(item["outputs"]["renditions"]["9:16"])
    assert next(iter(google.youtube.videos.values())).data == video.read_bytes()
    assert bytes(post.data) == vertical.read_bytes()
    tall = probe_mp4(vertical).track("vide")
    assert (tall.width, tall.height) == (720, 1280)
    assert len([h for h in item["history"] if h["outcome"] == "completed"]) >= 1
    links = {u["destination"]: u["url"] for u in item["uploads"]}
    assert links["tiktok"] == f"https://www.tiktok.com/@skyfacts/video/{post.post_id}"
    assert links["youtube"].startswith("https://www.youtube.com/watch?v=")
    table = subprocess.run([*main, "jobs", "show", str(job)], capture_output=True, text=True,
                           env=env, timeout=60, check=True).stdout  # fmt: skip
    assert "YouTube published · TikTok published" in table
