"""Google Sheets through gspread's real HTTP code, against the loopback Sheets API fake."""

from __future__ import annotations

import base64
import csv
import json
import subprocess
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app import ops, queries
from app.changes import Changes
from app.google import auth as google_auth
from app.google.auth import Account
from app.google.ratelimit import RateLimiter
from app.google.sheets import SheetError, SheetsClient
from app.google.writeback import HEADERS, WriteBack
from app.ops.jobs import JobRequest
from app.services import Services
from app.sources.intake import SourceSpec
from app.sources.table import SourceError
from app.store import stats
from tests import gcs_fake
from tests.conftest import DEMO, FakeClock, desktop_client
from tests.fake_google import Google

Run = Callable[..., subprocess.CompletedProcess[str]]
SHEET = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"
URL = f"https://docs.google.com/spreadsheets/d/{SHEET}/edit#gid=0"


def demo_rows() -> list[list[Any]]:
    with DEMO.open(encoding="utf-8", newline="") as fh:
        rows = [list(r) for r in csv.reader(fh)]
    # As the API stores them: numbers as numbers; trailing blanks are left for the API to trim.
    for row in rows[1:]:
        row[4] = int(row[4]) if row[4].isdigit() else row[4]
    return rows


def sign_in_user(workspace: Services, token: str = "test-token", expired: bool = False) -> None:
    expiry = datetime.now(UTC) + timedelta(hours=-1 if expired else 1)
    workspace.google.secrets.set(
        google_auth.USER_TOKEN,
        json.dumps(
            {
                "token": token,
                "refresh_token": "refresh-secret-1",
                "client_id": "client.apps.googleusercontent.com",
                "client_secret": "client-secret",
                "token_uri": "https://oauth2.googleapis.com/token",
                "expiry": expiry.replace(tzinfo=None).isoformat() + "Z",
            }
        ),
    )
    workspace.google._remember(Account("user", "me@example.com"))


def service_account_key(path: Path) -> Path:
    path.write_text(gcs_fake.service_account_key("https://oauth2.googleapis.com/token"))
    return path


def client(workspace: Services, clock: FakeClock | None = None) -> SheetsClient:
    credentials, account = workspace.google.credentials()
    clock = clock or FakeClock()
    limiter = RateLimiter(60, 300, clock=clock, sleep=clock.sleep)
    return SheetsClient(credentials, account, limiter=limiter, sleep=clock.sleep)


# --- reading ---------------------------------------------------------------------------------


