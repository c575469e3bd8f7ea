"""The reprocess flow: rebuild articles from their recorded raw files after the pipeline changed."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import unquote, urlparse

import polars as pl
from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from flows.common import (
    RunState,
    batches,
    publish_run_artifacts,
    side_table_rows,
    stamped_articles,
    start_loading_models,
    utc_now,
)
from newsflow import timing
from newsflow.settings import load_settings
from tasks.clean import clean_articles
from tasks.enrich import enrich_articles
from tasks.fetch import fetch_files
from tasks.parse import parse_articles
from tasks.register import register_batch
from tasks.search import refresh_search_index
from tasks.stories import group_into_stories
from tasks.write import write_partitions
from warehouse.catalog import connect_writer
from warehouse.lock import writer_lock
from warehouse.register import article_table_root

SELECTION_SQL = """
SELECT f.file_uri, f.record_key, f.sha256, f.article_id, any_value(f.size_bytes) AS size_bytes,
       max(f.mtime_ns) AS mtime_ns, any_value(a.source) AS source
FROM ingested_files AS f
JOIN articles AS a ON a.article_id = f.article_id AND a.content_hash = f.sha256
WHERE f.status = 'ingested'
  AND f.record_key IS NOT NULL
  AND (CAST(? AS VARCHAR) IS NULL OR a.source = ?)
  AND (CAST(? AS TIMESTAMP) IS NULL OR coalesce(a.published_at, a.ingested_at) >= ?)
  AND (CAST(? AS TIMESTAMP) IS NULL OR coalesce(a.published_at, a.ingested_at) < ?)
GROUP BY ALL
"""


def _listing(selected: pl.DataFrame) -> pl.DataFrame:
    """The selected articles' files as a listing, with the source and file time they were ingested with
    (an article's ``source`` and a ``published_at`` taken from the file's time come from these)."""
    files = selected.group_by("file_uri", maintain_order=True).agg(
        pl.col("size_bytes").max(), pl.col("mtime_ns").max(), pl.col("source").drop_nulls().first()
    )
    return files.select(
        pl.col("file_uri").alias("uri"),
        pl.col("file_uri")
        .map_elements(
            lambda uri: unquote(urlparse(uri).path) if uri.startswith("file://") else uri, pl.String()
        )
        .alias("path"),
        pl.col("size_bytes").fill_null(0),
        pl.col("mtime_ns").fill_null(0).cast(pl.Int64()),
        pl.lit("new").alias("change"),
        pl.col("source").cast(pl.String()),
    )


@flow(name="reprocess", task_runner=cast(Any, ThreadPoolTaskRunner(max_workers=4)))
def reprocess(
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    data_dir: str | None = None,
    batch_size: int | None = None,
) -> dict[str, Any]:
    """Rebuild cleaned and enriched rows from the raw files they came from, with today's pipeline.

    Each selected article's raw file is read again from its recorded location; only records whose bytes
    still hash to what was ingested are rebuilt (others are reported, never guessed). Old rows and their
    entity, quote, keyword, sketch and anchor rows are replaced in the same transaction as the new ones.

    Args:
        source: Only articles of this source; default: every source.
        since: Only articles published (else ingested) at or after this time.
        until: Only articles published (else ingested) before this time.
        data_dir: The warehouse's data directory; default: ``NEWSFLOW_DATA_DIR`` or ``./data``.
        batch_size: Files per batch; default: the configured batch size.

    Returns:
        ``run_id``, ``state``, how many articles were selected, rebuilt and left as they were.
    """
    logger = get_run_logger()
    settings = load_settings(data_dir=data_dir, batch_size=batch_size)
    start_loading_models(settings, logger)
    run = RunState(
        run_id=f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}",
        flow_run_id=None,
        source=f"reprocess {source or 'all sources'}",
        started_at=datetime.now(UTC).replace(tzinfo=None),
    )
    started = time.perf_counter()
    timing.take()
    rebuilt = 0
    with writer_lock(settings.lock_path, settings.lock_timeout_seconds):
        con = connect_writer(settings)
        try:
            selected = con.execute(SELECTION_SQL, [source, source, since, since, until, until]).pl()
            wanted = selected.select("record_key", "sha256", "article_id")
            for number, batch in enumerate(batches(_listing(selected), settings.batch_size)):
                fetched = fetch_files(batch, settings.max_file_bytes)
                cleaned = clean_articles(parse_articles(fetched, settings.field_map))
                same = cleaned.join(wanted, on=["record_key", "sha256", "article_id"], how="semi")
                enriched = enrich_articles(same, settings.languages, settings.enrichment)
                fresh = enriched.articles.filter(pl.col("quarantine_reason").is_null())
                grouped, story_rows = group_into_stories(
                    con, fresh, enriched.signatures, settings.anchor_repeats
                )
                articles = stamped_articles(grouped, run.run_id, utc_now())
                files = write_partitions(
                    articles, article_table_root(settings.lake_path), f"{run.run_id}-{number:05d}"
                )
                rebuilt += articles.height
                run.counts.articles_written = rebuilt
                register_batch(
                    con,
                    article_files=files,
                    replaced_article_ids=articles["article_id"].to_list(),
                    tables=side_table_rows(enriched, articles, story_rows),
                    refreshed_files=None,
                    run_row=run.row("running"),
                )
            run.counts.files_seen = selected["file_uri"].n_unique()
            run.stage_seconds = timing.take()
            register_batch(
                con,
                article_files=[],
                replaced_article_ids=[],
                tables={},
                refreshed_files=None,
                run_row=run.row("completed"),
            )
        finally:
            con.close()
        if rebuilt and settings.search_index:
            refresh_search_index(settings)
    publish_run_artifacts(run, "completed", time.perf_counter() - started)
    summary = {
        "run_id": run.run_id,
        "state": "completed",
        "selected": selected.height,
        "rebuilt": rebuilt,
        "unchanged_or_missing": selected.height - rebuilt,
    }
    logger.info(
        "Reprocessed %d of %d selected articles in %.1f s (%d raw files missing or changed)",
        rebuilt,
        selected.height,
        time.perf_counter() - started,
        selected.height - rebuilt,
    )
    return summary


if __name__ == "__main__":
    reprocess()
