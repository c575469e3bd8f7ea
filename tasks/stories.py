"""Group each batch's new articles into stories with the near-duplicates already in the warehouse."""

from __future__ import annotations

import duckdb
import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.timing import timed
from tasks import near_duplicates as nd
from tasks.near_duplicates import (
    SKETCH_ROWS_SCHEMA,
    STORED_PAIRS_SCHEMA,
    StoredCandidates,
    anchor_rows,
    batch_groups,
    needs_sketch,
    new_anchors,
    sketch_rows,
    stories_and_sketches,
)
from warehouse.catalog import registered

_BOILERPLATE_SQL = """
SELECT shingle_hash FROM article_anchors
WHERE shingle_hash IN (SELECT shingle_hash FROM incoming_anchors)
GROUP BY shingle_hash
HAVING count(*) > $bucket
"""

_PAIRS_SQL = """
SELECT n.u, s.article_id, count(*) AS shared, any_value(s.story_id) AS story_id,
       any_value(s.n_shingles) AS n_shingles
FROM incoming_anchors n JOIN article_anchors s USING (shingle_hash)
GROUP BY n.u, s.article_id
HAVING count(*) >= $shared
"""

_STORED_IDS_SQL = """
SELECT article_id FROM article_sketches WHERE article_id IN (SELECT article_id FROM wanted)
"""

_ARTICLES_SQL = """
SELECT * FROM article_sketches WHERE article_id IN (SELECT article_id FROM stored)
"""


def _query(
    con: duckdb.DuckDBPyConnection, sql: str, parameters: dict[str, int], **frames: pl.DataFrame
) -> pl.DataFrame:
    with registered(con, **frames):
        return con.execute(sql, parameters).pl()


def load_stored_candidates(con: duckdb.DuckDBPyConnection, new: pl.DataFrame) -> StoredCandidates:
    """The stored articles a batch may join, read from ``article_anchors`` and ``article_sketches``.

    DuckDB drops the batch's anchor hashes that are boilerplate among the stored anchors, then counts the
    anchors each new article shares with each stored one. Whole sketches come back only for the stored
    articles whose similarity to a new one the anchors do not settle (:func:`needs_sketch`), and for those
    with a new one's ``article_id`` (an article ingested again); of the others only story and size.

    Args:
        con: a connection with the ``article_anchors`` and ``article_sketches`` tables.
        new: output of :func:`tasks.near_duplicates.compute_signatures` for the batch.

    Returns:
        What :func:`tasks.near_duplicates.assign_story_ids_among` needs: the story ids it gives are those
        :func:`tasks.near_duplicates.assign_story_ids` gives with every stored row.
    """
    anchors = new_anchors(new)
    boilerplate = _query(con, _BOILERPLATE_SQL, {"bucket": nd.MAX_BUCKET}, incoming_anchors=anchors)
    anchors = anchors.join(boilerplate, on="shingle_hash", how="anti")
    matched = _query(con, _PAIRS_SQL, {"shared": nd.MIN_SHARED}, incoming_anchors=anchors)
    pairs = matched.select(list(STORED_PAIRS_SCHEMA)).cast(STORED_PAIRS_SCHEMA)  # type: ignore[arg-type]
    settled = matched.select("article_id", "story_id", "n_shingles").unique("article_id")
    groups = batch_groups(new)
    wanted = pl.concat([needs_sketch(new, pairs, settled, groups), new.select("article_id")]).unique()
    detailed = _stored_sketches(con, wanted)
    articles = pl.concat(
        [detailed, settled.join(detailed, on="article_id", how="anti")], how="diagonal_relaxed"
    ).select([pl.col(name).cast(dtype) for name, dtype in SKETCH_ROWS_SCHEMA.items()])
    return StoredCandidates(pairs, articles, groups)


def _stored_sketches(con: duckdb.DuckDBPyConnection, wanted: pl.DataFrame) -> pl.DataFrame:
    """The ``article_sketches`` rows of the ``wanted`` articles that are stored.

    The ids are looked up first: most of a batch's own articles are not stored yet, and a query for whole
    rows decodes the sketches of every file to find that out (a fifth of the time for the ids alone, at
    222,500 stored articles).
    """
    stored = _query(con, _STORED_IDS_SQL, {}, wanted=wanted)
    if stored.is_empty():
        return pl.DataFrame(schema=SKETCH_ROWS_SCHEMA)
    return _query(con, _ARTICLES_SQL, {}, stored=stored)


def story_tables(sketches: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The ``article_sketches`` and ``article_anchors`` rows to store for rows of ``article_sketches``."""
    return {"article_sketches": sketches, "article_anchors": anchor_rows(sketches)}


def group_stories(
    con: duckdb.DuckDBPyConnection,
    articles: pl.DataFrame,
    signatures: pl.DataFrame,
    anchor_repeats: bool = False,
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    """``articles`` with ``story_id``, and the rows of :func:`story_tables` to store for them.

    Repeats (:func:`tasks.near_duplicates.repeated_articles`) are stored without anchors unless
    ``anchor_repeats``.
    """
    mine = signatures.filter(pl.col("article_id").is_in(articles["article_id"].implode()))
    if mine.is_empty():
        return articles.with_columns(pl.col("article_id").alias("story_id")), story_tables(
            sketch_rows(mine, mine.select("article_id", story_id="article_id"))
        )
    with timed("stories.candidates"):
        candidates = load_stored_candidates(con, mine)
    with timed("stories.assign"):
        stories, sketches = stories_and_sketches(mine, candidates, anchor_repeats=anchor_repeats)
    grouped = articles.drop("story_id", strict=False).join(stories, on="article_id", how="left")
    grouped = grouped.with_columns(pl.coalesce("story_id", "article_id").alias("story_id"))
    return grouped, story_tables(sketches)


@task(name="group_stories", cache_policy=NO_CACHE)
def group_into_stories(
    con: duckdb.DuckDBPyConnection,
    articles: pl.DataFrame,
    signatures: pl.DataFrame,
    anchor_repeats: bool = False,
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    with timed("stories"):
        return group_stories(con, articles, signatures, anchor_repeats)
