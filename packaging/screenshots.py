"""Save screenshots of the real app for the README.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python packaging/screenshots.py [OUT_DIR]

Runs the real main window on a real X display (Xvfb) against a fresh workspace with the demo
job, two more jobs, two schedules, a signed-in YouTube channel and TikTok account, a publishing
job whose videos were really rendered and now await approval, and one whose videos are up on
both; saves each view, each wizard page and the approval preview as a PNG (default:
docs/screenshots/). TikTok is the test suite's loopback stand-in (no TikTok here).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this clone's Cadence, whichever the environment installed
os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from app import ops  # noqa: E402
from app.ops.jobs import JobRequest  # noqa: E402


def seed(workspace: object) -> None:
    from app.domain.idea import Priority
    from app.paths import DEMO_SHEET
    from app.services import Services
    from app.sources.intake import SourceSpec
    from app.store import schedules as schedule_store

    assert isinstance(workspace, Services)
    ops.jobs.ensure_demo(workspace)
    ops.calendar.set_config(
        workspace,
        "", {"slots": "mon-fri 17:00; sat 10:00", "min_gap_hours": 12, "max_per_day": 2,
             "blackout_days": "sun", "timezone": "Europe/Berlin"},
    )  # fmt: skip
    seed_publishing(workspace)  # first: its engine run must render only its own job
    seed_history(workspace)
    ops.jobs.create_job(
        workspace,
        JobRequest.of(
            SourceSpec(str(DEMO_SHEET)),
            title="Week 48 — science shorts",
            priority=Priority.HIGH,
            scheduling={"mode": "smart"},
        ),
    )
    ops.jobs.create_job(
        workspace,
        JobRequest.of(
            SourceSpec(str(DEMO_SHEET), range="A1:J4"),
            title="Cooking basics",
            priority=Priority.LOW,
        ),
    )
    ops.jobs.create_job(
        workspace,
        JobRequest.of(
            SourceSpec(str(garden_sheet())), title="Garden hacks 🌱🪴", priority=Priority.NORMAL
        ),
    )  # emoji; rows left out
    # After the renders above (no bucket here); no keys: they would go to your real keyring.
    workspace.settings.set("storage.target", "s3://my-channel-videos/cadence")
    workspace.settings.set("storage.region", "eu-central-1")
    with workspace.db.write() as session:
        for name, expression in (("Monday explainers", "weekly@mon@09:00"),
                                 ("Daily shorts", "daily@18:30")):  # fmt: skip
            schedule_store.add_schedule(
                session, name=name, expression=expression, timezone="Europe/Berlin",
                topic_template=name + " {date}", job_template={"source": str(DEMO_SHEET)},
                actor="screenshots",
            )  # fmt: skip


CHANNEL = "UCd3m0ChAnNeLcAdEnCe0001"
TIKTOK = "-000skyFactsOpenId7Tq0c"
INSTAGRAM, PAGE = "17841400000000001", "102030405060708"
TIKTOK_POST = {"privacy": "PUBLIC_TO_EVERYONE", "music_consent": True, "allow_comment": True}


_SERVING: list[object] = []


def serve_tiktok() -> object:
    """The test suite's loopback TikTok, with the account the screenshots show signed in."""
    from tests.fake_tiktok import TikTok, handler_for
    from tests.loopback import running

    fake = TikTok()
    fake.user(TIKTOK, username="skyfacts", nickname="Sky Facts", stitch_disabled=True)
    context = running(handler_for(fake))
    server = context.__enter__()
    _SERVING.append(context)  # kept: a collected context would stop the server
    fake.base = f"http://127.0.0.1:{server.server_port}"
    os.environ["CADENCE_TIKTOK_ENDPOINT"] = fake.base
    return fake


