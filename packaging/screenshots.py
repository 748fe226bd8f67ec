"""Save screenshots of the real app for the README.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python packaging/screenshots.py [OUT_DIR]

Runs the real main window on a real X display (Xvfb) against a fresh workspace with the demo
job, two more jobs and two schedules, and saves each view and each wizard page as a PNG
(default: docs/screenshots/).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "xcb")


def seed(workspace: object) -> None:
    from app.domain.idea import Priority
    from app.paths import DEMO_SHEET
    from app.sources.intake import SourceSpec
    from app.store import schedules as schedule_store
    from app.workspace import Workspace

    assert isinstance(workspace, Workspace)
    workspace.ensure_demo()
    workspace.create_job(SourceSpec(str(DEMO_SHEET)), title="Week 48 — science shorts",
                         priority=Priority.HIGH, scheduling={"mode": "smart"})  # fmt: skip
    workspace.create_job(SourceSpec(str(DEMO_SHEET), range="A1:J4"), title="Cooking basics",
                         priority=Priority.LOW)  # fmt: skip
    with workspace.db.write() as session:
        for name, expression in (("Monday explainers", "weekly@mon@09:00"),
                                 ("Daily shorts", "daily@18:30")):  # fmt: skip
            schedule_store.add_schedule(
                session, name=name, expression=expression, timezone="Europe/Berlin",
                topic_template=name + " {date}", job_template={"source": str(DEMO_SHEET)},
                actor="screenshots",
            )  # fmt: skip


def main(out_dir: Path) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.paths import DEMO_SHEET, AppPaths
    from app.ui.main_window import PAGES, MainWindow
    from app.workspace import Workspace

    out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as scratch:
        paths = AppPaths.resolve(scratch)
        prepared = Workspace(paths)
        seed(prepared)
        prepared.close()
        window = MainWindow(lambda: Workspace(paths, front_end="gui"))
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
            QTimer.singleShot(900, lambda: save(name))

        def wizard() -> None:
            window.new_job()
            wiz = window.wizard
            wiz.source.location.setText(str(DEMO_SHEET))
            wiz.source.test()

            def after_test() -> None:
                if wiz.source.report is None:
                    QTimer.singleShot(200, after_test)
                    return
                save("wizard-1-source", wiz)
                for n in range(2, 6):
                    wiz.next()
                    app.processEvents()
                    if n == 4:
                        wiz.scheduling_page.recurring.setChecked(True)
                        app.processEvents()
                    save(f"wizard-{n}-{('output', 'details', 'scheduling', 'review')[n - 2]}", wiz)
                wiz.reject()
                window.close()
                app.quit()

            QTimer.singleShot(500, after_test)

        def start() -> None:
            if window.workspace is None or window.jobs.model.rowCount() == 0:
                QTimer.singleShot(100, start)
                return
            delay = 0
            for index, name in enumerate(PAGES):
                QTimer.singleShot(delay, lambda i=index, n=name: page(i, n.lower()))
                delay += 1500
            QTimer.singleShot(delay, lambda: page(1, "main-window"))

            def cards() -> None:
                window.jobs.show_as("Cards")
                QTimer.singleShot(600, lambda: (save("jobs-cards"), window.jobs.show_as("List")))

            QTimer.singleShot(delay + 1500, cards)
            QTimer.singleShot(delay + 3000, wizard)

        QTimer.singleShot(300, start)
        QTimer.singleShot(60_000, app.quit)  # never hang a build
        app.exec()
        _ = steps
    return 0


if __name__ == "__main__":
    raise SystemExit(
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
    )
