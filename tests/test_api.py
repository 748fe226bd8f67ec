"""The local REST API through FastAPI's test client: security first, then every resource."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.api.app import create_app
from app.api.context import Context
from app.api.security import RateLimit
from app.paths import DEMO_SHEET, AppPaths
from app.services import Services
from app.store.models import AuditEntry

BASE = "http://127.0.0.1:8765"


@pytest.fixture
def workspace(data_dir: Path) -> Iterator[Services]:
    with closing(Services(AppPaths.resolve(data_dir), front_end="api")) as ws:
        yield ws


@pytest.fixture
def make_client(workspace: Services) -> Callable[..., TestClient]:
    def make(base: str = BASE, **options: Any) -> TestClient:
        options.setdefault("limit", RateLimit(per_minute=100_000))
        return TestClient(create_app(Context(workspace), **options), base_url=base)

    return make


@pytest.fixture
def client(make_client: Callable[..., TestClient], workspace: Services) -> TestClient:
    made = make_client()
    made.headers["Authorization"] = f"Bearer {workspace.settings.api_token()}"
    return made


def create(client: TestClient, title: str = "Ideas", **extra: Any) -> int:
    answer = client.post("/api/v1/jobs", json={"source": str(DEMO_SHEET), "title": title, **extra})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


# Security


def test_every_endpoint_but_health_wants_the_token(
    make_client: Callable[..., TestClient], workspace: Services
) -> None:
    anonymous = make_client()
    assert anonymous.get("/api/v1/health").status_code == 200
    schema = anonymous.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    wrong = {"Authorization": "Bearer " + "x" * 43}
    checked = 0
    for path, operations in schema["paths"].items():
        if path == "/api/v1/health":
            continue
        concrete = path.replace("{job_id}", "1").replace("{item_id}", "1")
        concrete = concrete.replace("{schedule_id}", "1").replace("{action}", "pause")
        for method in operations:
            for headers in ({}, wrong, {"Authorization": workspace.settings.api_token()}):
                answer = anonymous.request(method, concrete, headers=headers)
                assert answer.status_code == 401, (method, path, answer.text)
                assert answer.headers["content-type"] == "application/problem+json"
                assert "settings reveal api.token" in answer.json()["detail"]
                checked += 1
    assert checked > 60


def test_a_foreign_host_is_refused_even_with_the_token(
    make_client: Callable[..., TestClient], workspace: Services
) -> None:
    token = {"Authorization": f"Bearer {workspace.settings.api_token()}"}
    for base in ("http://localhost:8765", "http://[::1]:8765", BASE):
        assert make_client(base).get("/api/v1/jobs", headers=token).status_code == 200
    for base in (
        "http://evil.example:8765",
        "http://127.0.0.1.evil.example",
        "http://127.0.0.1:9999",
    ):
        answer = make_client(base).get("/api/v1/health", headers=token)
        assert answer.status_code == 403, base
        assert "addressed to this computer" in answer.json()["detail"]


def test_no_cors_unless_the_user_allows_an_origin(
    make_client: Callable[..., TestClient], workspace: Services
) -> None:
    origin = {"Origin": "https://dashboard.example", "Access-Control-Request-Method": "GET"}
    closed = make_client().options("/api/v1/jobs", headers=origin)
    assert "access-control-allow-origin" not in closed.headers
    opened = make_client(cors_origins=["https://dashboard.example"])
    answer = opened.options("/api/v1/jobs", headers=origin)
    assert answer.headers["access-control-allow-origin"] == "https://dashboard.example"
    other = opened.options("/api/v1/jobs", headers={**origin, "Origin": "https://evil.example"})
    assert other.headers.get("access-control-allow-origin") != "https://evil.example"


def test_the_rate_limit_answers_429_with_retry_after(
    make_client: Callable[..., TestClient], workspace: Services
) -> None:
    now = [1000.0]
    client = make_client(limit=RateLimit(per_minute=3, clock=lambda: now[0]))
    client.headers["Authorization"] = f"Bearer {workspace.settings.api_token()}"
    assert [client.get("/api/v1/jobs").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/v1/jobs")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    now[0] += 30
    assert client.get("/api/v1/jobs").headers["Retry-After"] == "30"
    now[0] += 31
    assert client.get("/api/v1/jobs").status_code == 200


def test_a_body_over_a_megabyte_is_refused(client: TestClient) -> None:
    big = '{"source": "' + "a" * (1024 * 1024 + 10) + '"}'
    answer = client.post("/api/v1/jobs", content=big, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b"x" * 65536

    answer = client.post("/api/v1/jobs", content=chunks())
    assert answer.status_code == 413


def test_a_rotated_token_stops_working(
    make_client: Callable[..., TestClient], workspace: Services, run_cli: Any, monkeypatch: Any
) -> None:
    from app.api import security

    monkeypatch.setattr(security, "TOKEN_TTL", 0.0)
    old = workspace.settings.api_token()
    client = make_client()
    assert client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {old}"}).is_success
    rotated = run_cli("api", "rotate-token")
    assert rotated.returncode == 0 and old not in rotated.stdout
    new = run_cli("settings", "reveal", "api.token").stdout.strip()
    assert new and new != old
    assert client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {new}"}).is_success


def test_the_token_never_reaches_the_log(
    client: TestClient, workspace: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = workspace.settings.api_token()
    create(client)
    client.get("/api/v1/jobs/999")
    client.get("/api/v1/jobs", headers={"Authorization": "Bearer wrong-" + token[:10]})
    assert token not in caplog.text and token[:10] not in caplog.text


# Jobs


def test_create_list_read_and_act_on_a_job(client: TestClient, workspace: Services) -> None:
    job_id = create(client, "From the API", priority="high", output={"resolution": "720p"})
    listed = client.get("/api/v1/jobs").json()
    assert listed["total"] == 1 and listed["jobs"][0]["title"] == "From the API"
    assert listed["jobs"][0]["priority"] == "high" and listed["jobs"][0]["items_total"] == 8
    job = client.get(f"/api/v1/jobs/{job_id}").json()
    assert job["output"] == {"resolution": "720p"} and len(job["items"]) == 8
    assert len(client.get(f"/api/v1/jobs/{job_id}/items").json()) == 8

    paused = client.post(f"/api/v1/jobs/{job_id}/pause").json()
    assert paused == {
        "message": f"Job {job_id} is paused.",
        "changes": {"jobs": [job_id], "items": [], "schedules": [], "settings": []},
    }
    again = client.post(f"/api/v1/jobs/{job_id}/pause")
    assert again.status_code == 409 and "paused" in again.json()["detail"]
    assert client.post(f"/api/v1/jobs/{job_id}/execute").json()["message"].endswith("starts now.")
    assert client.patch(f"/api/v1/jobs/{job_id}", json={"priority": "low"}).is_success
    assert client.get(f"/api/v1/jobs/{job_id}").json()["priority"] == "low"
    refused = client.delete(f"/api/v1/jobs/{job_id}")
    assert refused.status_code == 409 and "cancel it first" in refused.json()["detail"]
    assert client.post(f"/api/v1/jobs/{job_id}/cancel").is_success
    assert client.delete(f"/api/v1/jobs/{job_id}").is_success
    assert client.get(f"/api/v1/jobs/{job_id}").status_code == 404

    with workspace.db.read() as session:
        actors = set(session.scalars(select(AuditEntry.actor)))
    assert actors == {f"{workspace.actor}"} and workspace.actor.endswith("via api")


def test_progress_has_the_product_descriptions_shape(client: TestClient) -> None:
    job_id = create(client)
    progress = client.get(f"/api/v1/jobs/{job_id}/progress").json()
    assert progress["items_total"] == 8 and progress["items_pending"] == 8
    for key in ("items_completed", "items_failed", "items_skipped", "eta", "rate_limited",
                "processing_seconds", "percent_complete"):  # fmt: skip
        assert key in progress


def test_422_names_the_field(client: TestClient) -> None:
    cases = [
        ("get", "/api/v1/jobs?page_size=101", None, "page_size"),
        ("get", "/api/v1/jobs?sort=colour", None, "sort"),
        ("post", "/api/v1/jobs", {"title": "no source"}, "source"),
        ("post", "/api/v1/jobs", {"source": str(DEMO_SHEET), "priority": "urgent"}, "priority"),
        ("post", "/api/v1/jobs", {"source": str(DEMO_SHEET), "colour": "red"}, "colour"),
        ("post", "/api/v1/jobs", {"source": str(DEMO_SHEET), "output": {"container": "avi"}},
         "output.container"),
        ("post", "/api/v1/jobs/bulk", {"action": "explode", "ids": [1]}, "action"),
        ("post", "/api/v1/items/1/reschedule", {"publish_at": "2030-01-01T09:00"}, "publish_at"),
        ("get", "/api/v1/jobs?page_token=garbage", None, "page_token"),
    ]  # fmt: skip
    for method, path, body, field in cases:
        answer = client.request(method, path, json=body)
        assert answer.status_code == 422, (path, answer.text)
        problem = answer.json()
        assert problem["status"] == 422 and problem["detail"].startswith(field), problem
        assert problem["errors"][0]["field"] == field
    bad_source = client.post("/api/v1/jobs", json={"source": "/no/such/ideas.csv"})
    assert bad_source.status_code == 422 and "no such file" in bad_source.json()["detail"]
    bad_output = client.post(
        "/api/v1/jobs",
        json={"source": str(DEMO_SHEET), "output": {"container": "webm", "video_codec": "h264"}},
    )
    assert bad_output.status_code == 422 and "WebM" in bad_output.json()["detail"]


def test_pages_stay_stable_while_jobs_are_added(client: TestClient) -> None:
    first = [create(client, f"Job {n}", priority=("low", "high")[n % 2]) for n in range(7)]
    sorts = ("created_at", "updated_at", "title", "priority", "percent_complete")
    for sort, order in product(sorts, ("desc", "asc")):
        seen: list[int] = []
        token = None
        while True:
            query = f"/api/v1/jobs?page_size=3&sort={sort}&order={order}&q=job"
            answer = client.get(query + (f"&page_token={token}" if token else "")).json()
            seen += [job["id"] for job in answer["jobs"]]
            if len(seen) == 3:  # others add jobs while the client reads
                create(client, "Job added meanwhile")
            token = answer["next_page_token"]
            if token is None:
                break
        originals = [job_id for job_id in seen if job_id in first]
        assert sorted(originals) == first, (sort, order)  # none lost
        assert len(set(seen)) == len(seen), (sort, order)  # none twice
    by_title = client.get("/api/v1/jobs?sort=title&order=asc&q=job+&page_size=100").json()
    titles = [job["title"] for job in by_title["jobs"]]
    assert titles == sorted(titles, key=str.casefold) and by_title["total"] == 7 + 10  # + added
    by_rank = client.get("/api/v1/jobs?sort=priority&order=desc&page_size=100&q=JOB ").json()
    ranks = [job["priority"] for job in by_rank["jobs"]]
    assert ranks == ["high"] * 3 + ["normal"] * 10 + ["low"] * 4
    assert client.get("/api/v1/jobs?q=%25").json()["total"] == 0  # % is a character, not LIKE
    mixed = client.get("/api/v1/jobs?page_size=3&sort=title").json()["next_page_token"]
    other = client.get(f"/api/v1/jobs?page_size=3&sort=priority&page_token={mixed}")
    assert other.status_code == 422 and "another sort" in other.json()["detail"]


def test_bulk_actions_report_each_outcome(client: TestClient) -> None:
    running, paused = create(client, "A"), create(client, "B")
    client.post(f"/api/v1/jobs/{paused}/pause")
    answer = client.post(
        "/api/v1/jobs/bulk", json={"action": "pause", "ids": [running, paused, 999]}
    )
    assert answer.status_code == 200
    results = {r["id"]: (r["ok"], r["status"]) for r in answer.json()["results"]}
    assert results == {running: (True, 200), paused: (False, 409), 999: (False, 404)}
    assert answer.json()["changes"]["jobs"] == [running]


def test_export_in_three_formats(client: TestClient) -> None:
    create(client, "Exported")
    assert client.get("/api/v1/jobs/export").json()[0]["title"] == "Exported"
    csv = client.get("/api/v1/jobs/export?format=csv")
    assert csv.headers["content-type"].startswith("text/csv") and "Exported" in csv.text
    assert "title: Exported" in client.get("/api/v1/jobs/export?format=yaml").text


def test_concurrent_writes_through_the_api_and_the_cli(client: TestClient, run_cli: Any) -> None:
    outcomes: list[int] = []

    def through_api() -> None:
        for n in range(5):
            outcomes.append(create(client, f"API {n}"))

    thread = threading.Thread(target=through_api)
    thread.start()
    for n in range(3):
        made = run_cli("jobs", "create", "--source", str(DEMO_SHEET), "--title", f"CLI {n}")
        assert made.returncode == 0, made.stderr
    thread.join(60)
    jobs = client.get("/api/v1/jobs?page_size=100").json()["jobs"]
    titles = sorted(job["title"] for job in jobs)
    assert titles == sorted([f"API {n}" for n in range(5)] + [f"CLI {n}" for n in range(3)])
    assert len({job["id"] for job in jobs}) == 8


# The rest


def test_schedules_through_the_api(client: TestClient) -> None:
    made = client.post(
        "/api/v1/schedules",
        json={"name": "Mornings", "expression": "daily@09:00", "timezone": "Europe/Berlin",
              "source": str(DEMO_SHEET), "topic": "Ideas for {date}"},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    schedule_id = made.json()["id"]
    assert made.json()["valid_rows"] == 8 and len(made.json()["next_runs"]) == 3
    runs = client.get(f"/api/v1/schedules/{schedule_id}/preview?count=3").json()
    assert [r[11:16] for r in runs] == ["09:00"] * 3
    assert client.patch(
        f"/api/v1/schedules/{schedule_id}", json={"expression": "daily@10:00"}
    ).is_success
    assert client.get(f"/api/v1/schedules/{schedule_id}").json()["expression"] == "daily@10:00"
    assert client.post(f"/api/v1/schedules/{schedule_id}/pause").is_success
    assert client.get("/api/v1/schedules").json()[0]["state"] == "paused"
    ran = client.post(f"/api/v1/schedules/{schedule_id}/run").json()
    assert ran["message"].startswith("Created job") and ran["changes"]["jobs"]
    bad = client.post(
        "/api/v1/schedules",
        json={"name": "x", "expression": "0 25 * * *", "source": str(DEMO_SHEET)},
    )
    assert bad.status_code == 422 and "hour: 25 is out of range" in bad.json()["detail"]
    assert client.delete(f"/api/v1/schedules/{schedule_id}").is_success
    assert client.get(f"/api/v1/schedules/{schedule_id}").status_code == 404


def test_sources_stats_calendar_settings_and_compatibility(
    client: TestClient, tmp_path: Path
) -> None:
    sheet = tmp_path / "ideas.csv"
    sheet.write_text("Title,Script\nGood,Words.\n,No title\n")
    report = client.post("/api/v1/sources/validate", json={"source": str(sheet)}).json()
    assert (report["valid"], report["invalid"], report["all_valid"]) == (1, 1, False)
    assert report["rows"][1]["row"] == 3
    job_id = create(client)
    assert client.get("/api/v1/stats").json()["jobs_total"] == 1
    week = client.get("/api/v1/calendar?view=week&anchor=2030-01-09").json()
    assert week["kind"] == "week" and len(week["days"]) == 7
    assert client.get("/api/v1/calendar/gaps?days=3").json().__len__() == 3

    settings = client.get("/api/v1/settings").json()
    assert settings["api.token"] == "(set)" and settings["engine.max_concurrent"] == 1
    assert client.patch(
        "/api/v1/settings", json={"values": {"engine.max_concurrent": 2}}
    ).is_success
    assert client.get("/api/v1/settings").json()["engine.max_concurrent"] == 2
    secret = client.patch("/api/v1/settings", json={"values": {"llm.api_key": "k"}})
    assert secret.status_code == 422 and "secret" in secret.json()["detail"]
    own = client.patch("/api/v1/settings", json={"values": {"api.cors_origins": "https://x"}})
    assert own.status_code == 422

    listed = client.get("/api/bulk-jobs").json()
    assert listed["success"] is True and listed["data"]["jobs"][0]["id"] == job_id
    progress = client.get(f"/api/bulk-jobs/{job_id}/progress").json()
    assert progress["success"] and progress["data"]["items_total"] == 8
    missing = client.get("/api/bulk-jobs/999").json()
    assert missing["success"] is False and missing["status"] == 404


def test_docs_work_offline(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    page = client.get("/docs").text
    assert "cdn." not in page and "/docs/assets/swagger-ui-bundle.js" in page
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 500_000
    assert b"isOAS31" in bundle.content  # a Swagger UI that reads OpenAPI 3.1
    assert client.get("/docs/assets/..%2F..%2Fapp%2F__init__.py").status_code == 404


def test_the_api_offers_every_footage_choice_the_window_and_cli_do(client: TestClient) -> None:
    from typing import get_args

    from app.api.models import Output
    from app.pipeline.footage import CHOICES

    annotation = Output.model_fields["footage"].annotation
    assert set(get_args(get_args(annotation)[0])) == set(CHOICES)
    made = client.post(
        "/api/v1/jobs", json={"source": str(DEMO_SHEET), "output": {"footage": "free"}}
    )
    assert made.status_code == 201, made.text
    job = client.get(f"/api/v1/jobs/{made.json()['id']}").json()
    assert job["output"]["footage"] == "free"
