"""Save screenshots of the real app for the README.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python packaging/screenshots.py [OUT_DIR]

Runs the real main window on a real X display (Xvfb) against a fresh workspace, waits until
its data has loaded, and saves each view as a PNG (default: docs/screenshots/).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "xcb")


def main(out_dir: Path) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.paths import AppPaths
    from app.ui.main_window import MainWindow
    from app.workspace import Workspace

    out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as scratch:
        window = MainWindow(lambda: Workspace(AppPaths.resolve(scratch), front_end="gui"))
        window.resize(1180, 720)
        window.show()

        def shoot() -> None:
            if window.items_model.rowCount() == 0:
                QTimer.singleShot(100, shoot)
                return
            path = out_dir / "main-window.png"
            window.grab().save(str(path))
            print(f"saved {path}")
            window.close()
            app.quit()

        QTimer.singleShot(300, shoot)
        QTimer.singleShot(30_000, app.quit)  # never hang a build
        app.exec()
    return 0


if __name__ == "__main__":
    raise SystemExit(
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
    )
