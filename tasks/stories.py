"""Group each batch's new articles into stories with the near-duplicates already in the warehouse."""

from __future__ import annotations

import duckdb
import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.timing import timed
from tasks import near_duplicates as nd
from tasks.near_duplicates import (
    STORED_ARTICLES_SCHEMA,
    STORED_PAIRS_SCHEMA,
    StoredCandidates,
    assign_story_ids_among,
    needs_sketch,
    new_anchors,
    signature_rows,
)
from warehouse.catalog import registered

_BOILERPLATE_SQL = """
SELECT shingle_hash FROM article_signatures
WHERE slot < $anchors AND shingle_hash IN (SELECT shingle_hash FROM incoming_anchors)
GROUP BY shingle_hash
HAVING count(*) > $bucket
"""

_PAIRS_SQL = """
SELECT n.u, s.article_id, count(*) AS shared, any_value(s.story_id) AS story_id,
       any_value(s.n_shingles) AS n_shingles
FROM incoming_anchors n JOIN article_signatures s USING (shingle_hash)
WHERE s.slot < $anchors
GROUP BY n.u, s.article_id
HAVING count(*) >= $shared
"""

_ARTICLES_SQL = """
SELECT article_id, any_value(story_id) AS story_id, any_value(published_at) AS published_at,
       any_value(n_shingles) AS n_shingles, count(*) AS sketch_length, max(shingle_hash) AS sketch_max,
       list(shingle_hash ORDER BY slot) AS sketch
FROM article_signatures
WHERE article_id IN (SELECT article_id FROM wanted)
GROUP BY article_id
"""


def _query(
    con: duckdb.DuckDBPyConnection, sql: str, parameters: dict[str, int], **frames: pl.DataFrame
) -> pl.DataFrame:
    with registered(con, **frames):
        return con.execute(sql, parameters).pl()


def load_stored_candidates(con: duckdb.DuckDBPyConnection, new: pl.DataFrame) -> StoredCandidates:
    """The stored articles a batch may join, read from ``article_signatures`` with as little as needed.

    DuckDB drops the batch's anchor hashes that are boilerplate among the stored anchors, then counts the
    anchors each new article shares with each stored one. Whole sketches come back only for the stored
    articles whose similarity to a new one the anchors do not settle, and for those with a new one's
    ``article_id`` (an article ingested again); of the others only story and size.

    Args:
        con: a connection with the ``article_signatures`` table.
        new: output of :func:`tasks.near_duplicates.compute_signatures` for the batch.

    Returns:
        What :func:`tasks.near_duplicates.assign_story_ids_among` needs: the story ids it gives are those
        :func:`tasks.near_duplicates.assign_story_ids` gives with every stored row.
    """
    anchors = new_anchors(new)
    limits = {"anchors": nd.NUM_ANCHORS, "bucket": nd.MAX_BUCKET, "shared": nd.MIN_SHARED}
    boilerplate = _query(
        con,
        _BOILERPLATE_SQL,
        {"anchors": limits["anchors"], "bucket": limits["bucket"]},
        incoming_anchors=anchors,
    )
    anchors = anchors.join(boilerplate, on="shingle_hash", how="anti")
    matched = _query(
        con, _PAIRS_SQL, {"anchors": limits["anchors"], "shared": limits["shared"]}, incoming_anchors=anchors
    )
    pairs = matched.select(list(STORED_PAIRS_SCHEMA)).cast(STORED_PAIRS_SCHEMA)  # type: ignore[arg-type]
    settled = matched.select("article_id", "story_id", "n_shingles").unique("article_id")
    wanted = pl.concat([needs_sketch(new, pairs, settled), new.select("article_id")]).unique()
    detailed = _query(con, _ARTICLES_SQL, {}, wanted=wanted)
    articles = pl.concat(
        [detailed, settled.join(detailed, on="article_id", how="anti")], how="diagonal_relaxed"
    ).select([pl.col(name).cast(dtype) for name, dtype in STORED_ARTICLES_SCHEMA.items()])
    return StoredCandidates(pairs, articles)


def group_stories(
    con: duckdb.DuckDBPyConnection, articles: pl.DataFrame, signatures: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``articles`` with ``story_id``, and the ``article_signatures`` rows to store for them."""
    if signatures.is_empty():
        return articles.with_columns(pl.col("article_id").alias("story_id")), signature_rows(
            signatures, signatures.select("article_id", pl.col("article_id").alias("story_id"))
        )
    mine = signatures.filter(pl.col("article_id").is_in(articles["article_id"].implode()))
    with timed("stories.candidates"):
        candidates = load_stored_candidates(con, mine)
    with timed("stories.assign"):
        stories = assign_story_ids_among(mine, candidates)
    grouped = articles.drop("story_id", strict=False).join(stories, on="article_id", how="left")
    grouped = grouped.with_columns(pl.coalesce("story_id", "article_id").alias("story_id"))
    return grouped, signature_rows(mine, stories)


@task(name="group_stories", cache_policy=NO_CACHE)
def group_into_stories(
    con: duckdb.DuckDBPyConnection, articles: pl.DataFrame, signatures: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    with timed("stories"):
        return group_stories(con, articles, signatures)
