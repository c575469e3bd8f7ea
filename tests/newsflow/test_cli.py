from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from newsflow.cli import app

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
runner = CliRunner()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli") / "data"
    result = runner.invoke(app, ["ingest", str(SAMPLES), "--data-dir", str(data), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(summary) == [
        "run_id", "state", "files_seen", "files_new", "files_unchanged", "articles_written", "duplicates",
        "quarantined",
    ]  # fmt: skip
    assert summary["state"] == "completed" and summary["articles_written"] == 10
    return data


def test_query_formats(warehouse: Path, tmp_path: Path) -> None:
    sql = "SELECT title, related FROM articles WHERE title LIKE 'City library%'"
    as_json = runner.invoke(app, ["query", sql, "--data-dir", str(warehouse), "--format", "json"])
    assert json.loads(as_json.stdout) == [
        {
            "title": "City library opens late on Fridays",
            "related": [
                "Council approves budget for new branch libraries",
                "Survey finds reading up among teenagers",
            ],
        }
    ]
    as_csv = runner.invoke(app, ["query", sql, "--data-dir", str(warehouse), "--format", "csv"])
    assert as_csv.stdout.splitlines()[0] == "title,related"
    target = tmp_path / "out.parquet"
    runner.invoke(
        app, ["query", sql, "--data-dir", str(warehouse), "--format", "parquet", "--output", str(target)]
    )
    assert pl.read_parquet(target)["title"].to_list() == ["City library opens late on Fridays"]
    table = runner.invoke(app, ["query", "SELECT count(*) AS n FROM articles", "--data-dir", str(warehouse)])
    assert "10" in table.stdout


@pytest.mark.parametrize("sql", ["DELETE FROM articles", "DROP TABLE articles", "COPY articles TO 'x.csv'"])
def test_query_refuses_writes_with_one_clear_line(warehouse: Path, sql: str) -> None:
    result = runner.invoke(app, ["query", sql, "--data-dir", str(warehouse)])
    assert result.exit_code == 1
    assert "read-only" in result.output and len(result.output.strip().splitlines()) == 1
    count = runner.invoke(
        app, ["query", "SELECT count(*) AS n FROM articles", "--data-dir", str(warehouse), "--format", "json"]
    )
    assert json.loads(count.stdout) == [{"n": 10}]


def test_status_runs_and_search(warehouse: Path) -> None:
    status = json.loads(runner.invoke(app, ["status", "--data-dir", str(warehouse), "--json"]).stdout)
    assert status["tables"]["articles"] == 10
    assert {row["status"]: row["files"] for row in status["statuses"]} == {
        "ingested": 10, "duplicate": 1, "quarantined": 3, "skipped": 2,
    }  # fmt: skip
    runs = json.loads(runner.invoke(app, ["runs", "--data-dir", str(warehouse), "--json"]).stdout)
    assert runs[0]["state"] == "completed" and runs[0]["articles_written"] == 10
    found = json.loads(
        runner.invoke(app, ["search", "library friday", "--data-dir", str(warehouse), "--json"]).stdout
    )
    assert found[0]["title"] == "City library opens late on Fridays"


def test_ingest_of_a_missing_source_fails_with_one_line(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if name != "PREFECT_LOGGING_LEVEL"}
    command = [str(Path(sys.executable).with_name("newsflow")), "ingest", str(tmp_path / "missing")]
    command += ["--data-dir", str(tmp_path / "d")]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: ingest failed: FileNotFoundError: source not found: {tmp_path / 'missing'}"
    ]


def test_a_missing_prefect_home_is_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsflow.prefect_env import configure_prefect

    home = tmp_path / "not" / "yet" / "prefect"
    monkeypatch.setenv("PREFECT_HOME", str(home))
    configure_prefect()
    assert home.is_dir()
