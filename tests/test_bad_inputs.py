"""Every command fed bad input: one clear line, exit 2, no traceback, and nothing in the data
folder changed. The commands run in this process (`app.cli.main`, as `main.py` calls it), so
the table can grow without each case paying for an interpreter's start; an alarm stops a
case that would hang."""

from __future__ import annotations

import os
import signal
import sqlite3
import zipfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from app.cli import main
from tests.conftest import DEMO

HANG_SECONDS = 60
LONG = "a" * 300


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``main(args)`` in this process: (exit status, stdout, stderr)."""

    def hung(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"`{' '.join(args)}` did not finish in {HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HANG_SECONDS)
    try:
        status = main(list(args))
    except SystemExit as exc:  # argparse's own exit
        status = int(exc.code or 0)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    out, err = capsys.readouterr()
    return status, out, err


def _workbook(path: Path, cells: dict[str, str]) -> None:
    book = openpyxl.Workbook()
    for ref, value in cells.items():
        book.active[ref] = value
    book.save(path)


def _bomb(path: Path, megabytes: int) -> None:
    """A workbook one cell of which unpacks to ``megabytes`` (a few kilobytes zipped)."""
    source = path.with_name("bomb-source.xlsx")
    _workbook(source, {"A1": "idea_title", "A2": "BIG"})
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, data)
                continue
            before, after = data.split(b"BIG")
            with out.open(info.filename, "w") as fh:
                fh.write(before)
                for _ in range(megabytes):
                    fh.write(b"a" * (1 << 20))
                fh.write(after)


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
    (folder / "rules-deep.yaml").write_text("[" * 100_000 + "]" * 100_000)
    rule = "- {{id: r{}, type: time_based, settings: {{days_of_week: [mon]}}}}\n"
    (folder / "rules-many.yaml").write_text("".join(rule.format(n) for n in range(50_000)))
    (folder / "rules-many-small.yaml").write_text("".join(rule.format(n) for n in range(101)))
    (folder / "a-folder").mkdir()
    os.mkfifo(folder / "a-fifo.csv")
    for a, b in (("loop1.csv", "loop2.csv"), ("loop-a", "loop-b"), ("loop1.json", "loop2.json")):
        (folder / a).symlink_to(folder / b)
        (folder / b).symlink_to(folder / a)
    _workbook(folder / "far.xlsx", {"A1": "idea_title", "A2": "One", "A1048576": "x"})
    _bomb(folder / "bomb.xlsx", 70)
    return folder


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Iterator[Path]:
    """One data folder for the whole table (each case checks that it changes nothing), with
    a script writer's key stored: its address must not move without it."""
    folder = tmp_path_factory.mktemp("data")
    os.environ.pop("CADENCE_DATA_DIR", None)
    endpoint = ["settings", "set", "llm.endpoint", "http://localhost:11434/v1"]
    assert main(["--data-dir", str(folder), *endpoint]) == 0
    key = corpus / "llm-key.txt"
    key.write_text("the-stored-key\n")
    assert main(["--data-dir", str(folder), "settings", "set", "llm.api_key", f"@{key}"]) == 0
    yield folder


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
    ("a cell at row 1,048,576", ["validate", "{c}/far.xlsx"], "has cells past row 100,000"),
    ("a 70 MB cell", ["validate", "{c}/bomb.xlsx"], "once unpacked"),
    ("not a sheet file", ["validate", "/etc/passwd"], "is not a sheet file"),
    ("Cadence's own log", ["validate", "{d}/logs/cadence.log"], "is not a sheet file"),
    ("a source name of 300 characters", ["validate", f"/tmp/{LONG}.csv"], "File name too long"),
    ("a source going round in links", ["jobs", "create", "--source", "{c}/loop1.csv"], "loop"),
    ("a user nobody is", ["validate", "~nosuchuser/ideas.csv"], "there is no user"),
    ("videos into a name too long", ["jobs", "create", "--source", str(DEMO), "--out",
                                     f"/tmp/{LONG}/videos"], "File name too long"),
    ("an export to a name too long", ["jobs", "export", "--format", "json", "--out",
                                      f"/tmp/{LONG}/jobs.json"], "File name too long"),
    ("a worker's share named too long", ["worker", "tcp://box:8786", "--shared", f"/tmp/{LONG}"],
     "File name too long"),
    ("assets named too long", ["render", str(DEMO), "--out", "{c}/out", "--assets",
                               f"/tmp/{LONG}"], "File name too long"),
    ("a backup named too long", ["db", "restore", f"/tmp/{LONG}"], "there is no backup"),
    ("a data dir part too long", ["--data-dir", f"/tmp/{LONG}/d", "jobs", "list"],
     "cannot use the data dir"),
    ("a data dir in a link loop", ["--data-dir", "{c}/loop-a", "jobs", "list"],
     "links go round in a loop"),
    ("huge interval", ["schedule", "preview", "every@99999999999d"], "longer than"),
    ("bad cron", ["schedule", "preview", "61 * * * *"], "minute: 61 is out of range"),
    ("once in year 1", ["schedule", "preview", "once@0001-01-01T00:00"],
     "0001 is outside the years Cadence plans for (1970 to 2999)"),
    ("a preview from 9999", ["schedule", "preview", "0 9 * * *", "--from", "9999-12-31T23:00"],
     "9999 is outside the years"),
    ("every 2 days from 9999", ["schedule", "preview", "every@2d", "--from", "9999-12-30"],
     "9999 is outside the years"),
    ("a job starting in 9999 (LA)", ["jobs", "create", "--source", str(DEMO), "--mode",
                                     "time_based", "--start", "9999-12-31T23:59", "--timezone",
                                     "America/Los_Angeles"], "9999 is outside the years"),
    ("a schedule without a name", ["schedule", "add", " ", "daily@09:00", "--source", str(DEMO)],
     "schedule name: is empty"),
    ("huge id", ["jobs", "show", "99999999999999999999999"], "is not an ID"),
    ("word id", ["jobs", "show", "abc"], "is not an ID"),
    ("zero id", ["jobs", "pause", "0"], "is not an ID"),
    ("no such job", ["jobs", "show", "4242"], "there is no job 4242"),
    ("no such item", ["items", "approve", "4242"], "there is no item 4242"),
    ("analytics of a huge id", ["analytics", "--job", "99999999999999999999"], "is not an ID"),
    ("binary rules", ["jobs", "create", "--source", str(DEMO), "--rules", "{c}/rules-binary.yaml"],
     "not UTF-8 text"),
    ("latin-1 rules", ["jobs", "create", "--source", str(DEMO), "--rules", "{c}/rules-latin1.yaml"],
     "not UTF-8 text"),
    ("broken yaml", ["jobs", "create", "--source", str(DEMO), "--rules", "{c}/rules-broken.yaml"],
     "at line 3, column 7"),
    ("scalar rules", ["jobs", "create", "--source", str(DEMO), "--rules", "{c}/rules-scalar.yaml"],
     "must hold a list of rules"),
    ("rules from /dev/zero", ["jobs", "create", "--source", str(DEMO), "--rules", "/dev/zero"],
     "is not a regular file"),
    ("rules nested 100,000 deep", ["jobs", "create", "--source", str(DEMO), "--rules",
                                   "{c}/rules-deep.yaml"], "nested too deeply"),
    ("50,000 rules", ["jobs", "create", "--source", str(DEMO), "--rules", "{c}/rules-many.yaml"],
     "at most 1,048,576 are read"),
    ("101 rules", ["jobs", "create", "--source", str(DEMO), "--rules",
                   "{c}/rules-many-small.yaml"], "a job takes at most 100"),
    ("export into a folder", ["jobs", "export", "--format", "json", "--out", "{c}/a-folder"],
     "is a folder"),
    ("export nowhere", ["jobs", "export", "--format", "json", "--out", "/proc/no/such"],
     "cannot write"),
    ("export over /dev/full", ["jobs", "export", "--format", "json", "--out", "/dev/full"],
     "is not a regular file"),
    ("export over a fifo", ["jobs", "export", "--format", "json", "--out", "{c}/a-fifo.csv"],
     "is not a regular file"),
    ("export through a link loop", ["jobs", "export", "--format", "json", "--out",
                                    "{c}/loop1.json"], "loop"),
    ("prune every day", ["history", "prune", "--days", "-1"], "from 1 to 3650"),
    ("prune zero days", ["history", "prune", "--days", "0"], "from 1 to 3650"),
    ("prune forever", ["history", "prune", "--days", "99999999999999999999"], "from 1 to 3650"),
    ("render nowhere", ["render", str(DEMO), "--out", "/proc/nope", "--rows", "2"],
     "cannot be written there"),
    ("render no rows", ["render", str(DEMO), "--out", "{c}/out", "--rows", "500-900"],
     "no idea rows"),
    ("a logo that is a device", ["render", str(DEMO), "--out", "{c}/out", "--logo", "/dev/zero"],
     "is not a regular file"),
    ("videos into a file", ["jobs", "create", "--source", str(DEMO), "--out", "{c}/empty.csv"],
     "it is not a folder"),
    ("videos into /dev/null", ["jobs", "create", "--source", str(DEMO), "--out", "/dev/null"],
     "it is not a folder"),
    ("videos into /etc", ["jobs", "create", "--source", str(DEMO), "--out", "/etc"],
     "it is a system folder"),
    ("a style that is a path", ["jobs", "create", "--source", str(DEMO), "--style", "/etc/passwd"],
     "is not a style"),
    ("a title on two lines", ["jobs", "create", "--source", str(DEMO), "--title", "A\r\nB"],
     "control characters"),
    ("storage no address", ["jobs", "create", "--source", str(DEMO), "--storage", "my-bucket"],
     "storage: 'my-bucket' is not a storage address — use s3://"),
    ("storage bad bucket", ["jobs", "create", "--source", str(DEMO), "--storage", "s3://A_B"],
     "storage: 'A_B' is not a bucket name"),
    ("storage test nowhere", ["storage", "test", "gs://x"], "'x' is not a bucket name"),
    ("cluster over tls", ["settings", "set", "render.cluster", "tls://box:8786"],
     "tls:// needs certificates"),
    ("worker without an address", ["worker", "not-an-address"], "is not a scheduler address"),
    ("worker with an empty address", ["worker", ""], "is not a scheduler address"),
    ("worker over tls", ["worker", "tls://box:8786"], "tls:// needs certificates"),
    ("worker of no threads", ["worker", "tcp://box:8786", "--nthreads", "0"], "from 1 to 64"),
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
    ("a logo from /dev/zero", ["settings", "set", "render.logo", "/dev/zero"],
     "is not a regular file"),
    ("a key from /dev/zero", ["settings", "set", "storage.gcs_key", "@/dev/zero"],
     "is not a regular file"),
    ("a service account from /dev/zero", ["auth", "login", "--service-account", "/dev/zero"],
     "is not a regular file"),
    ("any web page may call the API", ["settings", "set", "api.cors_origins", "*"],
     "never allowed"),
    ("a category that is none", ["settings", "set", "publish.category_id", "abc"],
     "is not a YouTube category"),
    ("the stored LLM key sent elsewhere", ["settings", "set", "llm.endpoint",
                                           "http://evil.example/v1"],
     "the stored llm.api_key would be sent to http://evil.example/v1"),
    ("videos into /etc by default", ["settings", "set", "output.folder", "/etc"],
     "system folder"),
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


