"""Every command fed bad input: one clear line (argparse's usage line aside), exit 2, no
traceback, and nothing in the data folder changed."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import zipfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from tests.conftest import DEMO

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "random.xlsx").write_bytes(os.urandom(5000))
    with zipfile.ZipFile(folder / "garbage.xlsx", "w") as z:
        for name in ("[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                     "_rels/.rels", "xl/worksheets/sheet1.xml"):  # fmt: skip
            z.writestr(name, os.urandom(500))
    (folder / "binary.csv").write_bytes(b"\x00\x01\x02" * 1000)
    (folder / "empty.csv").write_bytes(b"")
    (folder / "rules-binary.yaml").write_bytes(os.urandom(300))
    (folder / "rules-latin1.yaml").write_bytes("- id: café\n".encode("latin-1"))
    (folder / "rules-broken.yaml").write_text("- id: x\n  name: [unclosed\n  type: time_based\n")
    (folder / "rules-scalar.yaml").write_text("just words\n")
    (folder / "a-folder").mkdir()
    os.mkfifo(folder / "a-fifo.csv")
    return folder


CASES: list[tuple[str, list[str], str]] = [
    ("missing file", ["validate", "{c}/nope.csv"], "no such file"),
    ("a folder", ["validate", "{c}/a-folder"], "is a folder"),
    ("a fifo", ["validate", "{c}/a-fifo.csv"], "not a regular file"),
    ("a device", ["validate", "/dev/zero"], "not a regular file"),
    ("random bytes as xlsx", ["validate", "{c}/random.xlsx"], "not a readable Excel workbook"),
    ("a zip of garbage", ["validate", "{c}/garbage.xlsx"], "Excel workbook"),
    ("binary csv", ["validate", "{c}/binary.csv"], "binary data"),
    ("empty csv", ["validate", "{c}/empty.csv"], "is empty"),
    ("bad range", ["validate", str(DEMO), "--range", "J1:A5"], "range"),
    ("huge interval", ["schedule", "preview", "every@99999999999d"], "longer than"),
    ("bad cron", ["schedule", "preview", "61 * * * *"], "minute: 61 is out of range"),
    ("huge id", ["jobs", "show", "99999999999999999999999"], "is not an ID"),
    ("word id", ["jobs", "show", "abc"], "is not an ID"),
    ("zero id", ["jobs", "pause", "0"], "is not an ID"),
    ("no such job", ["jobs", "show", "4242"], "there is no job 4242"),
    ("no such item", ["items", "approve", "4242"], "there is no item 4242"),
    ("binary rules", ["jobs", "create", "--source", str(DEMO), "--rules", "{c}/rules-binary.yaml"],
     "not UTF-8 text"),
    ("latin-1 rules", ["jobs", "create", "--source", str(DEMO), "--rules", "{c}/rules-latin1.yaml"],
     "not UTF-8 text"),
    ("broken yaml", ["jobs", "create", "--source", str(DEMO), "--rules", "{c}/rules-broken.yaml"],
     "at line 3, column 7"),
    ("scalar rules", ["jobs", "create", "--source", str(DEMO), "--rules", "{c}/rules-scalar.yaml"],
     "must hold a list of rules"),
    ("export into a folder", ["jobs", "export", "--format", "json", "--out", "{c}/a-folder"],
     "is a folder"),
    ("export nowhere", ["jobs", "export", "--format", "json", "--out", "/proc/no/such"],
     "cannot write"),
    ("render nowhere", ["render", str(DEMO), "--out", "/proc/nope", "--rows", "2"],
     "cannot be written there"),
    ("render no rows", ["render", str(DEMO), "--out", "{c}/out", "--rows", "500-900"],
     "no idea rows"),
    ("storage no address", ["jobs", "create", "--source", str(DEMO), "--storage", "my-bucket"],
     "storage: 'my-bucket' is not a storage address — use s3://"),
    ("storage bad bucket", ["jobs", "create", "--source", str(DEMO), "--storage", "s3://A_B"],
     "storage: 'A_B' is not a bucket name"),
    ("storage test nowhere", ["storage", "test", "gs://x"], "'x' is not a bucket name"),
    ("cluster over tls", ["settings", "set", "render.cluster", "tls://box:8786"],
     "tls:// needs certificates"),
    ("callback with a line break", ["jobs", "create", "--source", str(DEMO), "--callback",
                                    "https://x.example/a\r\nX: 1"], "line breaks"),
    ("callback with a password", ["jobs", "create", "--source", str(DEMO), "--callback",
                                  "https://u:p@x.example/"], "user name or password"),
    ("webm with h264", ["jobs", "create", "--source", str(DEMO), "--format", "webm",
                        "--video-codec", "h264"], "WebM carries VP9"),
    ("publish without a channel", ["jobs", "create", "--source", str(DEMO), "--publish",
                                   "youtube", "--not-made-for-kids"], "channel"),
    ("unknown setting", ["settings", "set", "no.such", "1"], "no setting"),
    ("bad setting value", ["settings", "set", "engine.max_concurrent", "lots"], "whole number"),
    ("bad reschedule time", ["items", "reschedule", "1", "--publish-at", "someday"],
     "not a date and time"),
    ("calendar day far away", ["calendar", "show", "--day", "9999-12-31"],
     "9999 is outside the years Cadence plans for (1970 to 2999)"),
    ("calendar days overflow", ["calendar", "gaps", "--days", "99999999"], "goes up to 3660"),
    ("calendar too many slots", ["calendar", "suggest", "--count", "100000"],
     "must be from 1 to 1000"),
    ("calendar gap not a number", ["calendar", "config", "--min-gap-hours", "nan"],
     "min gap hours: must be from 0 to 720"),
    ("calendar slot without time", ["calendar", "config", "--slots", "mon-fri"],
     "needs days and a time"),
    ("calendar zone path", ["calendar", "config", "--timezone", "../../etc/passwd"],
     "is not a time zone"),
    ("publish slots and a time", ["jobs", "create", "--source", str(DEMO), "--publish",
                                  "youtube", "--not-made-for-kids", "--publish-slots",
                                  "--publish-at", "2030-01-01T10:00"], "exclude each other"),
]  # fmt: skip


def state_of(data: Path) -> tuple[list[str], list[int]]:
    files = sorted(
        p.name for p in data.iterdir() if not p.name.endswith(("-wal", "-shm")) and p.is_file()
    )
    with closing(sqlite3.connect(data / "cadence.db")) as raw:
        counts = [
            raw.execute(f"select count(*) from {table}").fetchone()[0]
            for table in ("jobs", "items", "schedules", "audit_log", "settings", "uploads")
        ]
    return files, counts


@pytest.mark.parametrize(("what", "args", "says"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clear_line(
    run_cli: Run, data_dir: Path, corpus: Path, what: str, args: list[str], says: str
) -> None:
    assert run_cli("jobs", "list").returncode == 0  # the workspace exists
    before = state_of(data_dir)
    result = run_cli(*(a.replace("{c}", str(corpus)) for a in args))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (what, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert says in result.stderr, (what, result.stderr)
    assert len(lines) <= 2, (what, lines)  # argparse adds its usage line
    assert state_of(data_dir) == before
