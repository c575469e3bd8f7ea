"""The ingest flow: raw article files to DuckLake tables, in batches."""

from __future__ import annotations

import gc
import time
import uuid
from collections import deque
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import duckdb
import polars as pl
from prefect import flow, get_run_logger
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run

from flows.common import (
    RunCounts,
    RunState,
    batches,
    counts_kept_only_on_success,
    only_articles,
    publish_run_artifacts,
    side_table_rows,
    stamped_articles,
    start_loading_models,
    utc_now,
)
from flows.runners import ConfiguredTaskRunner, RunnerKind, choose_task_runner
from newsflow import progress, timing
from newsflow.settings import Settings, load_settings
from tasks.clean import clean_articles
from tasks.discover import diff_against_manifest, discover_files
from tasks.enrich import EnrichedBatch, enrich_articles
from tasks.fetch import fetch_files
from tasks.identify import KNOWN_HASHES_SCHEMA, identify_articles
from tasks.parse import file_state, parse_articles, same_bytes_as_before
from tasks.register import register_batch
from tasks.schema import conform
from tasks.search import finish_search_index
from tasks.sources import redact_url
from tasks.stories import group_into_stories
from tasks.write import write_partitions
from warehouse.catalog import connect_writer, transaction
from warehouse.lock import writer_lock
from warehouse.register import (
    article_table_root,
    load_content_hashes,
    load_file_manifest,
    load_record_manifest,
    mark_abandoned_runs,
    remove_orphan_files,
)
from warehouse.search import SearchIndexFeed, search_index_exists


def batches_ahead(settings: Settings) -> int:
    """How many batches are prepared ahead of the one being written and registered.

    With full enrichment the next batch's parsing and enrichment run on the task threads while this
    thread groups stories, writes and registers (DuckDB work), which is quicker on two cores; basic
    enrichment has little to overlap and keeps its memory low with none.
    """
    if settings.batches_ahead is not None:
        return settings.batches_ahead
    return 1 if settings.enrichment == "full" else 0


INGESTED_FILES_COLUMNS = (
    "uri",
    "file_uri",
    "record_key",
    "source",
    "raw_format",
    "size_bytes",
    "mtime_ns",
    "etag",
    "last_modified",
    "file_sha256",
    "sha256",
    "status",
    "reason",
    "article_id",
)


def _manifest_rows(frame: pl.DataFrame, run_id: str, seen_at: datetime) -> pl.DataFrame:
    return frame.select(
        *[
            pl.col(name) if name in frame.columns else pl.lit(None, pl.String()).alias(name)
            for name in INGESTED_FILES_COLUMNS
        ],
        pl.lit(run_id).alias("run_id"),
        pl.lit(seen_at).alias("seen_at"),
    )


def _skipped_rows(listing: pl.DataFrame, run_id: str, seen_at: datetime) -> pl.DataFrame:
    return _manifest_rows(
        listing.select(
            "uri",
            pl.col("uri").alias("file_uri"),
            pl.col("uri").alias("record_key"),
            "source",
            "size_bytes",
            "mtime_ns",
            pl.lit("skipped").alias("status"),
            pl.col("skip_reason").alias("reason"),
        ),
        run_id,
        seen_at,
    )


def _tally(counts: RunCounts, identified: pl.DataFrame, entities: pl.DataFrame) -> None:
    statuses = dict(identified.group_by("status").len().iter_rows())
    counts.duplicates += statuses.get("duplicate", 0)
    counts.quarantined += statuses.get("quarantined", 0)
    for source, status, number in identified.group_by("source", "status").len().iter_rows():
        key = (source or "", status)
        counts.by_source[key] = counts.by_source.get(key, 0) + number
    quarantined = identified.filter(pl.col("status") == "quarantined")
    for reason, number in quarantined.group_by("reason").len().iter_rows():
        counts.quarantine_reasons[reason] = counts.quarantine_reasons.get(reason, 0) + number
    room = 20 - len(counts.quarantined_examples)
    counts.quarantined_examples += quarantined.select("uri", "reason").head(max(room, 0)).rows()
    counts.entity_mentions = (
        pl.concat(
            [
                counts.entity_mentions,
                entities.select("entity", "entity_type", pl.col("mentions").cast(pl.Int64)),
            ]
        )
        .group_by("entity", "entity_type")
        .agg(pl.col("mentions").sum())
    )


@dataclass
class PendingBatch:
    """A batch read, parsed, cleaned and enriched in futures while earlier batches register."""

    number: int
    fetched: PrefectFuture[pl.DataFrame]
    enriched: PrefectFuture[EnrichedBatch]


def _submit_batch(
    settings: Settings, batch: pl.DataFrame, number: int, field_map: dict[str, str]
) -> PendingBatch:
    fetched = fetch_files.submit(batch, settings.max_file_bytes)
    records = parse_articles.submit(cast(Any, fetched), field_map)
    cleaned = clean_articles.submit(cast(Any, records))
    enriched = enrich_articles.submit(cast(Any, cleaned), settings.languages, settings.enrichment)
    return PendingBatch(number, fetched, enriched)


