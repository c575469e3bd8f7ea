"""``newsflow status``: what the warehouse holds."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from newsflow.settings import Settings
from warehouse.catalog import LAKE, reader

TABLES = (
    "articles",
    "ingested_files",
    "ingest_runs",
    "article_entities",
    "article_quotes",
    "article_keywords",
)


def _rows(con: Any, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def collect_status(settings: Settings) -> dict[str, Any]:
    with reader(settings) as con:
        existing = {
            row["table_name"]
            for row in _rows(con, f"SELECT table_name FROM duckdb_tables() WHERE database_name = '{LAKE}'")
        }
        counts = {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in TABLES
            if table in existing
        }
        return {
            "data_dir": str(settings.data_dir.resolve()),
            "catalog": settings.catalog if settings.catalog_url is None else "(configured)",
            "tables": counts,
            "sources": _rows(
                con,
                "SELECT source, count(*) AS articles, min(published_at) AS first_published, "
                "max(published_at) AS last_published, max(ingested_at) AS last_ingested "
                "FROM articles GROUP BY source ORDER BY articles DESC",
            ),
            "partitions": _rows(
                con,
                "SELECT CASE WHEN year = '' THEN coalesce(nullif(old_month, ''), 'unknown') "
                "WHEN year = '__HIVE_DEFAULT_PARTITION__' THEN 'unknown' "
                "ELSE year || '-' || lpad(month, 2, '0') END AS published_month, "
                "count(*) AS files, sum(data_file_size_bytes) AS bytes "
                "FROM (SELECT regexp_extract(data_file, '/year=([^/]+)/', 1) AS year, "
                "regexp_extract(data_file, '/month=([^/]+)/', 1) AS month, "
                "regexp_extract(data_file, '/published_month=([^/]+)/', 1) AS old_month, "
                f"data_file_size_bytes FROM ducklake_list_files('{LAKE}', 'articles')) "
                "GROUP BY 1 ORDER BY 1",
            ),
            "last_runs": _rows(
                con,
                "SELECT run_id, state, started_at, duration_seconds, files_seen, files_new, "
                "articles_written, "
                "duplicates, quarantined FROM ingest_runs ORDER BY started_at DESC LIMIT 5",
            ),
            "quarantine": _rows(
                con,
                "SELECT reason, count(*) AS files FROM ingested_files WHERE status = 'quarantined' "
                "GROUP BY reason ORDER BY files DESC, reason",
            ),
            "statuses": _rows(
                con, "SELECT status, count(*) AS files FROM ingested_files GROUP BY status ORDER BY status"
            ),
        }


def _table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    if not rows:
        table.add_column("(none)")
        return table
    for name in rows[0]:
        table.add_column(name)
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row.values()))
    return table


def print_status(report: dict[str, Any], console: Console) -> None:
    console.print(f"[bold]Warehouse[/] {report['data_dir']}", highlight=False)
    console.print(
        _table("Tables", [{"table": name, "rows": count} for name, count in report["tables"].items()])
    )
    console.print(_table("Sources", report["sources"]))
    console.print(_table("Files by status", report["statuses"]))
    console.print(_table("Partitions", report["partitions"]))
    console.print(_table("Last runs", report["last_runs"]))
    console.print(_table("Quarantine", report["quarantine"]))
