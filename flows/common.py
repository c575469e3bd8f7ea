"""What every newsflow flow shares: run bookkeeping, batching and the run's Prefect artifacts."""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

import polars as pl
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from newsflow import PIPELINE_VERSION
from newsflow.settings import Settings
from tasks.enrich import EnrichedBatch, load_models
from tasks.schema import ARTICLE_COLUMNS, conform

_model_loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-models")


def start_loading_models(
    settings: Settings, logger: logging.Logger | logging.LoggerAdapter[Any]
) -> Future[None] | None:
    """Load the enrichment models on a thread of their own while the run sets up, lists and reads files.

    They are built once per process, and the first batch's enrichment would otherwise wait for them (about a
    second: the language model and the gazetteer). When the batch tasks run on Dask, their workers build
    their own and nothing is loaded here. A failure is only logged: the first batch builds the model again
    and fails there with the error.
    """
    if settings.task_runner != "threads":
        return None

    def load() -> None:
        try:
            load_models(settings.languages, settings.enrichment)
        except Exception as error:
            logger.debug("Loading the enrichment models ahead failed: %s: %s", type(error).__name__, error)

    return _model_loader.submit(load)


@dataclass
class RunCounts:
    files_seen: int = 0
    files_new: int = 0
    files_unchanged: int = 0
    articles_written: int = 0
    duplicates: int = 0
    quarantined: int = 0
    skipped: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    by_source: dict[tuple[str, str], int] = field(default_factory=dict)
    entity_mentions: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"entity": pl.String(), "entity_type": pl.String(), "mentions": pl.Int64()}
        )
    )
    """Mentions per entity over the run's new articles, summed batch by batch."""
    quarantined_examples: list[tuple[str, str]] = field(default_factory=list)

    def copy(self) -> RunCounts:
        """A copy to restore when a batch fails, so a failed run's row counts only what it committed."""
        return replace(
            self,
            quarantine_reasons=dict(self.quarantine_reasons),
            by_source=dict(self.by_source),
            quarantined_examples=list(self.quarantined_examples),
        )

    def totals(self) -> dict[str, int]:
        """The counts ``newsflow ingest --json`` prints, and ``skipped``."""
        values = {spec.name: getattr(self, spec.name) for spec in fields(self)}
        return {name: value for name, value in values.items() if isinstance(value, int)}


@contextmanager
def counts_kept_only_on_success(run: RunState) -> Iterator[None]:
    """Put the run's counts back as they were when the block fails, so a failed batch adds nothing."""
    before = run.counts.copy()
    try:
        yield
    except BaseException:
        run.counts = before
        raise


@dataclass
class RunState:
    run_id: str
    flow_run_id: str | None
    source: str
    started_at: datetime
    counts: RunCounts = field(default_factory=RunCounts)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def row(self, state: str, error: str | None = None) -> dict[str, Any]:
        finished = datetime.now(UTC).replace(tzinfo=None) if state != "running" else None
        counts = self.counts.totals()
        return {
            "run_id": self.run_id,
            "flow_run_id": self.flow_run_id,
            "source": self.source,
            "started_at": self.started_at,
            "finished_at": finished,
            "state": state,
            **counts,
            "duration_seconds": (datetime.now(UTC).replace(tzinfo=None) - self.started_at).total_seconds(),
            "pipeline_version": PIPELINE_VERSION,
            "error": error,
            "stage_seconds": json.dumps({k: round(v, 3) for k, v in sorted(self.stage_seconds.items())}),
        }


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def batches(frame: pl.DataFrame, size: int) -> Iterator[pl.DataFrame]:
    for offset in range(0, frame.height, size):
        yield frame.slice(offset, size)


def only_articles(frame: pl.DataFrame, article_ids: pl.Series) -> pl.DataFrame:
    return frame.filter(pl.col("article_id").is_in(article_ids.implode()))


def stamped_articles(frame: pl.DataFrame, run_id: str, ingested_at: datetime) -> pl.DataFrame:
    """Rows for the ``articles`` table: ``frame`` conformed, stamped with the run and pipeline version."""
    return conform(
        frame.with_columns(
            pl.lit(run_id).alias("run_id"),
            pl.lit(ingested_at).alias("ingested_at"),
            pl.lit(PIPELINE_VERSION).alias("pipeline_version"),
        ),
        ARTICLE_COLUMNS,
    )


def side_table_rows(
    enriched: EnrichedBatch, articles: pl.DataFrame, story_rows: Mapping[str, pl.DataFrame]
) -> dict[str, pl.DataFrame]:
    """The entity, quote, keyword, sketch and anchor rows of exactly the articles being written."""
    ids = articles["article_id"]
    return {
        "article_entities": only_articles(enriched.entities, ids),
        "article_quotes": only_articles(enriched.quotes, ids),
        "article_keywords": only_articles(enriched.keywords, ids),
        **story_rows,
    }


def publish_run_artifacts(run: RunState, state: str, duration_seconds: float) -> None:
    """A table of counts per source and status, and a markdown summary people can read at a glance."""
    counts = run.counts
    create_table_artifact(
        key="ingest-counts",
        table=[
            {"source": source, "status": status, "count": number}
            for (source, status), number in sorted(counts.by_source.items())
        ]
        + [{"source": "(all)", "status": name, "count": value} for name, value in counts.totals().items()],
        description=f"newsflow {run.source}: counts per source and status ({state})",
    )
    lines = [
        f"# newsflow run {run.run_id}: {state}",
        "",
        f"- **{counts.articles_written}** new articles from {counts.files_new} new or changed files "
        f"({counts.files_seen} seen, {counts.files_unchanged} unchanged)",
        f"- {counts.duplicates} duplicates, {counts.quarantined} quarantined, {counts.skipped} skipped",
        f"- duration {duration_seconds:.1f} s",
    ]
    top = counts.entity_mentions.sort(
        ["mentions", "entity", "entity_type"], descending=[True, False, False]
    ).head(10)
    if top.height:
        lines += ["", "## Top entities", "", "| entity | type | mentions |", "|---|---|---|"]
        lines += [f"| {_cell(entity)} | {kind} | {number} |" for entity, kind, number in top.iter_rows()]
    if counts.quarantine_reasons:
        lines += ["", "## Quarantined", "", "| reason | files |", "|---|---|"]
        lines += [
            f"| {_cell(reason)} | {number} |" for reason, number in sorted(counts.quarantine_reasons.items())
        ]
        lines += ["", "Examples:", ""]
        lines += [f"- `{_cell(uri)}`: {_cell(reason)}" for uri, reason in counts.quarantined_examples[:20]]
    create_markdown_artifact(
        key="ingest-summary", markdown="\n".join(lines), description=f"newsflow {run.source}: summary"
    )


def _cell(text: str) -> str:
    return html.escape(str(text)).replace("|", "\\|").replace("`", "'").replace("\n", " ")
