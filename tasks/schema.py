"""Column contracts between the pipeline's steps.

fetch -> parse -> clean -> enrich -> write -> register. Each step takes a Polars DataFrame and returns one;
these schemas say which columns each hand-over carries, so every format and step agrees.
"""

from __future__ import annotations

import polars as pl

FILES_SCHEMA: dict[str, pl.DataType] = {
    "uri": pl.String(),  # file:///abs/path, https://..., s3://bucket/key
    "path": pl.String(),  # what the fetcher opens (local path or remote key); never shown to SQL
    "size_bytes": pl.Int64(),
    "mtime_ns": pl.Int64(),
}
"""A listing: one row per file found by discovery."""

RAW_SCHEMA: dict[str, pl.DataType] = {
    **FILES_SCHEMA,
    "raw": pl.Binary(),  # the file's bytes; NULL when it could not be read
    "sha256": pl.String(),  # hex sha256 of raw
    "quarantine_reason": pl.String(),  # set when reading failed
}
"""Fetched files: a listing plus content."""

RECORDS_SCHEMA: dict[str, pl.DataType] = {
    "file_uri": pl.String(),  # the landing file this record came from
    "uri": pl.String(),  # the article's own location: the file's uri, or a feed entry's link
    "record_key": pl.String(),  # identity across re-runs: file uri, feed entry id, file uri + '#n'
    "raw_format": pl.String(),  # text, html, feed, json
    "sha256": pl.String(),  # hash of the record's raw content (the file's, or the entry's canonical JSON)
    "title": pl.String(),
    "paragraphs": pl.List(pl.String()),  # body paragraphs in order, dateline still on the first
    "caption": pl.String(),
    "related": pl.List(pl.String()),
    "byline": pl.String(),
    "published_at": pl.Datetime("us"),  # naive UTC
    "published_at_source": pl.String(),  # sidecar, feed, html, json, text, dateline, file_mtime
    "description": pl.String(),
    "canonical_url": pl.String(),
    "language_hint": pl.String(),  # declared language (html lang, feed language), ISO 639-1
    "source_hint": pl.String(),  # publisher named by the record itself (json source field)
    "quarantine_reason": pl.String(),  # set when the record must not become an article
}
"""Parsed records: one row per article candidate, whatever the raw format."""

ARTICLE_COLUMNS: dict[str, pl.DataType] = {
    "article_id": pl.String(),
    "source": pl.String(),
    "uri": pl.String(),
    "raw_format": pl.String(),
    "title": pl.String(),
    "caption": pl.String(),
    "dateline": pl.String(),
    "dateline_date": pl.String(),
    "published_at": pl.Datetime("us"),
    "published_at_source": pl.String(),
    "mentioned_dates": pl.List(pl.Date()),
    "language": pl.String(),
    "body": pl.String(),
    "related": pl.List(pl.String()),
    "word_count": pl.Int32(),
    "content_hash": pl.String(),
    "byline": pl.String(),
    "description": pl.String(),
    "canonical_url": pl.String(),
    "story_id": pl.String(),
    "tone": pl.Float64(),
    "tone_positive": pl.Float64(),
    "tone_negative": pl.Float64(),
    "pipeline_version": pl.String(),
    "run_id": pl.String(),
    "ingested_at": pl.Datetime("us"),
}
"""The ``articles`` table, in order."""


def empty_records() -> pl.DataFrame:
    return pl.DataFrame(schema=RECORDS_SCHEMA)


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """``frame`` with exactly ``schema``'s columns, in order: missing ones NULL, types cast."""
    return frame.select(
        [
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in schema.items()
        ]
    )
