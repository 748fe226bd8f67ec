"""Job webhooks: signed, retried, never blocking, http(s) only."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from app.engine.service import Engine
from app.paths import AppPaths
from app.publish.webhooks import WebhookError, deliver, sign
from app.services import Services
from app.store.models import AuditEntry, Job
from tests.test_engine import add_job

Run = Callable[..., subprocess.CompletedProcess[str]]


class Receiver(BaseHTTPRequestHandler):
    statuses: ClassVar[list[int]] = []
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"body": body, "signature": self.headers["X-Cadence-Signature"]})
        self.send_response(type(self).statuses.pop(0) if type(self).statuses else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.statuses, Receiver.received = [], []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_signature_is_hmac_sha256_of_the_body() -> None:
    body = b'{"job_id":1}'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert sign("s3cret", body) == f"sha256={expected}"


def test_delivery_retries_server_errors_but_not_refusals(receiver: str) -> None:
    Receiver.statuses = [503, 500, 200]
    assert deliver(receiver, b"{}", "k", max_wait=0.1) == 200
    assert len(Receiver.received) == 3
    Receiver.statuses = [404]
    with pytest.raises(WebhookError, match="refused it \\(HTTP 404\\)"):
        deliver(receiver, b"{}", "k", max_wait=0.1)
    with pytest.raises(WebhookError, match="after 2 tries"):
        deliver("http://127.0.0.1:9/hook", b"{}", "k", attempts=2, max_wait=0.1)
    with pytest.raises(WebhookError, match="must start with http"):
        deliver("ftp://example/hook", b"{}", "k")


def test_a_finished_job_posts_its_signed_summary(
    data_dir: Path, tmp_path: Path, receiver: str, run_cli: Run
) -> None:
    with closing(Services(AppPaths.resolve(data_dir))) as workspace:
        job = add_job(workspace, ["Words.", ""], tmp_path / "out")
        with workspace.db.write() as session:
            stored = session.get(Job, job)
            assert stored is not None
            stored.callback_url = receiver
        engine = Engine(workspace, poll_seconds=0.2, run_schedules=False)
        asyncio.run(engine.run(asyncio.Event(), until_idle=True))
        with workspace.db.read() as session:
            logged = session.scalars(
                select(AuditEntry).where(AuditEntry.action.like("webhook.%"))
            ).all()
            assert [(e.action, e.details["status"]) for e in logged] == [("webhook.sent", 200)]
    assert len(Receiver.received) == 1
    body = Receiver.received[0]["body"]
    data = json.loads(body)
    assert data["job_id"] == job and data["state"] == "failed"
    assert (data["items_total"], data["items_completed"], data["items_failed"]) == (2, 1, 1)
    assert data["percent_complete"] == 100.0 and data["finished_at"]
    secret = run_cli("settings", "reveal", "webhook.secret").stdout.strip()
    assert len(secret) == 64
    assert Receiver.received[0]["signature"] == sign(secret, body)
    assert secret not in (data_dir / "logs" / "cadence.log").read_text()


def test_callback_addresses_must_be_http(run_cli: Run, tmp_path: Path) -> None:
    source = tmp_path / "i.csv"
    source.write_text("Title,Script\nOne,Words.\n")
    bad = run_cli("jobs", "create", "--source", str(source), "--callback", "file:///etc/passwd")
    assert (
        bad.returncode == 2 and "callback URL: must be an http:// or https:// address" in bad.stderr
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://example.com/a\r\nX-Evil: 1", "contains spaces or line breaks"),
        ("https://ex ample.com/hook", "contains spaces or line breaks"),
        ("https://user:pass@example.com/hook", "must not carry a user name or password"),
        ("https://example.com:99999/hook", "port that is not a number"),
        ("https://exa_mple.com/hook", "no usable host"),
    ],
)
def test_callback_addresses_that_would_harm_are_refused(url: str, says: str) -> None:
    from app.domain.job import DraftError, JobDraft

    draft = JobDraft(title="T", source_kind="csv", source_location="/x.csv", callback_url=url)
    with pytest.raises(DraftError, match=says):
        draft.checked()
