"""The command line, run as a user runs it: ``python main.py …`` in a subprocess."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from app import __version__
from tests.conftest import DEMO, HEADER, full_row

Run = Callable[..., subprocess.CompletedProcess[str]]


def test_version(run_cli: Run) -> None:
    result = run_cli("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_validate_demo_sheet_json_reports_every_row_valid(run_cli: Run) -> None:
    result = run_cli("validate", str(DEMO), "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) >= 6
    for row in rows:
        assert set(row) == {"row", "valid", "errors", "warnings", "idea"}
        assert row["valid"] is True and row["errors"] == []
        assert row["idea"]["idea_title"] and row["idea"]["script_content"]
    assert [r["row"] for r in rows] == list(range(2, 2 + len(rows)))


def test_validate_reports_problems_and_exits_1(
    run_cli: Run, write_csv: Callable[..., Path]
) -> None:
    path = write_csv(
        [
            HEADER,
            full_row(),
            full_row(duration_seconds="soon", voice_preference="robot"),
            ["", "no title"],
        ]
    )
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    out = result.stdout
    assert "row 3" in out and "column E “duration_seconds”: “soon” is not a whole number" in out
    assert (
        "column H “voice_preference”: “robot” is not a voice — use female, male or neutral" in out
    )
    assert "row 4" in out and "every idea needs a title" in out
    assert "1 valid, 2 invalid." in out

    as_json = json.loads(run_cli("validate", str(path), "--json").stdout)
    assert [r["valid"] for r in as_json] == [True, False, False]
    assert {e["column"] for e in as_json[1]["errors"]} == {"duration_seconds", "voice_preference"}
    assert as_json[1]["idea"] is None


def test_validate_levels_change_the_outcome(run_cli: Run, write_csv: Callable[..., Path]) -> None:
    path = write_csv([HEADER, full_row(duration_seconds="1:30", description="")])
    assert run_cli("validate", str(path), "--level", "strict").returncode == 1
    assert run_cli("validate", str(path), "--level", "moderate").returncode == 1
    permissive = run_cli("validate", str(path), "--level", "permissive", "--json")
    assert permissive.returncode == 0
    assert json.loads(permissive.stdout)[0]["idea"]["duration_seconds"] == 90


def test_unreadable_sources_exit_2_with_one_line(run_cli: Run, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(HEADER) + "\n")
    for path in (tmp_path / "missing.csv", empty, binary, header_only):
        result = run_cli("validate", str(path))
        assert result.returncode == 2, path
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("cadence: "), result.stderr
        assert "Traceback" not in result.stderr


def test_jobs_create_list_show(run_cli: Run, write_csv: Callable[..., Path]) -> None:
    source = write_csv(
        [
            HEADER,
            full_row(),
            full_row(idea_title="Second", priority="urgent"),
            full_row(idea_title="Third"),
        ]
    )
    created = run_cli(
        "jobs", "create", "--source", str(source), "--title", "Week 1", "--priority", "high"
    )
    assert created.returncode == 0, created.stderr
    assert "Created job 1 “Week 1” with 2 items." in created.stdout
    assert "Skipped 1 invalid row (3)" in created.stdout

    listed = json.loads(run_cli("jobs", "list", "--json").stdout)
    assert [(j["id"], j["title"], j["state"], j["priority"], j["items_total"]) for j in listed] == [
        (1, "Week 1", "pending", "high", 2)
    ]
    table = run_cli("jobs", "list").stdout
    assert "Week 1" in table and "0/2" in table
    assert json.loads(run_cli("jobs", "list", "--state", "completed", "--json").stdout) == []

    shown = json.loads(run_cli("jobs", "show", "1", "--json").stdout)
    assert [(i["row"], i["title"], i["state"]) for i in shown["items"]] == [
        (2, "Why the sky is blue", "pending"),
        (4, "Third", "pending"),
    ]
    assert shown["source"]["location"] == str(source.resolve())
    assert "Third" in run_cli("jobs", "show", "1").stdout


def test_jobs_create_refuses_a_sheet_without_valid_rows(
    run_cli: Run, write_csv: Callable[..., Path]
) -> None:
    source = write_csv([HEADER, full_row(script_content="")])
    result = run_cli("jobs", "create", "--source", str(source))
    assert result.returncode == 2 and "no job was created" in result.stderr
    assert json.loads(run_cli("jobs", "list", "--json").stdout) == []


def test_jobs_show_unknown_id(run_cli: Run) -> None:
    result = run_cli("jobs", "show", "42")
    assert result.returncode == 2
    assert result.stderr.strip() == "cadence: there is no job 42 — `jobs list` shows the job IDs"


def test_jobs_export_formats(run_cli: Run, tmp_path: Path) -> None:
    assert run_cli("jobs", "create", "--source", str(DEMO), "--title", "Demo").returncode == 0
    as_json = json.loads(run_cli("jobs", "export", "--format", "json").stdout)
    assert as_json[0]["title"] == "Demo" and len(as_json[0]["items"]) >= 6
    as_yaml = yaml.safe_load(run_cli("jobs", "export", "--format", "yaml").stdout)
    assert as_yaml == as_json
    rows = list(csv.DictReader(io.StringIO(run_cli("jobs", "export", "--format", "csv").stdout)))
    assert rows[0]["title"] == "Demo" and rows[0]["items_total"] == str(len(as_json[0]["items"]))

    out = tmp_path / "exports" / "jobs.yaml"
    written = run_cli("jobs", "export", "--format", "yaml", "--out", str(out))
    assert written.returncode == 0 and yaml.safe_load(out.read_text()) == as_json
    assert [p.name for p in out.parent.iterdir()] == ["jobs.yaml"]  # no temporary left behind


def test_data_dir_keeps_everything_apart(run_cli: Run, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert run_cli("jobs", "create", "--source", str(DEMO), data=other).returncode == 0
    assert (other / "cadence.db").exists() and (other / "logs" / "cadence.log").exists()
    assert json.loads(run_cli("jobs", "list", "--json").stdout) == []


def test_no_display_gives_one_line_instead_of_a_crash(
    run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    result = run_cli()
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "DISPLAY is not set" in result.stderr
    assert (
        "python main.py run --headless" in result.stderr
        and "python main.py --help" in result.stderr
    )


def test_jobs_create_with_scheduling_options_and_rules(run_cli: Run, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "- id: nights\n  name: Nights only\n  type: time_based\n"
        "  settings: {time_window: '22:00-06:00', action: only}\n",
        encoding="utf-8",
    )
    result = run_cli(
        "jobs", "create", "--source", str(DEMO), "--mode", "smart", "--max-concurrent", "2",
        "--timezone", "Europe/Berlin", "--rules", str(rules), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    job_id = json.loads(result.stdout)["id"]
    shown = json.loads(run_cli("jobs", "show", str(job_id), "--json").stdout)
    assert shown["scheduling"]["mode"] == "smart"
    assert shown["scheduling"]["rules"][0]["settings"]["time_window"] == "22:00-06:00"
    text = run_cli("jobs", "show", str(job_id)).stdout
    assert "schedule  smart; at most 2 at once; rules: Nights only" in text


def test_jobs_create_refuses_a_malformed_rule_naming_the_field(
    run_cli: Run, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps([{"id": "x", "type": "time_based", "settings": {"time_window": "9am-5pm"}}]),
        encoding="utf-8",
    )
    result = run_cli("jobs", "create", "--source", str(DEMO), "--rules", str(rules))
    assert result.returncode == 2
    assert "rules[1].settings.time_window" in result.stderr and "HH:MM-HH:MM" in result.stderr
    assert "Traceback" not in result.stderr
    assert "No jobs yet" in run_cli("jobs", "list").stdout


def test_csv_exports_cannot_run_formulas(run_cli: Run, tmp_path: Path) -> None:
    """A title a spreadsheet would run (=HYPERLINK…) is neutralised in CSV, kept in JSON."""
    from tests.conftest import HEADER, full_row

    sheet = tmp_path / "+SUM(1,2).csv"
    evil = '=HYPERLINK("http://evil.example","x")'
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerow(full_row(idea_title=evil))
        writer.writerow(full_row(idea_title="@mention", description="-1"))
    assert (
        run_cli("jobs", "create", "--source", str(sheet), "--title", "-minus title").returncode == 0
    )
    jobs = list(csv.DictReader(io.StringIO(run_cli("jobs", "export", "--format", "csv").stdout)))
    assert jobs[0]["title"] == "'-minus title"
    assert not jobs[0]["source"].startswith(("=", "+", "-", "@"))
    items = list(
        csv.DictReader(io.StringIO(run_cli("jobs", "export", "--format", "csv", "--items").stdout))
    )
    assert [i["title"] for i in items] == ["'" + evil, "'@mention"]
    assert items[0]["row"] == "2" and items[0]["state"] == "pending"
    as_json = json.loads(run_cli("jobs", "export", "--format", "json").stdout)
    assert as_json[0]["items"][0]["title"] == evil  # JSON stays exact


def test_validate_json_lists_skipped_empty_rows(
    run_cli: Run, write_csv: Callable[..., Path]
) -> None:
    path = write_csv([HEADER, full_row(), [], full_row(idea_title="Second")])
    rows = json.loads(run_cli("validate", str(path), "--json").stdout)
    assert [r["row"] for r in rows] == [2, 3, 4]
    assert rows[1] == {"row": 3, "skipped": "empty row"}


def test_jobs_create_dry_run_prints_what_review_shows_and_creates_nothing(
    run_cli: Run, write_csv: Callable[..., Path]
) -> None:
    long_script = "Plants drink light and water every single day. " * 30  # 240 words
    source = write_csv(
        [HEADER, full_row(script_content=long_script), full_row(script_content=""), full_row()]
    )
    result = run_cli("jobs", "create", "--source", str(source), "--dry-run")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Dry run — nothing was created.")
    assert lines[1].strip().startswith("Videos: 2, about ")
    assert "Estimated render time: " in lines[2] and "a guess" in lines[2]
    assert lines[3].strip().startswith("Disk space: about ")
    assert lines[4].strip().startswith("Last video ready: ")
    assert "Left out: row 3" in result.stdout
    assert json.loads(run_cli("jobs", "list", "--json").stdout) == []  # nothing created

    as_json = json.loads(run_cli("jobs", "create", "--source", str(source), "--dry-run",
                                 "--json").stdout)  # fmt: skip
    assert as_json["dry_run"] is True and as_json["items"] == 2
    assert as_json["skipped_rows"] == [3]
    seconds = as_json["estimate"]["video_seconds"]
    assert 60 < seconds < 200  # 240 words spoken (~90 s) and a short one, not the cells' 60 s
    assert json.loads(run_cli("jobs", "list", "--json").stdout) == []
