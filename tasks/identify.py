"""Stable ``article_id``s, and what each record becomes: an article, a duplicate, or nothing new."""

from __future__ import annotations

import hashlib

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.timing import timed

KNOWN_HASHES_SCHEMA: dict[str, pl.DataType] = {"content_hash": pl.String(), "article_id": pl.String()}
KNOWN_RECORDS_SCHEMA: dict[str, pl.DataType] = {
    "record_key": pl.String(),
    "sha256": pl.String(),
    "article_id": pl.String(),
    "status": pl.String(),
}


def stable_article_id(record_key: str) -> str:
    """The same id for the same record on every run: 16 hex digits of the key's SHA-256."""
    return hashlib.sha256(record_key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def assign_identities(
    records: pl.DataFrame, known_hashes: pl.DataFrame, known_records: pl.DataFrame
) -> pl.DataFrame:
    """Add ``article_id``, ``status``, ``reason`` and ``replaces_previous`` to parsed records.

    - a sidecar (metadata merged into its article) is ``skipped``;
    - a record with a ``quarantine_reason`` is ``quarantined``;
    - a record already ingested with the same content is ``unchanged`` (nothing to write or record);
    - content byte-for-byte equal to an article already in the warehouse, or to an earlier record of this
      batch, is a ``duplicate`` and carries that article's id;
    - a record whose key an earlier record of this batch has, with other content (a feed listing one
      entry twice), is ``skipped``: the first one is the article;
    - anything else is ``ingested`` under the id of its record key; ``replaces_previous`` marks a new
      version of a record ingested before, whose old rows must go.
    """
    own_id = (
        pl.col("article_id")
        if "article_id" in records.columns
        else pl.col("record_key").map_elements(stable_article_id, return_dtype=pl.String())
    )
    with_ids = records.with_columns(own_id.alias("own_article_id"), pl.int_range(pl.len()).alias("_order"))
    if "article_id" in with_ids.columns:
        with_ids = with_ids.drop("article_id")
    previous = known_records.select(
        "record_key",
        pl.col("sha256").alias("previous_sha256"),
        pl.col("status").alias("previous_status"),
    )
    original = known_hashes.unique("content_hash", keep="first").select(
        pl.col("content_hash").alias("sha256"), pl.col("article_id").alias("original_article_id")
    )
    joined = with_ids.join(previous, on="record_key", how="left").join(original, on="sha256", how="left")
    candidates = joined.filter(
        pl.col("quarantine_reason").is_null() & (pl.col("raw_format") != "sidecar").fill_null(True)
    )
    first_in_batch = (
        candidates.filter(pl.col("original_article_id").is_null())
        .group_by("sha256")
        .agg(
            pl.col("own_article_id").sort_by("_order").first().alias("batch_article_id"),
            pl.col("_order").min().alias("batch_first_order"),
        )
    )
    first_of_record = candidates.group_by("record_key").agg(
        pl.col("_order").min().alias("record_first_order")
    )
    joined = joined.join(first_in_batch, on="sha256", how="left").join(
        first_of_record, on="record_key", how="left"
    )
    unchanged = pl.col("previous_sha256").is_not_null() & (pl.col("previous_sha256") == pl.col("sha256"))
    sidecar = pl.col("raw_format") == "sidecar"
    quarantined = pl.col("quarantine_reason").is_not_null()
    duplicate_of_warehouse = pl.col("original_article_id").is_not_null()
    duplicate_in_batch = pl.col("batch_first_order") != pl.col("_order")
    repeated_record = pl.col("record_first_order") != pl.col("_order")
    return (
        joined.with_columns(
            pl.when(sidecar)
            .then(pl.lit("skipped"))
            .when(quarantined)
            .then(pl.lit("quarantined"))
            .when(unchanged)
            .then(pl.lit("unchanged"))
            .when(duplicate_of_warehouse | duplicate_in_batch)
            .then(pl.lit("duplicate"))
            .when(repeated_record)
            .then(pl.lit("skipped"))
            .otherwise(pl.lit("ingested"))
            .alias("status"),
        )
        .with_columns(
            pl.when(pl.col("status").is_in(["quarantined", "skipped"]))
            .then(pl.lit(None, dtype=pl.String()))
            .when(pl.col("status") == "duplicate")
            .then(pl.coalesce("original_article_id", "batch_article_id"))
            .otherwise(pl.col("own_article_id"))
            .alias("article_id"),
            pl.when(sidecar | quarantined)
            .then(pl.col("quarantine_reason"))
            .when(pl.col("status") == "skipped")
            .then(pl.lit("the same entry, with other content, comes earlier in this batch"))
            .when(pl.col("status") == "duplicate")
            .then(pl.lit("same content as an article already ingested"))
            .alias("reason"),
            (
                pl.col("previous_sha256").is_not_null()
                & (pl.col("previous_status") == "ingested")
                & (pl.col("status") != "unchanged")
            ).alias("replaces_previous"),
        )
        .sort("_order")
        .drop(
            "_order",
            "previous_sha256",
            "previous_status",
            "original_article_id",
            "batch_article_id",
            "batch_first_order",
            "record_first_order",
        )
    )


@task(name="identify_articles", cache_policy=NO_CACHE)
def identify_articles(
    records: pl.DataFrame, known_hashes: pl.DataFrame, known_records: pl.DataFrame
) -> pl.DataFrame:
    with timed("identify"):
        return assign_identities(records, known_hashes, known_records)
