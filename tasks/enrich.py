"""Enrichment: what each article is about, in columns and side tables."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.timing import timed
from tasks.language import detect_languages


@dataclass(frozen=True)
class EnrichedBatch:
    """Articles with their enrichment columns, and the rows of the side tables they feed."""

    articles: pl.DataFrame
    entities: pl.DataFrame
    quotes: pl.DataFrame
    keywords: pl.DataFrame


def count_words(articles: pl.DataFrame) -> pl.DataFrame:
    return articles.with_columns(
        pl.col("body").str.count_matches(r"\S+").fill_null(0).cast(pl.Int32()).alias("word_count")
    )


def enrich_frame(records: pl.DataFrame, languages: list[str]) -> EnrichedBatch:
    """Word count, language and content hash of cleaned records; quarantined and sidecar rows pass."""
    candidate = pl.col("quarantine_reason").is_null() & (pl.col("raw_format") != "sidecar").fill_null(True)
    articles = records.filter(candidate)
    enriched = count_words(detect_languages(articles, languages)).with_columns(
        pl.col("sha256").alias("content_hash")
    )
    enriched = pl.concat([enriched, records.filter(~candidate)], how="diagonal_relaxed")
    return EnrichedBatch(
        articles=enriched,
        entities=pl.DataFrame(
            schema={
                "article_id": pl.String(),
                "entity": pl.String(),
                "entity_type": pl.String(),
                "country_code": pl.String(),
                "mentions": pl.Int32(),
            }
        ),
        quotes=pl.DataFrame(
            schema={
                "article_id": pl.String(),
                "ordinal": pl.Int32(),
                "quote": pl.String(),
                "speaker": pl.String(),
            }
        ),
        keywords=pl.DataFrame(
            schema={"article_id": pl.String(), "keyword": pl.String(), "score": pl.Float64()}
        ),
    )


@task(name="enrich_articles", cache_policy=NO_CACHE)
def enrich_articles(articles: pl.DataFrame, languages: list[str]) -> EnrichedBatch:
    with timed("enrich"):
        return enrich_frame(articles, languages)
