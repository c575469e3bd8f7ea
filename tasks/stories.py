"""Group each batch's new articles into stories with the near-duplicates already in the warehouse."""

from __future__ import annotations

import duckdb
import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.timing import timed
from tasks.near_duplicates import NUM_ANCHORS, assign_story_ids, signature_rows
from warehouse.register import load_candidate_signatures


def group_stories(
    con: duckdb.DuckDBPyConnection, articles: pl.DataFrame, signatures: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``articles`` with ``story_id``, and the ``article_signatures`` rows to store for them."""
    if signatures.is_empty():
        return articles.with_columns(pl.col("article_id").alias("story_id")), signature_rows(
            signatures, signatures.select("article_id", pl.col("article_id").alias("story_id"))
        )
    mine = signatures.filter(pl.col("article_id").is_in(articles["article_id"].implode()))
    provisional = signature_rows(mine, mine.select("article_id", pl.col("article_id").alias("story_id")))
    existing = load_candidate_signatures(con, provisional, NUM_ANCHORS)
    stories = assign_story_ids(mine, existing)
    grouped = articles.drop("story_id", strict=False).join(stories, on="article_id", how="left")
    grouped = grouped.with_columns(pl.coalesce("story_id", "article_id").alias("story_id"))
    return grouped, signature_rows(mine, stories)


@task(name="group_stories", cache_policy=NO_CACHE)
def group_into_stories(
    con: duckdb.DuckDBPyConnection, articles: pl.DataFrame, signatures: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    with timed("stories"):
        return group_stories(con, articles, signatures)
