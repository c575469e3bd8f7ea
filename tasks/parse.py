"""Turn fetched files into article records, whatever their format; every file ends in at least one row."""

from __future__ import annotations

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.timing import timed
from tasks.formats import explode_records
from tasks.identify import stable_article_id
from tasks.schema import RECORDS_SCHEMA, conform

FILE_COLUMNS = ("source", "size_bytes", "mtime_ns", "file_sha256", "etag", "last_modified", "change")


def parse_files(files: pl.DataFrame, field_map: dict[str, str] | None = None) -> pl.DataFrame:
    """Records for every fetched file, carrying the file's ``source, size_bytes, mtime_ns, file_sha256``.

    A file that yields no record at all gets one quarantined row, so nothing read goes unaccounted. Each
    record carries the ``article_id`` its record key gives it; a file read again with the same bytes as last
    time (``change == 'touched'``, same hash) yields nothing.
    """
    files = files.filter(~same_bytes_as_before(files))
    records = explode_records(files, field_map=field_map)
    silent = files.join(records.select("file_uri").unique(), left_on="uri", right_on="file_uri", how="anti")
    if not silent.is_empty():
        placeholders = conform(
            silent.select(
                pl.col("uri").alias("file_uri"),
                "uri",
                pl.col("uri").alias("record_key"),
                "sha256",
                pl.coalesce("quarantine_reason", pl.lit("no article found in the file")).alias(
                    "quarantine_reason"
                ),
            ),
            RECORDS_SCHEMA,
        )
        records = pl.concat([conform(records, RECORDS_SCHEMA), placeholders])
    file_columns = file_state(files).with_columns(files["source"], files["change"])
    return (
        records.join(file_columns, on="file_uri", how="left", maintain_order="left")
        .with_columns(record_key=scoped_record_key())
        .with_columns(
            pl.col("record_key").map_elements(stable_article_id, return_dtype=pl.String()).alias("article_id")
        )
    )


def scoped_record_key() -> pl.Expr:
    """A JSON record's own id (``7``, ``a1b2``) as ``json:SOURCE#ID``; every other key as it is.

    Ids in API dumps are unique only within the API that wrote them: two sources' record ``7`` are two
    articles, while a source's record ``7`` dumped again (in any file) is the same article. Keys that are
    URLs or file URIs (with ``://``) are global already, and feed entry ids are scoped by their feed.
    """
    bare_id = (pl.col("raw_format") == "json") & ~pl.col("record_key").str.contains("://", literal=True)
    return (
        pl.when(bare_id)
        .then(
            pl.concat_str(pl.lit("json:"), pl.col("source").fill_null(""), pl.lit("#"), pl.col("record_key"))
        )
        .otherwise(pl.col("record_key"))
    )


def same_bytes_as_before(files: pl.DataFrame) -> pl.Expr:
    """Files whose mtime moved but whose content hash is what the manifest already holds."""
    if "known_sha256" not in files.columns:
        return pl.lit(False)
    return ((pl.col("change") == "touched") & (pl.col("sha256") == pl.col("known_sha256"))).fill_null(False)


def file_state(files: pl.DataFrame) -> pl.DataFrame:
    """What the manifest records of each fetched file: ``file_uri, size_bytes, mtime_ns, file_sha256, etag,
    last_modified`` (the validators are NULL for sources without them)."""
    return files.select(
        pl.col("uri").alias("file_uri"),
        "size_bytes",
        "mtime_ns",
        pl.col("sha256").alias("file_sha256"),
        *(
            (pl.col(name) if name in files.columns else pl.lit(None, pl.String())).alias(name)
            for name in ("etag", "last_modified")
        ),
    )


@task(name="parse_articles", cache_policy=NO_CACHE)
def parse_articles(files: pl.DataFrame, field_map: dict[str, str] | None = None) -> pl.DataFrame:
    with timed("parse"):
        return parse_files(files, field_map)
