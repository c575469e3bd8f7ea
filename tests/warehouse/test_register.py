from __future__ import annotations

import threading
import time
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
    assert "source=wire/published_month=__unknown__" in files[0]


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