def _register_prepared(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run: RunState,
    pending: PendingBatch,
    known_hashes: pl.DataFrame,
    pending_rows: pl.DataFrame | None,
    search: SearchIndexFeed | None,
) -> pl.DataFrame:
    """Identify, write and register one prepared batch, and hand what it wrote to the search index.

    The run's counts take the batch's files and articles only when its commit succeeds, with the skipped
    files' rows (``pending_rows``) that go into the first batch's commit.

    Returns the content hashes known afterwards.
    """
    with counts_kept_only_on_success(run):
        fetched = pending.fetched.result()
        enriched = pending.enriched.result()
        unchanged = fetched.filter(same_bytes_as_before(fetched)).height
        run.counts.files_unchanged += unchanged
        run.counts.files_new += fetched.height - unchanged
        records = enriched.articles
        with transaction(con):  # the batch's reads share one catalog snapshot instead of looking one up each
            with timing.timed("identify"):
                known_records = load_record_manifest(con, records["record_key"].unique().to_list())
            identified = identify_articles(records, known_hashes, known_records)
            fresh = identified.filter(pl.col("status") == "ingested")
            _tally(run.counts, identified, only_articles(enriched.entities, fresh["article_id"]))
            grouped, story_rows = group_into_stories(con, fresh, enriched.signatures, settings.anchor_repeats)
        ingested_at = utc_now()
        articles = stamped_articles(grouped, run.run_id, ingested_at)
        files = write_partitions(
            articles, article_table_root(settings.lake_path), f"{run.run_id}-{pending.number:05d}"
        )
        manifest = _manifest_rows(identified.filter(pl.col("status") != "unchanged"), run.run_id, ingested_at)
        if pending_rows is not None:
            manifest = pl.concat([pending_rows, manifest], how="vertical_relaxed")
            _count_skipped(run, pending_rows)
        run.counts.articles_written += articles.height
        register_batch(
            con,
            article_files=files,
            replaced_article_ids=identified.filter(pl.col("replaces_previous"))["article_id"]
            .unique()
            .to_list(),
            tables={"ingested_files": manifest, **side_table_rows(enriched, articles, story_rows)},
            refreshed_files=file_state(
                fetched.filter((pl.col("change") != "new") & pl.col("quarantine_reason").is_null())
            ),
            run_row=run.row("running"),
        )
        if search is not None:
            search.add(articles)
        return pl.concat(
            [known_hashes, articles.select("content_hash", "article_id")], how="vertical_relaxed"
        )


def _count_skipped(run: RunState, skipped_rows: pl.DataFrame) -> None:
    run.counts.skipped += skipped_rows.height
    run.counts.files_new += skipped_rows.height


def _report_progress(logger: Any, run: RunState, settings: Settings, total: int, number: int) -> None:
    done = min((number + 1) * settings.batch_size, total)
    progress.report(done, total)
    logger.info(
        "Batch %d: %d/%d files, %d articles so far", number + 1, done, total, run.counts.articles_written
    )


def _writer_guard(settings: Settings, logger: Any) -> AbstractContextManager[Any]:
    """The run's writer lock: the local ``flock``, or none for a shared catalog.

    Writers of a shared (PostgreSQL) catalog may run on several machines, which no local lock reaches;
    DuckLake's conflict detection keeps them apart, with each conflicting commit retried and repairs
    limited to what is older than ``writer_grace_seconds``.
    """
    if settings.catalog_is_shared:
        return nullcontext()
    return writer_lock(
        settings.lock_path,
        settings.lock_timeout_seconds,
        on_wait=lambda holder: logger.info("Waiting for the warehouse writer lock, held by %s", holder),
    )


