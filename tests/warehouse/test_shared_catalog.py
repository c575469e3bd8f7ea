"""What keeps writers of a shared catalog apart: conflict retries, grace periods, the S3 secret."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from newsflow.settings import load_settings
from tasks.schema import ARTICLE_COLUMNS, conform
from tasks.write import write_article_partitions
from warehouse.catalog import connect_writer, new_connection, s3_secret_sql
from warehouse.register import article_table_root, commit_batch, mark_abandoned_runs, remove_orphan_files
from warehouse.retry import CommitConflictError, is_write_conflict, retry_on_conflict

CONFLICT = duckdb.TransactionException(
    "TransactionContext Error: Failed to commit: Failed to commit DuckLake transaction.\n"
    'Transaction conflict - attempting to insert into table with index "2" - '
    "but another transaction has deleted inlined data from it"
)


def test_conflicts_are_told_from_other_errors() -> None:
    assert is_write_conflict(CONFLICT)
    assert is_write_conflict(duckdb.Error('Failed to initialize DuckLake: relation "x" already exists'))
    assert not is_write_conflict(duckdb.BinderException('Referenced column "nope" not found'))
    assert not is_write_conflict(RuntimeError("Transaction conflict"))


def test_a_conflicting_transaction_runs_again_until_it_commits(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    waits: list[float] = []

    def transaction() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise CONFLICT
        return "committed"

    assert retry_on_conflict(transaction, "registering a batch", sleep=waits.append) == "committed"
    assert len(calls) == 3
    assert len(waits) == 2 and all(0 < wait <= 5 for wait in waits)
    assert "Catalog write conflict while registering a batch (attempt 2 of 12)" in caplog.text


def test_retries_are_bounded_and_other_errors_are_not_retried() -> None:
    def always_conflicts() -> None:
        raise CONFLICT

    with pytest.raises(CommitConflictError, match="still conflicting with other writers after 3 attempts"):
        retry_on_conflict(always_conflicts, "registering", attempts=3, sleep=lambda _: None)
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise duckdb.BinderException("no such column")

    with pytest.raises(duckdb.BinderException):
        retry_on_conflict(broken, "registering", sleep=lambda _: None)
    assert calls == [1]


def _run_row(run_id: str, started_at: datetime, duration_seconds: float) -> dict[str, object]:
    return {
        "run_id": run_id,
        "state": "running",
        "started_at": started_at,
        "duration_seconds": duration_seconds,
    }


def test_on_a_shared_catalog_only_silent_runs_are_marked_crashed(isolated_settings: Path) -> None:
    con = connect_writer(load_settings())
    now = datetime.now(UTC).replace(tzinfo=None)
    for row in (
        _run_row("dead", now - timedelta(hours=3), 60.0),
        _run_row("alive", now - timedelta(hours=3), 3 * 3600.0),
    ):
        commit_batch(
            con, article_files=[], replaced_article_ids=[], tables={}, refreshed_files=None, run_row=row
        )
    assert mark_abandoned_runs(con, silent_since=now - timedelta(hours=1)) == 1
    assert con.execute("SELECT run_id, state FROM ingest_runs ORDER BY 1").fetchall() == [
        ("alive", "running"),
        ("dead", "crashed"),
    ]
    con.close()


def test_on_a_shared_catalog_only_old_orphans_are_removed(isolated_settings: Path) -> None:
    settings = load_settings()
    con = connect_writer(settings)
    articles = conform(
        pl.DataFrame({"article_id": ["a"], "source": ["wire"], "content_hash": ["h-a"]}), ARTICLE_COLUMNS
    )
    unregistered = write_article_partitions(articles, article_table_root(settings.lake_path), "other-00000")
    temporary = Path(unregistered[0]).with_name(".half-written.parquet.tmp")
    temporary.write_bytes(b"PAR1")
    grace_start = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    assert remove_orphan_files(con, settings.lake_path, older_than=grace_start) == []
    assert Path(unregistered[0]).exists() and temporary.exists()
    hours_ago = time.time() - 2 * 3600
    for path in (unregistered[0], temporary):
        os.utime(path, (hours_ago, hours_ago))
    assert remove_orphan_files(con, settings.lake_path, older_than=grace_start) == sorted(
        [unregistered[0], str(temporary)]
    )
    con.close()


def test_the_s3_secret_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    assert s3_secret_sql(load_settings()) is None
    monkeypatch.setenv("NEWSFLOW_DATA_PATH", "s3://news-lake/prod")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "it's-secret")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/")
    statement = s3_secret_sql(load_settings())
    assert statement is not None
    assert statement.startswith("CREATE OR REPLACE TEMPORARY SECRET newsflow_lake (TYPE s3, ")
    for part in (
        "SCOPE 's3://news-lake/prod/'",
        "KEY_ID 'AKIDEXAMPLE'",
        "SECRET 'it''s-secret'",
        "REGION 'eu-central-1'",
        "ENDPOINT '127.0.0.1:9000'",
        "USE_SSL false",
        "URL_STYLE 'path'",
    ):
        assert part in statement
    con = new_connection(load_settings())
    try:
        (shown,) = con.execute(
            "SELECT secret_string FROM duckdb_secrets() WHERE name = 'newsflow_lake'"
        ).fetchone() or ("",)
        assert "AKIDEXAMPLE" in shown and "it's-secret" not in shown
    finally:
        con.close()
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("NEWSFLOW_S3_URL_STYLE", "path")
    statement = s3_secret_sql(load_settings())
    assert statement is not None and "ENDPOINT" not in statement and "URL_STYLE 'path'" in statement
