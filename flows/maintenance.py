"""The maintenance flow: compaction, snapshot expiry, file cleanup and the search index."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from newsflow.settings import load_settings
from tasks.maintain import compact_lake
from tasks.search import refresh_search_index
from warehouse.catalog import connect_writer
from warehouse.lock import writer_lock


@flow(name="maintenance")
def maintenance(data_dir: str | None = None, retention_days: float | None = None) -> dict[str, Any]:
    """Keep the warehouse small and fast: merge files, expire snapshots, clean up, rebuild search.

    Args:
        data_dir: The warehouse's data directory; default: ``NEWSFLOW_DATA_DIR`` or ``./data``.
        retention_days: Keep snapshots (time travel) this many days; default: the configured retention.

    Returns:
        Files before and after, snapshots expired, files deleted, articles indexed for search.
    """
    logger = get_run_logger()
    settings = load_settings(data_dir=data_dir)
    retention = timedelta(
        days=retention_days if retention_days is not None else settings.snapshot_retention_days
    )
    with writer_lock(
        settings.lock_path,
        settings.lock_timeout_seconds,
        on_wait=lambda holder: logger.info("Waiting for the warehouse writer lock, held by %s", holder),
    ):
        con = connect_writer(settings)
        try:
            report = compact_lake(con, retention)
        finally:
            con.close()
        indexed = refresh_search_index(settings, full=True).articles if settings.search_index else 0
    summary = {**asdict(report), "articles_indexed": indexed}
    create_markdown_artifact(
        key="maintenance-summary",
        markdown=(
            "# newsflow maintenance\n\n"
            "| | data files | delete files | bytes |\n|---|---|---|---|\n"
            + "".join(
                f"| {label} | {files.data_files} | {files.delete_files} | {files.bytes} |\n"
                for label, files in (("before", report.before), ("after", report.after))
            )
            + "\n"
            f"Snapshots expired: {report.snapshots_expired}; files deleted: {report.files_deleted}; "
            f"articles indexed for search: {indexed}.\n"
        ),
        description="What maintenance did",
    )
    logger.info(
        "Maintenance: %d -> %d data files, %d snapshots expired, %d files deleted, %d articles indexed",
        report.before.data_files,
        report.after.data_files,
        report.snapshots_expired,
        report.files_deleted,
        indexed,
    )
    return summary


if __name__ == "__main__":
    maintenance()