def state_of(data: Path) -> tuple[list[str], list[int], bytes]:
    files = sorted(
        str(p.relative_to(data))
        for p in data.rglob("*")
        if p.is_file() and not p.name.endswith(("-wal", "-shm")) and p.suffix != ".log"
    )
    with closing(sqlite3.connect(data / "cadence.db")) as raw:
        counts = [
            raw.execute(f"select count(*) from {table}").fetchone()[0]
            for table in ("jobs", "items", "schedules", "audit_log", "settings", "uploads")
        ]
    secrets = data / "config" / "secrets.json"
    return files, counts, secrets.read_bytes() if secrets.exists() else b""


@pytest.mark.parametrize(("what", "args", "says"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clear_line(
    capsys: pytest.CaptureFixture[str],
    data: Path,
    corpus: Path,
    what: str,
    args: list[str],
    says: str,
) -> None:
    before = state_of(data)
    filled = [a.replace("{c}", str(corpus)).replace("{d}", str(data)) for a in args]
    status, out, err = run(capsys, "--data-dir", str(data), *filled)
    lines = err.strip().splitlines()
    assert status == 2, (what, out, err)
    assert "Traceback" not in err and "internal error" not in err
    assert says in err, (what, err)
    assert len(lines) == 1, (what, lines)
    assert "the-stored-key" not in out + err
    assert state_of(data) == before


def test_cell_text_never_reaches_the_terminal_as_control_characters(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path
) -> None:
    """A cell holding a terminal's escape sequences (retitle, clear the screen) and a title
    with a line break in it: shown escaped, never acted on; no line is forged."""
    sheet = tmp_path / "evil.csv"
    sheet.write_bytes(
        b'idea_title,script_content\n"Evil\x1b]0;pwned\x07\x1b[2J title","Words.\rforged"\n'
    )
    status, out, err = run(capsys, "--data-dir", str(data), "validate", str(sheet))
    assert status == 0, err
    assert "\x1b" not in out + err and "\x07" not in out + err and "\r" not in out + err
    assert "Evil\\u001b]0;pwned\\u0007\\u001b[2J title" in out