def sign_in_tiktok(workspace: object, fake: object) -> None:
    import json
    from datetime import UTC, datetime, timedelta

    from app.services import Services
    from app.store.models import Channel

    assert isinstance(workspace, Services)
    token = "act.screenshots"
    fake.access[token] = (TIKTOK, datetime.now(UTC) + timedelta(days=1))  # type: ignore[attr-defined]
    far = (datetime.now(UTC) + timedelta(days=300)).isoformat()
    workspace.secrets.set(
        f"tiktok.token.{TIKTOK}",
        json.dumps({"client_key": "awdemo", "access_token": token, "expires_at": far,
                    "refresh_token": "rft.screenshots", "refresh_expires_at": far}),
    )  # fmt: skip
    project = f"1234567890|10158000000000001|{PAGE}"  # app|user|page (no Meta here to ask)
    with workspace.db.write() as session:
        session.add(Channel(id=TIKTOK, platform="tiktok", title="Sky Facts", handle="@skyfacts",
                            project="awdemo"))  # fmt: skip
        session.add(Channel(id=INSTAGRAM, platform="instagram_reels", title="Sky Facts",
                            handle="@skyfacts.ig", project=project))  # fmt: skip
        session.add(Channel(id=PAGE, platform="facebook", title="Sky Facts", project=project))