@flow(name="ingest", task_runner=cast(Any, ConfiguredTaskRunner()))
def ingest(
    sources: list[str] | None = None,
    source_name: str | None = None,
    data_dir: str | None = None,
    batch_size: int | None = None,
    field_map: dict[str, str] | None = None,
    task_runner: RunnerKind | None = None,
    dask_address: str | None = None,
) -> dict[str, Any]:
    """Ingest raw article files into the warehouse.

    Args:
        sources: Files, folders, globs or URLs (``file://``, ``http(s)://``, ``s3://`` and other fsspec
            URLs) to read; default: the configured landing folder.
        source_name: The ``source`` of every article; default: each SOURCE's folder name.
        data_dir: The warehouse's data directory; default: ``NEWSFLOW_DATA_DIR`` or ``./data``.
        batch_size: Files per batch task run; default: the configured batch size.
        field_map: For JSON dumps, our column -> their field (dotted paths allowed), on top of the
            configured ``field_map``.
        task_runner: Where the batch tasks (fetch, parse, clean, enrich) run: ``threads`` in this process
            or ``dask``; default: ``NEWSFLOW_TASK_RUNNER`` or ``threads``. Writing and registering
            always happen in this process.
        dask_address: The Dask scheduler for ``dask``; default: ``NEWSFLOW_DASK_ADDRESS``, else a local
            cluster with a worker process per core.

    Returns:
        The run's summary: ``run_id``, ``state`` and the counts that ``newsflow ingest --json`` prints.
    """
    gc.freeze()  # what imports made lives as long as the process: spare the collector from walking it
    logger = get_run_logger()
    settings = load_settings(
        data_dir=data_dir, batch_size=batch_size, task_runner=task_runner, dask_address=dask_address
    )
    logger.info("Batch tasks run on %s", choose_task_runner(settings))
    start_loading_models(settings, logger)
    chosen = sources or [str(settings.landing_dir)]
    mapping = {**settings.field_map, **(field_map or {})}
    run = RunState(
        run_id=f"{utc_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}",
        flow_run_id=str(flow_run.get_id()) if flow_run.get_id() else None,
        source=source_name or ", ".join(redact_url(source) for source in chosen),
        started_at=utc_now(),
    )
    started = time.perf_counter()
    timing.take()
    with _writer_guard(settings, logger):
        with timing.timed("setup"):
            con = connect_writer(settings, logger)
        search: SearchIndexFeed | None = None
        try:
            grace_start = (
                utc_now() - timedelta(seconds=settings.writer_grace_seconds)
                if settings.catalog_is_shared
                else None
            )
            with timing.timed("setup"):
                abandoned = mark_abandoned_runs(con, grace_start, logger)
                orphans = remove_orphan_files(con, settings.lake_path, grace_start, logger)
            if abandoned or orphans:
                logger.info(
                    "Repaired after an interrupted run: %d run(s), %d orphan file(s)", abandoned, len(orphans)
                )
            listing = discover_files(chosen, source_name)
            with timing.timed("setup"):
                manifest = load_file_manifest(con)
                known_hashes = conform(load_content_hashes(con), KNOWN_HASHES_SCHEMA)
            plan = diff_against_manifest(listing, manifest)
            counts = run.counts
            counts.files_seen = plan.height
            counts.files_unchanged = plan.filter(pl.col("change") == "unchanged").height
            newly_skipped = plan.filter(
                pl.col("skip_reason").is_not_null() & (pl.col("change") != "unchanged")
            )
            pending: pl.DataFrame | None = _skipped_rows(newly_skipped, run.run_id, utc_now())
            todo = plan.filter(pl.col("skip_reason").is_null() & (pl.col("change") != "unchanged"))
            progress.report(0, todo.height)
            todo_batches = list(batches(todo, settings.batch_size))
            in_flight: deque[PendingBatch] = deque()
            ahead = batches_ahead(settings)
            if settings.search_index:
                search = SearchIndexFeed(settings)
            for number, batch in enumerate(todo_batches):
                in_flight.append(_submit_batch(settings, batch, number, mapping))
                if len(in_flight) <= ahead:
                    continue
                known_hashes = _register_prepared(
                    con, settings, run, in_flight.popleft(), known_hashes, pending, search
                )
                pending = None
                _report_progress(logger, run, settings, todo.height, number - ahead)
            while in_flight:
                current = in_flight.popleft()
                known_hashes = _register_prepared(con, settings, run, current, known_hashes, pending, search)
                pending = None
                _report_progress(logger, run, settings, todo.height, current.number)
            if search is not None and (run.counts.articles_written or search_index_exists(settings)):
                refresh = finish_search_index(search)
                logger.info(
                    "Search index %s: %d articles, %d added, %d removed",
                    "updated" if refresh.incremental else "rebuilt",
                    refresh.articles,
                    refresh.added,
                    refresh.removed,
                )
            run.stage_seconds = timing.take()
            if pending is not None:
                _count_skipped(run, pending)
            register_batch(
                con,
                article_files=[],
                replaced_article_ids=[],
                tables={"ingested_files": pending} if pending is not None else {},
                refreshed_files=None,
                run_row=run.row("completed"),
            )
        except Exception as error:
            register_batch(
                con,
                article_files=[],
                replaced_article_ids=[],
                tables={},
                refreshed_files=None,
                run_row=run.row("failed", error=f"{type(error).__name__}: {error}"),
            )
            publish_run_artifacts(run, "failed", time.perf_counter() - started)
            raise
        finally:
            if search is not None:
                search.close()
            con.close()
    publish_run_artifacts(run, "completed", time.perf_counter() - started)
    logger.info(
        "Ingested %d articles from %d new files "
        "(%d unchanged, %d duplicates, %d quarantined, %d skipped) in %.1f s",
        run.counts.articles_written,
        run.counts.files_new,
        run.counts.files_unchanged,
        run.counts.duplicates,
        run.counts.quarantined,
        run.counts.skipped,
        time.perf_counter() - started,
    )
    return {"run_id": run.run_id, "state": "completed", **run.counts.totals()}


if __name__ == "__main__":
    ingest()
