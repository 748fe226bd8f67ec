"""The API fed what a hostile or careless client sends: each request gets its status, a
problem body that says why in one line, and nothing is stored — the counterpart of
test_bad_inputs for the command line."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import ops
from app.api.app import create_app
from app.api.context import Context
from app.api.security import RateLimit
from app.ops.jobs import JobRequest
from app.paths import DEMO_SHEET, AppPaths
from app.services import Services
from app.sources.intake import SourceSpec

DEMO = str(DEMO_SHEET)
FAR = "9999-12-31T23:59:59-12:00"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path, Path]]:
    data = tmp_path_factory.mktemp("hostile")
    paths = AppPaths.resolve(data)
    with closing(Services(paths, front_end="api")) as workspace:
        ops.jobs.create_job(workspace, JobRequest.of(SourceSpec(DEMO), title="Kept"))
        workspace.settings.set("llm.endpoint", "http://localhost:11434/v1")
        workspace.settings.set("llm.api_key", "the-stored-key")
        inside = paths.data_dir / "ideas.csv"  # a sheet put inside Cadence's own folders
        inside.write_text("idea_title,script_content\nOne,Words.\n")
        client = TestClient(
            create_app(Context(workspace), limit=RateLimit(per_minute=10**9)),
            base_url="http://127.0.0.1:8765",
            raise_server_exceptions=False,
        )
        client.headers["Authorization"] = f"Bearer {workspace.settings.api_token()}"
        yield client, data, paths.secrets_file


def counts(data: Path) -> list[int]:
    with closing(sqlite3.connect(data / "cadence.db")) as raw:
        return [
            raw.execute(f"select count(*) from {table}").fetchone()[0]
            for table in ("jobs", "items", "schedules", "settings", "audit_log", "uploads")
        ]


CASES: list[tuple[str, str, str, Any, int, str]] = [
    ("the secret store as a source", "post", "/api/v1/sources/validate",
     {"source": "{secrets}", "level": "permissive"}, 422, "is not a sheet file"),
    ("/etc/passwd as a source", "post", "/api/v1/sources/validate",
     {"source": "/etc/passwd", "level": "permissive"}, 422, "is not a sheet file"),
    ("a sheet inside Cadence's folders", "post", "/api/v1/sources/validate",
     {"source": "{data}/ideas.csv"}, 422, "inside Cadence's own folders"),
    ("a job from the secret store", "post", "/api/v1/jobs",
     {"source": "{secrets}"}, 422, "is not a sheet file"),
    ("a schedule from /etc/passwd", "post", "/api/v1/schedules",
     {"name": "x", "expression": "daily@09:00", "source": "/etc/passwd"}, 422,
     "is not a sheet file"),
    ("a source name of 300 characters", "post", "/api/v1/jobs",
     {"source": "/tmp/" + "a" * 300 + ".csv"}, 422, "File name too long"),
    ("a start in year 9999 (LA)", "post", "/api/v1/jobs",
     {"source": DEMO, "scheduling": {"mode": "time_based", "start_at": "9999-12-31T23:59",
                                     "timezone": "America/Los_Angeles"}},
     422, "9999 is outside the years Cadence plans for"),
    ("a job's start moved to 9999", "patch", "/api/v1/jobs/1", {"start_at": FAR}, 422,
     "9999 is outside the years"),
    ("a schedule starting in 9999", "post", "/api/v1/schedules",
     {"name": "x", "expression": "daily@09:00", "source": DEMO, "start_at": FAR}, 422,
     "9999 is outside the years"),
    ("a calendar day in 9999", "get", "/api/v1/calendar?view=day&anchor=9999-12-31", None, 422,
     "anchor: 9999 is outside the years"),
    ("WebM with H.264", "post", "/api/v1/jobs",
     {"source": DEMO, "output": {"container": "webm", "video_codec": "h264"}}, 422, "WebM"),
    ("videos into /etc", "post", "/api/v1/jobs", {"source": DEMO, "output": {"folder": "/etc"}},
     422, "it is a system folder"),
    ("videos into /dev/null", "post", "/api/v1/jobs",
     {"source": DEMO, "output": {"folder": "/dev/null"}}, 422, "it is not a folder"),
    ("a style that is a path", "post", "/api/v1/jobs", {"source": DEMO, "style": "/etc/passwd"},
     422, "is not a style"),
    ("a title with a line break", "post", "/api/v1/jobs", {"source": DEMO, "title": "A\r\nB"},
     422, "control characters"),
    ("the LLM key sent elsewhere", "patch", "/api/v1/settings",
     {"values": {"llm.endpoint": "http://evil.example/v1"}}, 422,
     "the stored llm.api_key would be sent to http://evil.example/v1"),
    ("the key's cluster elsewhere", "patch", "/api/v1/settings",
     {"values": {"render.cluster": "tcp://evil.example:8786"}}, 422, "llm.api_key"),
    ("the output folder set to /etc", "patch", "/api/v1/settings",
     {"values": {"output.folder": "/etc"}}, 422, "system folder"),
    ("any web page allowed", "patch", "/api/v1/settings",
     {"values": {"api.cors_origins": "*"}}, 422, "api.cors_origins"),
    ("a category that is none", "patch", "/api/v1/settings",
     {"values": {"publish.category_id": "abc"}}, 422, "is not a YouTube category"),
    ("a body that is not JSON", "post", "/api/v1/jobs", "{not json", 400, "the body is not JSON"),
    ("PUT on the job list", "put", "/api/v1/jobs", None, 405, "PUT is not one of GET, POST"),
    ("PATCH on the bulk action", "patch", "/api/v1/jobs/bulk", {}, 405, "not one of POST"),
    ("a made-up page token", "get", "/api/v1/jobs?page_token=garbage", None, 422,
     "page_token: is not a token this API gave"),
    ("an empty schedule name", "post", "/api/v1/schedules",
     {"name": " ", "expression": "daily@09:00", "source": DEMO}, 422, "schedule name: is empty"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "method", "path", "body", "status", "says"), CASES, ids=[c[0] for c in CASES]
)
def test_a_bad_request_gets_its_status_one_reason_and_stores_nothing(
    api: tuple[TestClient, Path, Path],
    what: str,
    method: str,
    path: str,
    body: Any,
    status: int,
    says: str,
) -> None:
    client, data, secrets = api
    before = counts(data)
    if isinstance(body, dict):
        body = {
            k: v.replace("{secrets}", str(secrets)).replace("{data}", str(data))
            if isinstance(v, str)
            else v
            for k, v in body.items()
        }
    kwargs: dict[str, Any] = {}
    if isinstance(body, str):
        kwargs = {"content": body, "headers": {"content-type": "application/json"}}
    elif body is not None:
        kwargs = {"json": body}
    answer = client.request(method, path, **kwargs)
    assert answer.status_code == status, (what, answer.text)
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == status and says in problem["detail"], (what, problem)
    assert "\n" not in problem["detail"] and "Traceback" not in problem["detail"]
    assert "the-stored-key" not in answer.text
    assert counts(data) == before
    if status == 405:
        assert set(answer.headers["allow"].split(", ")) == set(
            says.rsplit("one of ", 1)[1].split(", ")
        )


def test_a_bad_page_token_is_named_where_it_was_given(api: tuple[TestClient, Path, Path]) -> None:
    client, _data, _secrets = api
    problem = client.get("/api/v1/jobs?page_token=garbage").json()
    assert problem["errors"] == [
        {"in": "query", "field": "page_token",
         "message": "is not a token this API gave — start again without it"}
    ]  # fmt: skip
