"""Make written batches visible: one catalog transaction per batch, plus the manifest reads a run needs."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl

from newsflow.faults import kill_point
from warehouse.catalog import LAKE, is_remote, registered, transaction
from warehouse.retry import Logger, retry_on_conflict

ARTICLE_TABLE_DIR = ("main", "articles")
CHILD_TABLES = (
    "article_entities",
    "article_quotes",
    "article_keywords",
    "article_anchors",
    "article_sketches",
)


def article_table_root(lake_path: str) -> str:
    """Where the ``articles`` table's Parquet files go: a local folder or an object-store prefix."""
    return "/".join([lake_path.rstrip("/"), *ARTICLE_TABLE_DIR])


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
    with registered(con, wanted_records=keys):
        return con.execute(
            """
            SELECT f.record_key, f.sha256, f.article_id, f.status
            FROM ingested_files f JOIN wanted_records w USING (record_key)
            QUALIFY row_number() OVER (PARTITION BY f.record_key ORDER BY f.seen_at DESC) = 1
            """
        ).pl()


def load_content_hashes(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``content_hash, article_id`` of every article in the warehouse."""
    return con.execute("SELECT content_hash, article_id FROM articles").pl()


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    if frame.is_empty():
        return
    name = f"incoming_{table}"
    with registered(con, **{name: frame}):
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {name}")


def commit_batch(
    con: duckdb.DuckDBPyConnection,
    *,
    article_files: list[str],
    replaced_article_ids: list[str],
    tables: Mapping[str, pl.DataFrame],
    refreshed_files: pl.DataFrame | None,
    run_row: Mapping[str, Any],
    logger: Logger | None = None,
) -> None:
    """Register one batch in a single catalog transaction.

    Old versions of re-ingested articles (and their entity, quote and keyword rows) are deleted, the new
    Parquet files are added to ``articles``, the other tables' rows inserted, files read again without new
    content get their new size, mtime and hash, and the run's row is replaced with its running counts.
    Either all of it becomes visible or none of it does. When another writer of a shared catalog
    committed a conflicting change first, DuckLake refuses the commit and rolls it back whole; the same
    transaction then runs again on the newer snapshot (``warehouse.retry``), so nothing is lost or added
    twice.
    """
    retry_on_conflict(
        lambda: _commit_once(
            con,
            article_files=article_files,
            replaced_article_ids=replaced_article_ids,
            tables=tables,
            refreshed_files=refreshed_files,
            run_row=run_row,
        ),
        f"registering {len(article_files)} article file(s) of run {run_row['run_id']}",
        logger,
    )


def _commit_once(
    con: duckdb.DuckDBPyConnection,
    *,
    article_files: list[str],
    replaced_article_ids: list[str],
    tables: Mapping[str, pl.DataFrame],
    refreshed_files: pl.DataFrame | None,
    run_row: Mapping[str, Any],
) -> None:
    with transaction(con):
        if replaced_article_ids:
            with registered(con, replaced_ids=pl.DataFrame({"article_id": replaced_article_ids})):
                for table in ("articles", *CHILD_TABLES):
                    con.execute(
                        f"DELETE FROM {table} WHERE article_id IN (SELECT article_id FROM replaced_ids)"
                    )
        for path in article_files:
            con.execute(
                f"CALL ducklake_add_data_files('{LAKE}', 'articles', ?, hive_partitioning => true)", [path]
            )
        for table, frame in tables.items():
            _insert_frame(con, table, frame)
        if refreshed_files is not None and not refreshed_files.is_empty():
            refreshed = refreshed_files.select(
                "file_uri", "size_bytes", "mtime_ns", "file_sha256", "etag", "last_modified"
            )
            with registered(con, refreshed=refreshed):
                con.execute(
                    "UPDATE ingested_files SET size_bytes = refreshed.size_bytes, "
                    "mtime_ns = refreshed.mtime_ns, file_sha256 = refreshed.file_sha256, "
                    "etag = refreshed.etag, last_modified = refreshed.last_modified "
                    "FROM refreshed WHERE ingested_files.file_uri = refreshed.file_uri"
                )
        con.execute("DELETE FROM ingest_runs WHERE run_id = ?", [run_row["run_id"]])
        _insert_frame(con, "ingest_runs", pl.DataFrame([dict(run_row)]))
        kill_point("commit")
    kill_point("committed")


def remove_orphan_files(
    con: duckdb.DuckDBPyConnection,
    lake_path: str,
    older_than: datetime | None = None,
    logger: Logger | None = None,
) -> list[str]:
    """Delete files in the lake that no snapshot references, and temporaries left by a crashed write.

    With the writer lock held (``older_than`` None) every such file is a crashed run's: a live writer would
    hold the lock. Writers of a shared catalog hold no common lock, and another machine's run may have
    written a file it has not registered yet, so there only files last modified before ``older_than`` go.
    Files that older snapshots still reference are kept (DuckLake's own orphan search), so readers of an
    older snapshot and time travel keep working until maintenance expires those snapshots.

    Args:
        con: A writer connection.
        lake_path: The lake's data path.
        older_than: Only remove files last modified before this (naive UTC); None: all of them.
        logger: Where conflicts with other writers are logged.

    Returns:
        The removed paths, sorted.
    """
    removed: list[str] = []
    root = article_table_root(lake_path)
    if not is_remote(root) and os.path.isdir(root):
        cutoff = None if older_than is None else older_than.replace(tzinfo=UTC).timestamp()
        for folder, _dirs, names in os.walk(root):
            for name in names:
                if name.endswith(".tmp"):
                    path = os.path.join(folder, name)
                    with contextlib.suppress(FileNotFoundError):
                        if cutoff is None or os.stat(path).st_mtime < cutoff:
                            os.unlink(path)
                            removed.append(path)
    if older_than is None:
        statement, parameters = f"CALL ducklake_delete_orphaned_files('{LAKE}', cleanup_all => true)", []
    else:
        statement = f"CALL ducklake_delete_orphaned_files('{LAKE}', older_than => ?::TIMESTAMPTZ)"
        parameters = [older_than.replace(tzinfo=UTC)]
    rows = retry_on_conflict(
        lambda: con.execute(statement, parameters).fetchall(), "removing orphaned files", logger
    )
    removed.extend(str(row[0]) for row in rows)
    return sorted(removed)


def mark_abandoned_runs(
    con: duckdb.DuckDBPyConnection, silent_since: datetime | None = None, logger: Logger | None = None
) -> int:
    """Mark runs that died mid-way ``crashed``; returns how many.

    With the writer lock held (``silent_since`` None) every run still ``running`` is dead. Writers of a
    shared catalog hold no common lock, so there a run counts as dead only when its last commit (each
    batch rewrites its row: ``started_at + duration_seconds``) is older than ``silent_since`` (naive UTC).
    """
    condition = "state = 'running'"
    parameters: list[Any] = []
    if silent_since is not None:
        condition += (
            " AND started_at + to_microseconds(CAST(coalesce(duration_seconds, 0) * 1e6 AS BIGINT)) < ?"
        )
        parameters.append(silent_since)

    def mark() -> int:
        found = con.execute(f"SELECT count(*) FROM ingest_runs WHERE {condition}", parameters).fetchone()
        count = int(found[0]) if found else 0
        if count:
            con.execute(
                "UPDATE ingest_runs SET state = 'crashed', error = 'the run stopped before finishing; "
                f"a later run repaired the warehouse' WHERE {condition}",
                parameters,
            )
        return count

    return retry_on_conflict(mark, "marking crashed runs", logger)