def garden_sheet() -> Path:
    """The demo sheet's rows and two with mistakes, which the job leaves out and keeps."""
    import csv

    from app.paths import DEMO_SHEET

    rows = list(csv.reader(DEMO_SHEET.open(encoding="utf-8")))[:4]
    rows.append(["Compost in a week", "", "", "", "ninety", "youtube", "Turn it daily.",
                 "", "", ""])  # fmt: skip
    rows.append(["Seed bombs", "", "", "", "60", "myspace", "Clay, compost, seeds.",
                 "", "", ""])  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "garden.csv"  # a user's folder, not Cadence's own
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def seed_publishing(workspace: object) -> None:
    """A channel; a job whose two videos are rendered for real and await approval; a job
    whose videos went where each row says — YouTube, Shorts, TikTok, Instagram (its states
    written directly: no platform here)."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from app.engine.service import Engine
    from app.paths import DEMO_SHEET
    from app.services import Services
    from app.sources.intake import SourceSpec
    from app.store.models import Channel, Item, QuotaUse

    assert isinstance(workspace, Services)
    with workspace.db.write() as session:
        session.add(Channel(id=CHANNEL, title="Curious Minutes", handle="@curiousminutes",
                            project="demo"))  # fmt: skip
        from app.domain.publishing import quota_day

        today = quota_day(datetime.now(UTC)).isoformat()
        session.add(QuotaUse(project="demo", day=today, uploads=3, units=312))
    plan = {"target": "youtube", "channel": CHANNEL, "privacy": "public",
            "made_for_kids": False, "every": "1d", "first": "2026-12-07T17:00"}  # fmt: skip
    folder = workspace.paths.data_dir / "videos"
    folder.mkdir(exist_ok=True)
    workspace.settings.set("output.folder", str(folder))
    workspace.settings.set("api.enabled", "true")
    ops.jobs.create_job(
        workspace,
        JobRequest.of(
            SourceSpec(str(DEMO_SHEET), range="A1:J3"),
            title="Approve me first",
            output_config={"resolution": "720p"},
            publish={
                **plan,
                "approve": True,
                "target": "youtube,tiktok",
                "accounts": {"tiktok": TIKTOK},
                "tiktok": TIKTOK_POST,
            },
        ),
    )
    engine = Engine(workspace, run_schedules=False, poll_seconds=0.2)
    asyncio.run(engine.run(asyncio.Event(), until_idle=True))  # real renders, then approval
    accounts = {"tiktok": TIKTOK, "instagram_reels": INSTAGRAM, "facebook": PAGE}
    sheet = {**plan, "target": "sheet", "tiktok": TIKTOK_POST, "accounts": accounts}
    up = ops.jobs.create_job(
        workspace,
        JobRequest.of(
            SourceSpec(str(DEMO_SHEET), range="A1:J5"),
            title="Space week — scheduled",
            publish=sheet,
        ),
    ).job_id
    links = {
        "youtube": "https://www.youtube.com/watch?v=dQw4w9WgXc{n}",
        "youtube_shorts": "https://www.youtube.com/shorts/aBcDeFgHiJ{n}",
        "tiktok": "https://www.tiktok.com/@skyfacts/video/744170932856100{n}",
        "instagram_reels": "https://www.instagram.com/reel/C0sKyFaCt{n}/",
    }
    with workspace.db.write() as session:
        items = session.scalars(select(Item).where(Item.job_id == up)).all()
        for n, item in enumerate(items):
            item.state, item.phase, item.progress, item.attempts = "completed", "upload", 1.0, 1
            item.finished_at = datetime.now(UTC) - timedelta(hours=4 - n)
            for upload in item.uploads:
                later = upload.publish_at is not None and upload.publish_at > datetime.now(UTC)
                if upload.destination in ("youtube", "youtube_shorts"):
                    upload.video_id = f"dQw4w9WgXc{n}"
                    upload.url = links[upload.destination].format(n=n)
                    upload.status = "scheduled" if later else "published"
                elif n == 0 or not later:
                    upload.status, upload.video_id = "published", f"post{n}"
                    upload.url = links.get(upload.destination, "").format(n=n) or None
                else:
                    item.state = "pending"  # posted from this computer at its time
            item.video_id = f"dQw4w9WgXc{n}"
        item.job.state = "running"


def seed_history(workspace: object) -> None:
    """A month of made videos (a few failed), most of them on the channel with a reading of
    their figures each day — what the dashboard's and the analytics page's charts show."""
    import random
    from datetime import UTC, datetime, timedelta

    from app.services import Services
    from app.store.models import Item, Job, Upload, VideoStat

    assert isinstance(workspace, Services)
    chance = random.Random(48)
    now = datetime.now(UTC)
    with workspace.db.write() as session:
        job = Job(title="November — daily shorts", state="completed", priority="normal",
                  source_kind="csv", source_location="november.csv", output_config={},
                  scheduling={}, created_at=now - timedelta(days=31))  # fmt: skip
        session.add(job)
        session.flush()
        row = 2
        for day in range(30, 0, -1):
            for _ in range(chance.choice((1, 2, 2, 3))):
                made = now - timedelta(days=day, hours=chance.uniform(1, 9))
                failed = chance.random() < 0.1
                item = Item(job_id=job.id, row_number=row, title=f"Short #{row - 1}",
                            state="failed" if failed else "completed", progress=1.0, attempts=1,
                            started_at=made - timedelta(minutes=4), finished_at=made,
                            error="the voice could not be made" if failed else None)  # fmt: skip
                session.add(item)
                session.flush()
                row += 1
                if failed:
                    continue
                hour = chance.choice((8, 12, 17, 17, 18, 21))
                published = made.replace(hour=hour, minute=0) + timedelta(days=1)
                if published > now:
                    continue
                video = f"hist{row:07d}"
                session.add(Upload(item_id=item.id, channel_id=CHANNEL, status="published",
                                   privacy="public", video_id=video, publish_at=published,
                                   steps_done=[]))  # fmt: skip
                reach = chance.randint(300, 2500) * (2.2 if hour in (17, 18) else 1.0)
                age = 0
                while published + timedelta(days=age, hours=3) < now:
                    views = int(reach * (1 - 0.75 ** (age + 1)))
                    session.add(VideoStat(item_id=item.id, video_id=video, channel_id=CHANNEL,
                                          fetched_at=published + timedelta(days=age, hours=3),
                                          views=views, likes=views // 25,
                                          comments=views // 180))  # fmt: skip
                    age += 1


def capture_approvals(window: object, app: object, save: object, then: object) -> None:
    from PySide6.QtCore import QTimer

    window.job_handlers.review_approvals()  # type: ignore[attr-defined]
    dialog = window.approvals  # type: ignore[attr-defined]
    dialog.resize(1120, 640)
    QTimer.singleShot(4000, lambda: (save("approval", dialog), dialog.close(), then()))


def main(out_dir: Path) -> int:
    from PySide6.QtCore import QPoint, QTimer
    from PySide6.QtWidgets import QApplication, QScrollArea, QWizard

    from app.paths import DEMO_SHEET, AppPaths
    from app.services import Services
    from app.ui.main_window import PAGES, MainWindow

    out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"  # not yours
        fake = serve_tiktok()
        paths = AppPaths.resolve(scratch)
        prepared = Services(paths)
        sign_in_tiktok(prepared, fake)
        seed(prepared)
        prepared.close()
        window = MainWindow(lambda: Services(paths, front_end="gui"))
        window.resize(1240, 760)
        window.show()
        steps: list[tuple[int, object]] = []

        def save(name: str, widget: object | None = None) -> None:
            target = widget or window
            path = out_dir / f"{name}.png"
            target.grab().save(str(path))  # type: ignore[attr-defined]
            print(f"saved {path}")

        def page(index: int, name: str) -> None:
            window.nav.setCurrentRow(index)
            QTimer.singleShot(1600, lambda: save(name))  # charts are drawn after a first paint

        def wizard() -> None:
            window.job_handlers.new_job()
            wiz = window.wizard
            wiz.source.location.setText(str(DEMO_SHEET))
            wiz.source.test()

            def after_test() -> None:
                if wiz.source.report is None:
                    QTimer.singleShot(200, after_test)
                    return
                save("wizard-1-source", wiz)
                names = ("output", "details", "scheduling", "publishing", "review")
                for n in range(2, 7):
                    wiz.next()
                    app.processEvents()
                    if n == 4:
                        wiz.scheduling_page.recurring.setChecked(True)
                        app.processEvents()
                    if n == 5:
                        pub = wiz.publishing
                        pub.enabled.setChecked(True)
                        pub.kids_no.setChecked(True)
                        pub.spaced.setChecked(True)
                        pub.approve.setChecked(True)
                        app.processEvents()
                        save("wizard-5-publishing", wiz)
                        pub.tiktok_on.setChecked(True)
                        panel = pub.tiktok
                        for _ in range(100):  # TikTok's creator info, in the background
                            app.processEvents()
                            if panel.privacy.count():
                                break
                            time.sleep(0.05)
                        panel.privacy.setCurrentIndex(panel.privacy.findData("PUBLIC_TO_EVERYONE"))
                        panel.comment.setChecked(True)
                        panel.consent.setChecked(True)
                        app.processEvents()
                        area = pub.findChild(QScrollArea)
                        if area is not None:
                            top = panel.mapTo(area.widget(), QPoint(0, 0)).y()
                            area.verticalScrollBar().setValue(top - 140)
                        app.processEvents()
                        save("wizard-5-tiktok", wiz)
                        continue
                    if n == 6:  # the estimate arrives from the background
                        for _ in range(100):
                            app.processEvents()
                            if "Disk space" in wiz.review.cost.text():
                                app.processEvents()  # laid out for its new lines
                                break
                            time.sleep(0.05)
                    save(f"wizard-{n}-{names[n - 2]}", wiz)
                QWizard.reject(wiz)  # without "discard?": this is no user's work
                capture_approvals(window, app, save, lambda: (window.close(), app.quit()))

            QTimer.singleShot(500, after_test)

        def start() -> None:
            if window.workspace is None or window.jobs.model.rowCount() == 0:
                QTimer.singleShot(100, start)
                return
            # As the window shows it when the API is on (this window runs no engine to serve it).
            window.settings_page.show_api("http://127.0.0.1:8765")
            delay = 0
            for index, name in enumerate(PAGES):
                QTimer.singleShot(delay, lambda i=index, n=name: page(i, n.lower()))
                delay += 2200
            QTimer.singleShot(delay, lambda: page(1, "main-window"))
            delay += 1500

            def published() -> None:
                window.resize(1500, 760)
                window.jobs.select_job(
                    next(r.id for r in window.jobs.model.all_rows() if r.title.startswith("Space"))
                )

                def platforms() -> None:
                    window.nav.setCurrentRow(PAGES.index("Jobs"))
                    view = window.jobs.items_view
                    model = view.model()
                    view.setColumnHidden(3, True)
                    for column in range(4, model.columnCount() - 1):
                        view.setColumnHidden(column, True)  # title, state, links on one screen
                    view.resizeColumnToContents(model.columnCount() - 1)
                    app.processEvents()
                    save("jobs-platforms")
                    for column in range(model.columnCount()):
                        view.setColumnHidden(column, False)
                    window.resize(1240, 760)

                QTimer.singleShot(1200, lambda: (save("jobs-youtube"), platforms()))

            QTimer.singleShot(delay, published)

            def week() -> None:
                window.nav.setCurrentRow(PAGES.index("Calendar"))
                from datetime import date

                window.calendar.set_view("Week", date(2026, 12, 7))
                QTimer.singleShot(1200, lambda: save("calendar-week"))

            QTimer.singleShot(delay + 2600, week)
            delay += 2600

            def cards() -> None:
                window.jobs.show_as("Cards")
                QTimer.singleShot(600, lambda: (save("jobs-cards"), window.jobs.show_as("List")))

            QTimer.singleShot(delay + 3000, cards)

            def details(title: str, name: str) -> None:
                """The Details tab of the job whose title starts so."""
                window.nav.setCurrentRow(PAGES.index("Jobs"))
                rows = window.jobs.model.all_rows()
                window.jobs.select_job(next(r.id for r in rows if r.title.startswith(title)))
                window.jobs.lower_tabs.setCurrentIndex(1)
                QTimer.singleShot(
                    900, lambda: (save(name), window.jobs.lower_tabs.setCurrentIndex(0))
                )

            QTimer.singleShot(delay + 1700, lambda: details("Nov", "jobs-details"))
            # A job keeps the rows it left out; emoji in its title.
            QTimer.singleShot(delay + 5100, lambda: details("Gar", "jobs-left-out"))

            def api_settings() -> None:
                window.nav.setCurrentRow(PAGES.index("Settings"))
                bar = window.settings_page.scroller.verticalScrollBar()
                bar.setValue(bar.maximum())
                QTimer.singleShot(500, lambda: save("settings-api"))

            QTimer.singleShot(delay + 6300, api_settings)

            def storage_settings() -> None:
                page = window.settings_page
                page.storage_status.setText(
                    "s3://my-channel-videos/cadence works: a test file was written, read back "
                    "and deleted"
                )  # what Test answers (no S3 here to ask)
                top = page.cluster.mapTo(page.scroller.widget(), QPoint(0, 0)).y()
                page.scroller.verticalScrollBar().setValue(top - 60)  # Rendering's cluster rows on
                QTimer.singleShot(400, lambda: save("settings-storage"))

            QTimer.singleShot(delay + 6900, storage_settings)

            def footage_settings() -> None:
                page = window.settings_page
                page.footage_status.setText(
                    "✓ Openverse answered: 20 pictures for “ocean”. Wikimedia Commons answered: "
                    "14 pictures for “ocean”. NASA answered: 3 pictures for “ocean”."
                )  # what Test answers (no internet here to ask)
                page.speech_engine.setCurrentIndex(page.speech_engine.findData("endpoint"))
                page.speech_endpoint.setText("http://localhost:8880/v1")
                page.speech_model.setText("kokoro")
                page.speech_voice.setText("female=af_heart, male=am_adam")
                page.speech_status.setText(
                    "✓ The speech endpoint answered: 2.4 s of audio in voice “af_heart”."
                )
                top = page.footage_provider.mapTo(page.scroller.widget(), QPoint(0, 0)).y()
                page.scroller.verticalScrollBar().setValue(top - 40)
                QTimer.singleShot(300, lambda: save("settings-footage"))

            QTimer.singleShot(delay + 7400, footage_settings)

            def accounts_settings() -> None:
                page = window.settings_page
                top = page.channels.mapTo(page.scroller.widget(), QPoint(0, 0)).y()
                page.scroller.verticalScrollBar().setValue(top - 120)
                QTimer.singleShot(300, lambda: save("settings-accounts"))

            QTimer.singleShot(delay + 7900, accounts_settings)
            QTimer.singleShot(delay + 8600, wizard)

        QTimer.singleShot(300, start)
        QTimer.singleShot(120_000, app.quit)  # never hang a build
        app.exec()
        _ = steps
    return 0


if __name__ == "__main__":
    raise SystemExit(
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
    )