def test_a_sheet_url_validates_like_a_file_with_one_values_read(
    run_cli: Run, google: Google, tmp_path: Path
) -> None:
    google.add(SHEET, {"Ideas": demo_rows(), "Archive": [["old"]]})
    google.tokens.clear()  # only tokens the service account obtains are accepted
    login = run_cli(
        "auth", "login", "--service-account", str(service_account_key(tmp_path / "k.json"))
    )
    assert login.returncode == 0, login.stderr
    assert "cadence@cadence-test.iam.gserviceaccount.com" in login.stdout
    google.requests.clear()

    result = run_cli("validate", URL, "--level", "strict", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    with DEMO.open(encoding="utf-8") as fh:
        assert len(rows) == sum(1 for _ in fh) - 1
    assert rows[0]["idea"]["idea_title"] == "Why the sky is blue"
    reads = google.values_reads()
    assert len(reads) == 1 and "values:batchGet" in reads[0]  # one batch read per import
    assert "valueRenderOption=FORMATTED_VALUE" in reads[0]
    assert google.token_grants[0]["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]

    created = run_cli("jobs", "create", "--source", SHEET, "--tab", "Ideas", "--json")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["items"] == len(rows)

    status = run_cli("auth", "status")
    assert "service account cadence@cadence-test.iam.gserviceaccount.com" in status.stdout
    assert run_cli("auth", "logout").returncode == 0
    after = run_cli("validate", URL)
    assert after.returncode == 2 and "not signed in to Google" in after.stderr


def test_ragged_rows_empty_rows_and_ranges(google: Google, workspace: Services) -> None:
    sign_in_user(workspace)
    header = ["Title", "Description", "Audience", "Tone", "Duration", "Platforms", "Script"]
    google.add(
        SHEET,
        {
            "Ideas": [
                header,
                ["First", "", "", "", 60, "", "Words for the first one."],
                ["", "", "", "", "", "", ""],  # an empty row inside the data
                ["Third", "About it", "", "", "", "", "Words.", "", "", ""],  # trailing blanks
            ]
        },
    )
    report = queries.sources.check_source(workspace, SourceSpec(URL))
    assert [r.row for r in report.rows] == [2, 4]
    assert report.empty_rows == [3]
    assert report.rows[0].idea is not None and report.rows[0].idea.duration_seconds == 60
    assert report.rows[1].idea is not None and report.rows[1].idea.description == "About it"

    ranged = queries.sources.check_source(workspace, SourceSpec(SHEET, tab="Ideas", range="A1:G2"))
    assert [r.row for r in ranged.rows] == [2]
    assert "Ideas!A1:G2" in urllib.parse.unquote(google.values_reads()[-1]).replace("'", "")


def test_an_empty_range_is_a_clear_error(google: Google, workspace: Services) -> None:
    sign_in_user(workspace)
    google.add(SHEET, {"Ideas": []})
    with pytest.raises(SourceError, match="is empty — add a header row"):
        queries.sources.check_source(workspace, SourceSpec(URL))


def test_a_missing_tab_names_the_tabs_there_are(google: Google, workspace: Services) -> None:
    sign_in_user(workspace)
    google.add(SHEET, {"Ideas": demo_rows(), "Archive": []})
    with pytest.raises(SourceError, match="has no tab “Idaes” — its tabs: “Ideas”, “Archive”"):
        queries.sources.check_source(workspace, SourceSpec(URL, tab="Idaes"))


def test_permission_denied_says_whom_to_share_with(google: Google, workspace: Services) -> None:
    sign_in_user(workspace)
    google.add(SHEET, {"Ideas": demo_rows()}).readers = {"someone-else"}
    with pytest.raises(SourceError) as caught:
        queries.sources.check_source(workspace, SourceSpec(URL))
    assert "permission denied" in str(caught.value)
    assert "share the sheet with me@example.com" in str(caught.value)


def test_a_sheet_that_does_not_exist(google: Google, workspace: Services) -> None:
    sign_in_user(workspace)
    with pytest.raises(SourceError, match=r"no spreadsheet .* was found — check the URL or ID"):
        queries.sources.check_source(workspace, SourceSpec(URL))


def test_quota_exceeded_then_success_honours_retry_after(
    google: Google, workspace: Services
) -> None:
    sign_in_user(workspace)
    google.add(SHEET, {"Ideas": demo_rows()})
    google.fail_next(429, Retry_After="7")
    clock = FakeClock()
    info = client(workspace, clock).info(URL)
    assert info.tabs[0].title == "Ideas"
    assert 7.0 <= sum(clock.slept) < 8.5  # waited as long as Google asked, not much more
    assert len([m for m, _ in google.requests if m == "GET"]) == 2  # the 429, then the answer


def test_server_errors_are_retried_and_then_reported(google: Google, workspace: Services) -> None:
    sign_in_user(workspace)
    google.add(SHEET, {"Ideas": demo_rows()})
    google.fail_next(500, times=2)
    assert client(workspace).read(URL, ["'Ideas'!A1:B2"])[0][0][0] == "Idea title"
    google.fail_next(503, times=10)
    with pytest.raises(SheetError) as caught:
        client(workspace).info(URL)
    assert caught.value.transient and "tried 6 times" in str(caught.value)


def test_network_down_is_transient_and_clear(
    workspace: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CADENCE_GOOGLE_ENDPOINT", "http://127.0.0.1:9")  # nothing listens
    sign_in_user(workspace)
    with pytest.raises(SheetError) as caught:
        client(workspace).info(URL)
    assert caught.value.transient and "cannot be reached" in str(caught.value)


def test_an_expired_token_is_refreshed_and_stored_never_logged(
    google: Google, workspace: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    sign_in_user(workspace, token="stale-token", expired=True)
    google.add(SHEET, {"Ideas": demo_rows()})
    report = queries.sources.check_source(workspace, SourceSpec(URL))
    assert report.rows
    grant = google.token_grants[0]
    assert grant["grant_type"] == ["refresh_token"] and grant["refresh_token"] == [
        "refresh-secret-1"
    ]
    stored = json.loads(workspace.google.secrets.get(google_auth.USER_TOKEN) or "{}")
    assert stored["token"] == "issued-1"  # the new access token, kept for next time
    text = caplog.text
    for secret in ("issued-1", "refresh-secret-1", "client-secret", "stale-token"):
        assert secret not in text


def test_the_installed_app_flow_signs_in_and_logout_revokes(
    google: Google, workspace: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """google-auth-oauthlib's real flow: its loopback server receives the consent redirect;
    the code is exchanged at the (fake) token endpoint."""
    secrets = desktop_client(tmp_path)
    claims = base64.urlsafe_b64encode(json.dumps({"email": "me@example.com"}).encode()).decode()
    google.id_token = f"e30.{claims.rstrip('=')}.c2ln"

    class Browser:
        def open(self, url: str, *args: Any, **kwargs: Any) -> bool:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
            redirect = query["redirect_uri"][0]
            back = f"{redirect}?code=consent-code&state={query['state'][0]}"
            threading.Thread(target=lambda: urllib.request.urlopen(back, timeout=10).read()).start()
            return True

    monkeypatch.setattr("webbrowser.get", lambda *_a, **_k: Browser())
    signed_in = ops.accounts.sign_in(workspace, secrets)  # the window's and the CLI's way
    assert signed_in.message == "Signed in to Google as me@example.com."
    assert signed_in.changes == Changes.of(settings=["google.account"])
    assert workspace.google.account() == Account("user", "me@example.com")
    assert workspace.settings.text("google.client_secrets") == str(secrets)  # offered next time
    assert google.token_grants[-1]["code"] == ["consent-code"]
    assert json.loads(workspace.google.secrets.get(google_auth.USER_TOKEN) or "{}")["refresh_token"]
    signed_out = ops.accounts.sign_out(workspace)
    assert "Signed out" in signed_out.message
    assert signed_out.changes == Changes.of(settings=["google.account"])
    assert google.revoked == ["refresh-1"]
    assert workspace.google.secrets.get(google_auth.USER_TOKEN) is None
    assert workspace.google.account() is None


# --- write-back ------------------------------------------------------------------------------


def gsheet_job(workspace: Services, google: Google, columns: int = 10) -> int:
    sign_in_user(workspace)
    rows = demo_rows()[:4]
    google.add(SHEET, {"Ideas": rows}, column_count=columns)
    created = ops.jobs.create_job(
        workspace, JobRequest.of(SourceSpec(URL), title="From the sheet", write_back=True)
    )
    return created.job_id


def test_write_back_adds_status_columns_and_never_touches_the_users(
    google: Google, workspace: Services
) -> None:
    job = gsheet_job(workspace, google, columns=10)
    before = [list(r) for r in google.spreadsheets[SHEET].tabs[0].rows]
    google.requests.clear()
    written = WriteBack(workspace.db, workspace.sheets).flush()
    assert written == 3
    tab = google.spreadsheets[SHEET].tabs[0]
    assert tab.column_count == 14  # the grid grew to hold four new columns
    header = tab.rows[0]
    assert header[:10] == before[0][:10]
    assert header[10:14] == list(HEADERS)
    for n, row in enumerate(tab.rows[1:4], start=1):
        assert row[:10] == before[n][:10]  # the user's own cells, untouched
        assert row[10] == "queued" and row[12] == ""
    updates = [p for m, p in google.requests if m == "POST" and "values:batchUpdate" in p]
    assert len(updates) == 1  # one batch update for the whole flush
    assert WriteBack(workspace.db, workspace.sheets).flush() == 0  # nothing new: nothing sent

    # A finished item: its status changes, and an existing column is found by its header.
    with workspace.db.write() as session:
        from app.store import queue

        [claim] = queue.claim_next(session, 1)
        queue.finish_item(session, claim, "completed", outputs={"video": "/v/002.mp4"})
    assert WriteBack(workspace.db, workspace.sheets).flush() == 1
    row = tab.rows[claim.row - 1]
    assert row[10:12] == ["completed", "/v/002.mp4"]
    assert tab.column_count == 14 and tab.rows[0][14:] == []
    assert job


def test_write_back_waits_offline_and_sends_later(
    google: Google, workspace: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    gsheet_job(workspace, google)
    writeback = WriteBack(workspace.db, workspace.sheets)
    monkeypatch.setenv("CADENCE_GOOGLE_ENDPOINT", "http://127.0.0.1:9")  # the network is down
    monkeypatch.setattr("app.google.sheets._sleep", lambda _s: None)
    assert writeback.flush() == 0
    assert writeback.pending() and "cannot be reached" in (writeback.last_error or "")
    monkeypatch.setenv("CADENCE_GOOGLE_ENDPOINT", google.base_url)  # back online
    assert writeback.flush() == 3
    assert not writeback.pending()
    assert google.spreadsheets[SHEET].tabs[0].rows[1][10] == "queued"


def test_a_quota_wait_marks_the_job_rate_limited(google: Google, workspace: Services) -> None:
    job = gsheet_job(workspace, google)
    limited: list[tuple[int | None, float]] = []

    def note(job_id: int | None, seconds: float) -> None:
        limited.append((job_id, seconds))
        with workspace.db.write() as session:
            stats.mark_rate_limited(
                session, job_id or 0, datetime.now(UTC) + timedelta(seconds=seconds)
            )

    clock = FakeClock()
    workspace._limiter = RateLimiter(60, 300, clock=clock, sleep=clock.sleep, on_limited=note)
    google.fail_next(429, Retry_After="30")
    sheets = workspace.sheets(job)
    sheets.http.sleep = clock.sleep
    sheets.info(URL)
    assert limited and limited[0] == (job, 30.0)
    with workspace.db.read() as session:
        assert stats.job_progress(session, job)["rate_limited"] is True


def test_write_back_needs_a_google_sheet(workspace: Services) -> None:
    from app.domain.errors import DraftError

    with pytest.raises(DraftError, match="write-back: needs a Google Sheet source"):
        ops.jobs.create_job(workspace, JobRequest.of(SourceSpec(str(DEMO)), write_back=True))


def test_a_scheduled_run_that_cannot_reach_its_sheet_is_tried_again(
    workspace: Services, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from sqlalchemy import select

    from app.store import schedules as schedule_store
    from app.store.models import AuditEntry
    from tests.test_schedules_engine import serve_until

    monkeypatch.setenv("CADENCE_GOOGLE_ENDPOINT", "http://127.0.0.1:9")  # offline
    monkeypatch.setattr("app.google.sheets._sleep", lambda _s: None)
    sign_in_user(workspace)
    at = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    with workspace.db.write() as session:
        schedule_store.add_schedule(
            session, name="From the sheet", expression=f"once@{at}", timezone="UTC",
            topic_template="", job_template={"source": URL}, actor="tester",
        )  # fmt: skip

    def failed() -> list[AuditEntry]:
        with workspace.db.read() as session:
            return list(
                session.scalars(select(AuditEntry).where(AuditEntry.action == "schedule.failed"))
            )

    serve_until(workspace, lambda: bool(failed()))
    [entry] = failed()
    assert "cannot be reached" in entry.details["error"] and entry.details["retry_at"]
    with closing(sqlite3.connect(data_dir / "cadence.db")) as raw:
        ids = [r[0] for r in raw.execute("select id from apscheduler_jobs")]
    assert ids == ["schedule-1-retry"]  # stored: it survives a restart


def test_a_job_from_a_sheet_url_is_named_after_the_spreadsheet(
    google: Google, workspace: Services
) -> None:
    sign_in_user(workspace)
    google.add(SHEET, {"Ideas": demo_rows()[:3]}, title="Channel plan 2027")
    created = ops.jobs.create_job(workspace, JobRequest.of(SourceSpec(URL)))
    assert created.title.startswith("Channel plan 2027 — ")
    with pytest.raises(SourceError, match="is empty in range A50:J60"):
        ops.jobs.create_job(workspace, JobRequest.of(SourceSpec(URL, range="A50:J60")))
