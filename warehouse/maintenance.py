"""Lake upkeep: merge small files, expire old snapshots, delete files nothing references."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

from newsflow.faults import kill_point
from warehouse.catalog import LAKE


@dataclass(frozen=True)
class LakeFiles:
    data_files: int
    delete_files: int
    bytes: int


@dataclass(frozen=True)
class MaintenanceReport:
    before: LakeFiles
    after: LakeFiles
    snapshots_expired: int
    files_deleted: int


def count_files(con: duckdb.DuckDBPyConnection) -> LakeFiles:
    """Data and delete files of the current snapshot, over every table of the lake."""
    data_files = delete_files = size = 0
    for (table,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [LAKE]
    ).fetchall():
        row = con.execute(
            "SELECT count(*), count(delete_file), coalesce(sum(data_file_size_bytes), 0) "
            f"FROM ducklake_list_files('{LAKE}', ?)",
            [table],
        ).fetchone()
        if row:
            data_files += int(row[0])
            delete_files += int(row[1])
            size += int(row[2])
    return LakeFiles(data_files, delete_files, size)


def maintain_lake(con: duckdb.DuckDBPyConnection, retention: timedelta) -> MaintenanceReport:
    """Compact, expire and clean the lake; what it found and left.

    Inlined rows are flushed to Parquet, adjacent small files merged (DuckLake's own compaction, which keeps
    query results identical), snapshots older than ``retention`` expired, and files that only expired
    snapshots referenced deleted, together with orphans.
    """
    before = count_files(con)
    con.execute(f"CALL ducklake_flush_inlined_data('{LAKE}')")
    con.execute(f"CALL ducklake_merge_adjacent_files('{LAKE}')")
    kill_point("maintenance-merged")
    cutoff = datetime.now(UTC) - retention
    expired = con.execute(f"CALL ducklake_expire_snapshots('{LAKE}', older_than => ?)", [cutoff]).fetchall()
    kill_point("maintenance-expired")
    cleaned = con.execute(f"CALL ducklake_cleanup_old_files('{LAKE}', older_than => ?)", [cutoff]).fetchall()
    orphans = con.execute(
        f"CALL ducklake_delete_orphaned_files('{LAKE}', older_than => ?)", [cutoff]
    ).fetchall()
    return MaintenanceReport(
        before=before,
        after=count_files(con),
        snapshots_expired=len(expired),
        files_deleted=len(cleaned) + len(orphans),
    )
