"""Make written batches visible: one catalog transaction per batch, plus the manifest reads a run needs."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from newsflow.faults import kill_point
from warehouse.catalog import LAKE

ARTICLE_TABLE_DIR = ("main", "articles")
CHILD_TABLES = ("article_entities", "article_quotes", "article_keywords", "article_signatures")


def article_table_root(lake_path: str) -> Path:
    return Path(lake_path, *ARTICLE_TABLE_DIR)


def load_file_manifest(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The latest ``file_uri, size_bytes, mtime_ns, sha256, etag, last_modified`` of each file seen."""
    return con.execute(
        """
        SELECT file_uri, size_bytes, mtime_ns, file_sha256 AS sha256, etag, last_modified
        FROM ingested_files
        QUALIFY row_number() OVER (PARTITION BY file_uri ORDER BY seen_at DESC, status) = 1
        """
    ).pl()


def load_record_manifest(con: duckdb.DuckDBPyConnection, record_keys: list[str]) -> pl.DataFrame:
    """The latest ``record_key, sha256, article_id, status`` for the given records."""
    keys = pl.DataFrame({"record_key": record_keys}, schema={"record_key": pl.String()})
    con.register("wanted_records", keys.to_arrow())
    try:
        return con.execute(
            """
            SELECT f.record_key, f.sha256, f.article_id, f.status
            FROM ingested_files f JOIN wanted_records w USING (record_key)
            QUALIFY row_number() OVER (PARTITION BY f.record_key ORDER BY f.seen_at DESC) = 1
            """
        ).pl()
    finally:
        con.unregister("wanted_records")


def load_content_hashes(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``content_hash, article_id`` of every article in the warehouse."""
    return con.execute("SELECT content_hash, article_id FROM articles").pl()


def load_candidate_signatures(
    con: duckdb.DuckDBPyConnection, new_rows: pl.DataFrame, anchor_slots: int
) -> pl.DataFrame:
    """Every stored ``article_signatures`` row of articles sharing an anchor hash with ``new_rows``.

    Anchors are the ``anchor_slots`` smallest values of each sketch.
    """
    anchors = new_rows.filter(pl.col("slot") < anchor_slots).select("shingle_hash").unique()
    con.register("new_anchors", anchors.to_arrow())
    try:
        return con.execute(
            f"""
            SELECT s.* FROM article_signatures s
            WHERE s.article_id IN (
                SELECT o.article_id FROM article_signatures o JOIN new_anchors n USING (shingle_hash)
                WHERE o.slot < {int(anchor_slots)}
            )
            """
        ).pl()
    finally:
        con.unregister("new_anchors")


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    if frame.is_empty():
        return
    name = f"incoming_{table}"
    con.register(name, frame.to_arrow())
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {name}")
    finally:
        con.unregister(name)


def commit_batch(
    con: duckdb.DuckDBPyConnection,
    *,
    article_files: list[str],
    replaced_article_ids: list[str],
    tables: Mapping[str, pl.DataFrame],
    refreshed_files: pl.DataFrame | None,
    run_row: Mapping[str, Any],
) -> None:
    """Register one batch in a single catalog transaction.

    Old versions of re-ingested articles (and their entity, quote and keyword rows) are deleted, the new
    Parquet files are added to ``articles``, the other tables' rows inserted, files read again without new
    content get their new size, mtime and hash, and the run's row is replaced with its running counts.
    Either all of it becomes visible or none of it does.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        if replaced_article_ids:
            con.register("replaced_ids", pl.DataFrame({"article_id": replaced_article_ids}).to_arrow())
            for table in ("articles", *CHILD_TABLES):
                con.execute(f"DELETE FROM {table} WHERE article_id IN (SELECT article_id FROM replaced_ids)")
            con.unregister("replaced_ids")
        for path in article_files:
            con.execute(
                f"CALL ducklake_add_data_files('{LAKE}', 'articles', ?, hive_partitioning => true)", [path]
            )
        for table, frame in tables.items():
            _insert_frame(con, table, frame)
        if refreshed_files is not None and not refreshed_files.is_empty():
            con.register(
                "refreshed",
                refreshed_files.select(
                    "file_uri", "size_bytes", "mtime_ns", "file_sha256", "etag", "last_modified"
                ).to_arrow(),
            )
            con.execute(
                "UPDATE ingested_files SET size_bytes = refreshed.size_bytes, "
                "mtime_ns = refreshed.mtime_ns, file_sha256 = refreshed.file_sha256, "
                "etag = refreshed.etag, last_modified = refreshed.last_modified "
                "FROM refreshed WHERE ingested_files.file_uri = refreshed.file_uri"
            )
            con.unregister("refreshed")
        con.execute("DELETE FROM ingest_runs WHERE run_id = ?", [run_row["run_id"]])
        _insert_frame(con, "ingest_runs", pl.DataFrame([dict(run_row)]))
        kill_point("commit")
        con.execute("COMMIT")
        kill_point("committed")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


def remove_orphan_files(con: duckdb.DuckDBPyConnection, lake_path: str) -> list[str]:
    """Delete files in the lake that no snapshot references, and temporaries left by a crashed write.

    Only safe while holding the writer lock: a crashed run leaves such files; a live one would be mid-batch.
    Files that older snapshots still reference are kept (DuckLake's own orphan search), so readers of an
    older snapshot and time travel keep working until maintenance expires those snapshots.
    """
    removed: list[str] = []
    root = article_table_root(lake_path)
    if root.is_dir():
        for folder, _dirs, names in os.walk(root):
            for name in names:
                if name.endswith(".tmp"):
                    path = os.path.join(folder, name)
                    os.unlink(path)
                    removed.append(path)
    rows = con.execute(f"CALL ducklake_delete_orphaned_files('{LAKE}', cleanup_all => true)").fetchall()
    removed.extend(str(row[0]) for row in rows)
    return sorted(removed)


def mark_abandoned_runs(con: duckdb.DuckDBPyConnection) -> int:
    """Runs still ``running`` when a new writer holds the lock died mid-way: mark them ``crashed``."""
    (count,) = con.execute("SELECT count(*) FROM ingest_runs WHERE state = 'running'").fetchone() or (0,)
    if count:
        con.execute(
            "UPDATE ingest_runs SET state = 'crashed', error = 'the run stopped before finishing; "
            "a later run repaired the warehouse' WHERE state = 'running'"
        )
    return int(count)
