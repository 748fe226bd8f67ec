"""Finished videos delivered to object storage: a real S3-compatible server (moto's server
mode) on loopback, reached through a proxy that breaks uploads half-way."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import select
from tenacity import wait_none

from app import queries
from app.delivery import objects
from app.delivery.objects import StorageAccess, check, deliver
from app.domain.storage import StorageError, parse_target
from app.engine.events import EngineEvent, EventKind
from app.engine.service import Engine
from app.paths import AppPaths
from app.services import Services
from app.settings import SettingError
from app.store.models import Item, Job
from tests.engine_helpers import add_job
from tests.gcs_fake import FakeGcs, gcs_server, service_account_key
from tests.storage_helpers import REGION, S3, FlakyProxy, s3_server

pytest.importorskip("s3fs")


@pytest.fixture(scope="module")
def s3() -> Iterator[S3]:
    with s3_server() as server:
        yield server


@pytest.fixture
def bucket(s3: S3, request: pytest.FixtureRequest) -> str:
    s3.proxy.cuts_left = s3.proxy.cuts = s3.proxy.puts = 0
    name = request.node.name.replace("_", "-")[:50].strip("-").lower()
    return s3.make_bucket(name)


def access(s3: S3) -> StorageAccess:
    return StorageAccess("test-key", "test-secret", s3.endpoint, REGION)


def video(folder: Path, name: str = "002-idea.mp4", size: int = 300_000) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(os.urandom(size))
    return path


def test_addresses_are_parsed_and_bad_ones_say_what_is_accepted() -> None:
    target = parse_target(" s3://my-bucket/shows//weekly/ ")
    assert (target.scheme, target.bucket, target.prefix) == ("s3", "my-bucket", "shows/weekly")
    assert target.address("job-1", "a.mp4") == "s3://my-bucket/shows/weekly/job-1/a.mp4"
    assert parse_target("gcs://media").url == "gs://media"
    for bad, said in (
        ("my-bucket/videos", "not a storage address — use s3://"),
        ("ftp://host/x", "not a storage address"),
        ("s3://My_Bucket", "is not a bucket name"),
        ("s3://ab", "is not a bucket name"),
        ("s3://bucket/../up", "a folder named . or .. is not allowed"),
    ):
        with pytest.raises(StorageError, match=said) as caught:
            parse_target(bad)
        assert not caught.value.transient and "\n" not in str(caught.value)


def test_a_file_is_delivered_and_checked_by_size_and_checksum(
    s3: S3, bucket: str, tmp_path: Path
) -> None:
    path = video(tmp_path)
    seen: list[float] = []
    urls = deliver(
        [path], parse_target(f"s3://{bucket}/shows"), "job-3-tips", access(s3), mark="7",
        progress=seen.append,
    )  # fmt: skip
    assert urls == [f"s3://{bucket}/shows/job-3-tips/002-idea.mp4"]
    assert s3.get(bucket, "shows/job-3-tips/002-idea.mp4") == path.read_bytes()
    assert seen[-1] == 1.0


def test_an_upload_broken_half_way_is_sent_again_and_nothing_half_written_is_left(
    s3: S3, bucket: str, tmp_path: Path
) -> None:
    path = video(tmp_path)
    s3.proxy.cuts_left = 1  # the connection drops after 60 kB of a 300 kB upload
    urls = deliver(
        [path], parse_target(f"s3://{bucket}"), "job-1", access(s3), mark="1", wait=wait_none()
    )
    assert s3.proxy.cuts == 1
    assert s3.get(bucket, "job-1/002-idea.mp4") == path.read_bytes()
    assert urls == [f"s3://{bucket}/job-1/002-idea.mp4"]
    assert s3.keys(bucket) == ["job-1/002-idea.mp4"]


def test_storage_down_for_good_fails_as_worth_retrying_and_leaves_nothing(
    s3: S3, bucket: str, tmp_path: Path
) -> None:
    path = video(tmp_path)
    s3.proxy.cuts_left = -1  # every upload breaks half-way
    with pytest.raises(StorageError, match=rf"could not reach s3://{bucket}") as caught:
        deliver(
            [path], parse_target(f"s3://{bucket}"), "job-1", access(s3), mark="1",
            attempts=2, wait=wait_none(),
        )  # fmt: skip
    assert caught.value.transient and s3.proxy.cuts >= 2
    s3.proxy.cuts_left = 0
    assert s3.keys(bucket) == [] and s3.unfinished_uploads(bucket) == []


def test_large_files_go_in_parts_and_the_parts_checksum_is_verified(
    s3: S3, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(objects, "PART_BYTES", 5 * 2**20)  # S3's smallest part
    path = video(tmp_path, size=11 * 2**20 + 123)  # three parts
    deliver([path], parse_target(f"s3://{bucket}"), "job-1", access(s3), mark="1")
    head = s3.client().head_object(Bucket=bucket, Key="job-1/002-idea.mp4")  # type: ignore[attr-defined]
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload: its ETag was checked
    assert s3.get(bucket, "job-1/002-idea.mp4") == path.read_bytes()
    assert s3.unfinished_uploads(bucket) == []


def test_nothing_is_uploaded_twice_and_nobody_elses_file_is_replaced(
    s3: S3, bucket: str, tmp_path: Path
) -> None:
    target = parse_target(f"s3://{bucket}")
    path = video(tmp_path)
    deliver([path], target, "job-1", access(s3), mark="5")
    puts = s3.proxy.puts
    deliver([path], target, "job-1", access(s3), mark="5")  # after a crash before recording
    assert s3.proxy.puts == puts  # found there, same size and checksum: kept
    path.write_bytes(os.urandom(1000))  # the same item rendered again: its own file replaced
    deliver([path], target, "job-1", access(s3), mark="5")
    assert s3.get(bucket, "job-1/002-idea.mp4") == path.read_bytes()
    other = video(tmp_path / "other")  # another item's file under the same name: refused
    with pytest.raises(StorageError, match="already exists and is another file") as caught:
        deliver([other], target, "job-1", access(s3), mark="6")
    assert not caught.value.transient
    assert (
        hashlib.sha256(s3.get(bucket, "job-1/002-idea.mp4")).digest()
        == hashlib.sha256(path.read_bytes()).digest()
    )


def test_check_writes_reads_and_removes_a_test_file_and_names_a_missing_bucket(
    s3: S3, bucket: str
) -> None:
    said = check(parse_target(f"s3://{bucket}/videos"), access(s3))
    assert said.startswith(f"s3://{bucket}/videos works") and s3.keys(bucket) == []
    with pytest.raises(StorageError, match="bucket no-such-bucket was not found") as caught:
        check(parse_target("s3://no-such-bucket"), access(s3))
    assert not caught.value.transient


# The engine: a finished item's files go to the job's storage; an outage is retried without
# rendering again.


@pytest.fixture
def workspace(data_dir: Path, s3: S3) -> Iterator[Services]:
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        ws.settings.set("storage.endpoint", s3.endpoint)
        ws.settings.set("storage.region", REGION)
        ws.settings.set("storage.key_id", "test-key")
        ws.settings.set("storage.secret", "test-secret")
        yield ws


def _item(workspace: Services, job_id: int) -> Item:
    with workspace.db.read() as session:
        item = session.scalars(select(Item).where(Item.job_id == job_id)).one()
        session.expunge(item)
        return item


@pytest.mark.slow
def test_a_finished_video_is_delivered_and_its_address_recorded(
    s3: S3, bucket: str, workspace: Services, tmp_path: Path
) -> None:
    workspace.settings.set("storage.target", f"s3://{bucket}/shows")
    job = add_job(workspace, ["One short video for the bucket."], tmp_path / "out")
    asyncio.run(Engine(workspace, poll_seconds=0.2).run(asyncio.Event(), until_idle=True))
    item = _item(workspace, job)
    assert item.state == "completed"
    video_file = Path(item.outputs["video"])
    folder = f"shows/job-{job}-batch"
    assert item.output_url == f"s3://{bucket}/{folder}/{video_file.name}"
    assert s3.get(bucket, f"{folder}/{video_file.name}") == video_file.read_bytes()
    names = {Path(item.outputs[k]).name for k in ("video", "thumbnail", "captions", "metadata")}
    assert set(s3.keys(bucket)) == {f"{folder}/{name}" for name in names}


@pytest.mark.slow
def test_storage_down_after_a_render_retries_the_delivery_without_rendering_again(
    s3: S3, bucket: str, workspace: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(objects, "wait_exponential", lambda **_kw: wait_none())
    workspace.settings.set("engine.retry_base_seconds", "1")
    job = add_job(workspace, ["A video the bucket misses at first."], tmp_path / "out")
    # The job names its own bucket; the workspace's default would go elsewhere.
    with workspace.db.write() as session:
        stored = session.get(Job, job)
        assert stored is not None
        stored.output_config = {**stored.output_config, "storage": f"s3://{bucket}"}
    workspace.settings.set("storage.target", "s3://not-this-one")
    s3.proxy.cuts_left = -1
    seen: dict[str, object] = {}

    def on_event(event: EngineEvent) -> None:
        if event.kind is EventKind.ITEM_FINISHED and "error" not in seen:
            seen["error"] = event.data["error"]
            seen["rendered"] = next((tmp_path / "out").glob("*.mp4")).stat().st_mtime_ns
            s3.proxy.cuts_left = 0  # the storage is back before the retry

    engine = Engine(workspace, poll_seconds=0.2, on_event=on_event)
    asyncio.run(engine.run(asyncio.Event(), until_idle=True))
    assert str(seen["error"]).startswith(
        f"rendered, but not delivered to storage: could not reach s3://{bucket}"
    )
    assert "retrying in 1 s (attempt 2 of 3)" in str(seen["error"])
    item = _item(workspace, job)
    assert (item.state, item.attempts, item.error) == ("completed", 2, None)
    video_file = Path(item.outputs["video"])
    assert video_file.stat().st_mtime_ns == seen["rendered"]  # not rendered again
    assert item.output_url == f"s3://{bucket}/job-{job}-batch/{video_file.name}"
    assert s3.get(bucket, f"job-{job}-batch/{video_file.name}") == video_file.read_bytes()


def test_storage_settings_are_checked_and_the_key_read_from_a_file(
    run_cli: Callable[..., subprocess.CompletedProcess[str]],
    data_dir: Path,
    tmp_path: Path,
    s3: S3,
    bucket: str,
) -> None:
    """(Bad addresses on the command line: test_bad_inputs.)"""
    with closing(Services(AppPaths.resolve(data_dir))) as workspace:
        with pytest.raises(SettingError, match="not a service account's JSON key"):
            workspace.settings.set("storage.gcs_key", '{"type": "service_account"}')
        workspace.settings.set("storage.target", f"s3://{bucket}/v")
        workspace.settings.set("storage.endpoint", s3.endpoint)
        workspace.settings.set("storage.secret", "test-secret")
        with pytest.raises(StorageError, match="no key for"):  # no key ID yet
            queries.settings.test_storage(workspace, "")
    key = tmp_path / "key.json"  # a JSON key spans lines: read whole from the file
    key.write_text('{\n  "client_email": "a@b.iam", "private_key": "-----BEGIN…"\n}\n')
    stored = run_cli("settings", "set", "storage.gcs_key", f"@{key}")
    assert stored.returncode == 0 and "BEGIN" not in stored.stdout + stored.stderr
    inline = run_cli("settings", "set", "storage.key_id", "test-key")
    assert inline.returncode == 2 and "@FILE" in inline.stderr  # not in the shell's history
    (tmp_path / "id").write_text("test-key\n")
    assert run_cli("settings", "set", "storage.key_id", f"@{tmp_path / 'id'}").returncode == 0
    tested = run_cli("storage", "test")
    assert tested.returncode == 0, tested.stderr
    assert f"s3://{bucket}/v works" in tested.stdout


@pytest.mark.slow
def test_settings_page_tests_the_storage_and_keeps_its_keys_out_of_sight(
    s3: S3, bucket: str, workspace: Services, qtbot: object
) -> None:
    from app.ui.main_window import PAGES
    from tests.test_publish_ui import open_window

    workspace.settings.unset("storage.key_id")
    window = open_window(qtbot, workspace)  # type: ignore[arg-type]
    window.nav.setCurrentRow(PAGES.index("Settings"))
    page = window.settings_page
    wait = qtbot.waitUntil  # type: ignore[attr-defined]
    wait(lambda: "Sign in… to read Google Sheets" in page.account.text(), timeout=30_000)
    assert page.storage_endpoint.text() == s3.endpoint
    assert page.storage_secret.text() == "" and "stored in the keyring" in (
        page.storage_secret.placeholderText()
    )
    page.storage_target.setText("my-bucket")
    page.test_storage_button.click()
    status = page.storage_status
    wait(lambda: "not a storage address" in status.text(), timeout=30_000)

    page.storage_target.setText(f"s3://{bucket}/weekly")
    page.test_storage_button.click()
    wait(lambda: "no key for" in status.text(), timeout=30_000)  # the ID was unset
    page.storage_key_id.setText("test-key")
    page.save_button.click()
    wait(lambda: page.message.text() == "Saved.", timeout=30_000)
    assert workspace.settings.get("storage.target") == f"s3://{bucket}/weekly"
    assert workspace.settings.get("storage.key_id") == "test-key"
    assert workspace.settings.get("storage.secret") == "test-secret"  # untouched: not retyped
    assert page.storage_key_id.text() == ""  # shown again as "stored", never the key
    page.test_storage_button.click()
    wait(lambda: status.text().startswith(f"s3://{bucket}/weekly works"), timeout=30_000)
    assert s3.keys(bucket) == []
    window.close()
    window.shutdown()


# Google Cloud Storage: gcsfs against a loopback JSON API (service-account token exchange,
# multipart and resumable uploads), reached through the same breaking proxy.


@pytest.fixture(scope="module")
def gcs() -> Iterator[tuple[FakeGcs, FlakyProxy, StorageAccess]]:
    pytest.importorskip("gcsfs")
    with gcs_server() as (fake, url):
        host, port = url.removeprefix("http://").split(":")
        proxy = FlakyProxy((host, int(port)))
        key = service_account_key(f"{url}/token")
        yield fake, proxy, StorageAccess(endpoint=f"http://127.0.0.1:{proxy.port}", gcs_key=key)
        proxy.close()


def test_google_cloud_storage_signs_in_uploads_checks_and_resends_a_broken_upload(
    gcs: tuple[FakeGcs, FlakyProxy, StorageAccess], tmp_path: Path
) -> None:
    fake, proxy, reach = gcs
    fake.buckets.add("media")
    small, large = video(tmp_path, "a.mp4"), video(tmp_path, "b.mp4", size=6 * 2**20)
    proxy.cuts_left = 1  # the first upload's connection drops half-way
    urls = deliver(
        [small, large], parse_target("gs://media/shows"), "job-2", reach, mark="9",
        wait=wait_none(),
    )  # fmt: skip
    assert urls == ["gs://media/shows/job-2/a.mp4", "gs://media/shows/job-2/b.mp4"]
    assert proxy.cuts == 1 and fake.tokens_issued >= 1
    assert fake.objects[("media", "shows/job-2/a.mp4")].data == small.read_bytes()
    stored = fake.objects[("media", "shows/job-2/b.mp4")]  # resumable: over 5 MB
    assert stored.data == large.read_bytes() and stored.metadata == {"cadence-item": "9"}
    uploads = fake.uploads
    deliver([small], parse_target("gs://media/shows"), "job-2", reach, mark="9")
    assert fake.uploads == uploads  # there already, same size and MD5: not sent again
    assert check(parse_target("gs://media"), reach).startswith("gs://media works")
    with pytest.raises(StorageError, match="bucket elsewhere was not found") as caught:
        deliver([small], parse_target("gs://elsewhere"), "job-2", reach, mark="9")
    assert not caught.value.transient


def test_google_cloud_storage_without_a_key_says_which_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("gcsfs")
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # not on Google's cloud: no metadata server
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    with pytest.raises(StorageError, match="set the storage key in Settings") as caught:
        check(parse_target("gs://media"), StorageAccess(endpoint="http://127.0.0.1:9"))
    assert not caught.value.transient
