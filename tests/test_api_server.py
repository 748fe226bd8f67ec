"""The API on a real uvicorn server: live events from a real engine, a taken port, the
window's Settings switch."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytestqt.qtbot import QtBot

from app import ops
from app.api.server import ApiError, LocalApi
from app.engine import rendering
from app.engine.service import Engine
from app.ops.jobs import JobRequest
from app.paths import DEMO_SHEET, AppPaths
from app.pipeline.runner import RenderOutcome, RenderStatus
from app.services import Services
from app.sources.intake import SourceSpec


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def workspace(data_dir: Path) -> Iterator[Services]:
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        ws.settings.set("api.enabled", "true")
        ws.settings.set("api.port", str(free_port()))
        yield ws


def test_the_event_stream_delivers_an_items_progress_from_the_engine(
    workspace: Services, data_dir: Path, monkeypatch: Any
) -> None:
    def stand_in_render(task: Any, progress: Any, **_kwargs: Any) -> RenderOutcome:
        progress("encode", 0.5)
        return RenderOutcome(RenderStatus.COMPLETED)

    monkeypatch.setattr(rendering, "run_render", stand_in_render)
    workspace.settings.set("output.folder", str(data_dir))
    job_id = ops.jobs.create_job(
        workspace, JobRequest.of(SourceSpec(str(DEMO_SHEET)), title="Live")
    ).job_id
    local = LocalApi(workspace.paths)
    address = local.apply(workspace.settings)
    assert address is not None and address.startswith("http://127.0.0.1:")
    token = workspace.settings.api_token()
    connected, lines = threading.Event(), []

    def listen() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.stream("GET", f"{address}/api/v1/events", headers=headers, timeout=30) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            for line in r.iter_lines():
                lines.append(line)
                connected.set()
                if line.startswith("event: item_finished"):
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert connected.wait(10)
    engine = Engine(workspace, on_event=local.engine_event, run_schedules=False)
    asyncio.run(engine.run(asyncio.Event(), until_idle=True))
    listener.join(20)
    local.stop()
    text = "\n".join(lines)
    assert "event: item_progress" in text
    assert f'"job_id": {job_id}' in text and '"stage": "encode", "progress": 0.5' in text
    assert "event: job_changed" in text


def test_a_taken_port_is_said_in_one_line(workspace: Services) -> None:
    port = workspace.settings.integer("api.port")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(ApiError, match=f"port {port} is in use .*settings set api.port"):
            LocalApi(workspace.paths).apply(workspace.settings)


@pytest.mark.qasync
def test_settings_turn_the_api_on_and_off_in_the_window(
    qtbot: QtBot, data_dir: Path, workspace: Services
) -> None:
    import qasync
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import PAGES, MainWindow

    workspace.settings.set("api.enabled", "false")
    port = workspace.settings.integer("api.port")
    health = f"http://127.0.0.1:{port}/api/v1/health"
    loop = qasync.QEventLoop(QApplication.instance())
    asyncio.set_event_loop(loop)
    window = MainWindow(lambda: Services(workspace.paths, front_end="gui"), run_engine=True)
    qtbot.addWidget(window)
    page = window.settings_page

    async def until(condition: Any, seconds: float = 15) -> None:
        for _ in range(int(seconds / 0.05)):
            if condition():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("timed out")

    async def scenario() -> None:
        await until(lambda: window.local_api is not None and window.engine.running)
        window.show_page(PAGES.index("Settings"))
        await until(lambda: page.api_port.value() == port)
        page.api_enabled.setChecked(True)
        page.save_button.click()
        await until(lambda: "/api/v1" in page.api_address.text())
        assert f"http://127.0.0.1:{port}/api/v1" in page.api_address.text()
        answer = await asyncio.to_thread(httpx.get, health)
        assert answer.json()["engine"] == "running"

        page.copy_token_button.click()
        await until(lambda: "copied" in page.message.text())
        token = QGuiApplication.clipboard().text()
        assert token == workspace.settings.api_token() and token not in page.api_address.text()
        jobs = await asyncio.to_thread(
            httpx.get,
            f"http://127.0.0.1:{port}/api/v1/jobs",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert jobs.status_code == 200 and jobs.json()["total"] == 1  # the demo job

        page.api_enabled.setChecked(False)
        page.save_button.click()
        await until(lambda: page.api_address.text().startswith("Off"))
        with pytest.raises(httpx.ConnectError):
            await asyncio.to_thread(httpx.get, health, timeout=2)
        await window.stop_engine()

    try:
        with loop:
            loop.run_until_complete(asyncio.wait_for(scenario(), 60))
    finally:
        window.shutdown()
        asyncio.set_event_loop(None)


def test_run_headless_api_serves_until_stopped(data_dir: Path, workspace: Services) -> None:
    workspace.settings.set("api.enabled", "false")  # --api alone turns it on
    port = workspace.settings.integer("api.port")
    main = Path(__file__).resolve().parents[1] / "main.py"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("CADENCE_DATA_DIR", None)
    process = subprocess.Popen(
        [sys.executable, str(main), "--data-dir", str(data_dir), "run", "--headless", "--api"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()  # "Cadence engine running on …"
        said = process.stdout.readline()
        assert said.startswith(f"API on http://127.0.0.1:{port}/api/v1"), said
        health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=10).json()
        assert health["engine"] == "running" and health["database"] == "ok"
        token = workspace.settings.api_token()
        jobs = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/jobs", headers={"Authorization": f"Bearer {token}"}
        )
        assert jobs.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Cadence engine stopped." in out and "Traceback" not in err
    assert token not in out + err


def test_connections_that_never_send_their_headers_are_let_go(
    workspace: Services, monkeypatch: Any
) -> None:
    """Half-open connections (nothing sent, or a header a byte at a time) are closed after
    the header deadline, and the server answers others meanwhile."""
    import time

    from app.api import server

    monkeypatch.setattr(server, "HEADER_SECONDS", 1.0)
    local = LocalApi(workspace.paths)
    address = local.apply(workspace.settings)
    assert address is not None
    port = int(address.rsplit(":", 1)[1])
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and no end
    try:
        assert httpx.get(f"{address}/api/v1/health", timeout=5).status_code == 200
        time.sleep(1.5)
        for sock in [*idle, slow]:
            sock.settimeout(2)
            assert sock.recv(1024) == b""  # closed by the server
    finally:
        for sock in [*idle, slow]:
            sock.close()
        local.stop()
