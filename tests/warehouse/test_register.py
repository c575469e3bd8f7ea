from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from newsflow.settings import load_settings
from tasks.schema import ARTICLE_COLUMNS, conform
from tasks.write import write_article_partitions
from warehouse.catalog import connect_reader, connect_writer
from warehouse.lock import WriterBusyError, writer_lock
from warehouse.register import (
    article_table_root,
    commit_batch,
    load_content_hashes,
    mark_abandoned_runs,
    remove_orphan_files,
)


def _articles(*ids: str) -> pl.DataFrame:
    return conform(
        pl.DataFrame(
            {"article_id": list(ids), "source": ["wire"] * len(ids), "content_hash": [f"h-{i}" for i in ids]}
        ),
        ARTICLE_COLUMNS,
    )


def _run_row(state: str = "running") -> dict[str, object]:
    return {"run_id": "r1", "state": state, "files_seen": 1}


@pytest.fixture
def writer(isolated_settings: Path) -> duckdb.DuckDBPyConnection:
    con = connect_writer(load_settings())
    yield con
    con.close()


def test_commit_makes_files_rows_and_run_visible_together(writer: duckdb.DuckDBPyConnection) -> None:
    settings = load_settings()
    files = write_article_partitions(_articles("a", "b"), article_table_root(settings.lake_path), "r1-00000")
    manifest = pl.DataFrame({"uri": ["file:///a"], "status": ["ingested"], "article_id": ["a"]})
    commit_batch(
        writer,
        article_files=files,
        replaced_article_ids=[],
        tables={"ingested_files": manifest},
        refreshed_files=None,
        run_row=_run_row(),
    )
    reader = connect_reader(settings)
    assert reader.execute("SELECT article_id FROM articles ORDER BY 1").fetchall() == [("a",), ("b",)]
    assert reader.execute("SELECT uri, status FROM ingested_files").fetchall() == [("file:///a", "ingested")]
    assert reader.execute("SELECT state FROM ingest_runs").fetchall() == [("running",)]
    assert "/year=__HIVE_DEFAULT_PARTITION__/month=__HIVE_DEFAULT_PARTITION__/wire-r1-00000-" in files[0]


def test_failed_commit_leaves_nothing_visible_and_orphans_are_removed(
    writer: duckdb.DuckDBPyConnection,
) -> None:
    settings = load_settings()
    files = write_article_partitions(_articles("a"), article_table_root(settings.lake_path), "r1-00000")
    bad_rows = pl.DataFrame({"no_such_column": [1]})
    with pytest.raises(duckdb.Error):
        commit_batch(
            writer,
            article_files=files,
            replaced_article_ids=[],
            tables={"ingested_files": bad_rows},
            refreshed_files=None,
            run_row=_run_row(),
        )
    assert writer.execute("SELECT count(*) FROM articles").fetchone() == (0,)
    assert writer.execute("SELECT count(*) FROM ingest_runs").fetchone() == (0,)
    assert remove_orphan_files(writer, settings.lake_path) == files
    assert not Path(files[0]).exists()


def test_replaced_articles_are_deleted_in_the_same_transaction(writer: duckdb.DuckDBPyConnection) -> None:
    settings = load_settings()
    root = article_table_root(settings.lake_path)
    first = write_article_partitions(_articles("a", "b"), root, "r1-00000")
    commit_batch(
        writer,
        article_files=first,
        replaced_article_ids=[],
        tables={},
        refreshed_files=None,
        run_row=_run_row(),
    )
    second = write_article_partitions(_articles("a"), root, "r2-00000")
    commit_batch(
        writer,
        article_files=second,
        replaced_article_ids=["a"],
        tables={},
        refreshed_files=None,
        run_row=_run_row("completed"),
    )
    assert writer.execute("SELECT article_id, count(*) FROM articles GROUP BY 1 ORDER BY 1").fetchall() == [
        ("a", 1),
        ("b", 1),
    ]
    assert load_content_hashes(writer).height == 2
    assert remove_orphan_files(writer, settings.lake_path) == []


def test_abandoned_runs_are_marked_crashed(writer: duckdb.DuckDBPyConnection) -> None:
    commit_batch(
        writer,
        article_files=[],
        replaced_article_ids=[],
        tables={},
        refreshed_files=None,
        run_row=_run_row("running"),
    )
    assert mark_abandoned_runs(writer) == 1
    assert writer.execute("SELECT state FROM ingest_runs").fetchall() == [("crashed",)]


def test_writer_lock_waits_then_gives_up(tmp_path: Path) -> None:
    lock = tmp_path / ".writer.lock"
    waited: list[str] = []
    with writer_lock(lock, 5):
        result: list[BaseException] = []

        def contender() -> None:
            try:
                with writer_lock(lock, 0.5, on_wait=waited.append):
                    pass
            except BaseException as error:
                result.append(error)

        thread = threading.Thread(target=contender)
        thread.start()
        thread.join()
    assert isinstance(result[0], WriterBusyError)
    assert waited and waited[0].startswith("pid ")
    started = time.monotonic()
    with writer_lock(lock, 1):
        assert time.monotonic() - started < 1


def _dated_articles(prefix: str, days: list[str]) -> pl.DataFrame:
    ids = [f"{prefix}-{number}" for number in range(len(days))]
    return conform(
        pl.DataFrame(
            {
                "article_id": ids,
                "source": ["wire"] * len(ids),
                "content_hash": [f"h-{i}" for i in ids],
                "published_at": [datetime.fromisoformat(day) for day in days],
            }
        ),
        ARTICLE_COLUMNS,
    )


def test_month_partitions_prune_date_filters_and_survive_compaction(
    writer: duckdb.DuckDBPyConnection,
) -> None:
    settings = load_settings()
    root = article_table_root(settings.lake_path)
    for batch in ("r1", "r2"):
        files = write_article_partitions(
            _dated_articles(batch, ["2025-01-10", "2025-01-20", "2025-02-03", "2026-01-05"]), root, batch
        )
        assert [Path(f).parent.name for f in files] == ["month=1", "month=2", "month=1"]
        commit_batch(
            writer,
            article_files=files,
            replaced_article_ids=[],
            tables={},
            refreshed_files=None,
            run_row=_run_row(),
        )
    one_month = (
        "SELECT count(*) FROM articles WHERE published_at >= '2025-02-01' AND published_at < '2025-03-01'"
    )
    by_month = (
        "SELECT year(published_at), month(published_at), count(*) FROM articles GROUP BY ALL ORDER BY ALL"
    )
    expected = writer.execute(by_month).fetchall()
    assert expected == [(2025, 1, 4), (2025, 2, 2), (2026, 1, 2)]
    plan = writer.execute(f"EXPLAIN ANALYZE {one_month}").fetchall()[0][1]
    assert "Total Files Read: 2" in plan

    writer.execute("CALL ducklake_merge_adjacent_files('lake')")

    assert writer.execute(by_month).fetchall() == expected
    assert writer.execute("SELECT count(*) FROM ducklake_list_files('lake', 'articles')").fetchone() == (3,)
    assert "Total Files Read: 1" in writer.execute(f"EXPLAIN ANALYZE {one_month}").fetchall()[0][1]
    assert writer.execute(one_month).fetchone() == (2,)
