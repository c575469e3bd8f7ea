"""Enrichment: what each article is about, in columns and side tables."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.timing import timed
from tasks.dates import resolve_published_at
from tasks.entities import load_gazetteer
from tasks.keywords import extract_keywords
from tasks.language import detect_languages
from tasks.language import load_model as load_language_model
from tasks.near_duplicates import SIGNATURES_SCHEMA, compute_signatures
from tasks.quotes import extract_entities_and_quotes
from tasks.schema import conform
from tasks.text_tokens import text_tokens
from tasks.tone import lexicon, score_tone

_T = TypeVar("_T")

ENTITY_SCHEMA: dict[str, pl.DataType] = {
    "article_id": pl.String(),
    "entity": pl.String(),
    "entity_type": pl.String(),
    "country_code": pl.String(),
    "mentions": pl.Int32(),
}
QUOTE_SCHEMA: dict[str, pl.DataType] = {
    "article_id": pl.String(),
    "ordinal": pl.Int32(),
    "quote": pl.String(),
    "speaker": pl.String(),
}


KEYWORD_SCHEMA: dict[str, pl.DataType] = {
    "article_id": pl.String(),
    "keyword": pl.String(),
    "score": pl.Float64(),
}


@dataclass(frozen=True)
class EnrichedBatch:
    """Articles with their enrichment columns, and the rows of the side tables they feed."""

    articles: pl.DataFrame
    entities: pl.DataFrame
    quotes: pl.DataFrame
    keywords: pl.DataFrame
    signatures: pl.DataFrame


def count_words(articles: pl.DataFrame) -> pl.DataFrame:
    return articles.with_columns(
        pl.col("body").str.count_matches(r"\S+").fill_null(0).cast(pl.Int32()).alias("word_count")
    )


def with_file_time(articles: pl.DataFrame) -> pl.DataFrame:
    """``file_mtime`` from the landing file's ``mtime_ns`` (NULL when the source has no file time)."""
    if "mtime_ns" not in articles.columns:
        return articles.with_columns(pl.lit(None, pl.Datetime("us")).alias("file_mtime"))
    mtime = pl.when(pl.col("mtime_ns") > 0).then(pl.col("mtime_ns"))
    return articles.with_columns(
        pl.from_epoch(mtime, time_unit="ns").cast(pl.Datetime("us")).alias("file_mtime")
    )


def _dated(articles: pl.DataFrame, languages: list[str]) -> pl.DataFrame:
    """Language, word count, file time and dates, the language detected beside the rest on another thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        detected = pool.submit(_timed, "enrich.language", detect_languages, articles, languages)
        with timed("enrich.dates"):
            dated = resolve_published_at(with_file_time(count_words(articles)))
        language = detected.result()["language"]
    if "language" in articles.columns:
        return dated.with_columns(language)
    added = [name for name in dated.columns if name not in articles.columns]
    return dated.with_columns(language).select(*articles.columns, "language", *added)


def _timed(stage: str, function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    with timed(stage):
        return function(*args, **kwargs)


def load_models(languages: list[str], level: str = "full") -> None:
    """Build the models enriching at ``level`` reads: the language detector for ``languages`` and, at
    ``full``, the gazetteer and the tone lexicon.

    Each is built once per process and kept (see :func:`newsflow.caching.cache_once`); loaded beforehand,
    they are not built while the first batch waits. Together they take about a second. The keywords' word
    lists are read when a batch first has an article in their language (a tenth of a second each, and
    ``languages`` may name dozens).
    """
    load_language_model(languages)
    if level == "full":
        load_gazetteer()
        lexicon()


def enrich_frame(records: pl.DataFrame, languages: list[str], level: str = "full") -> EnrichedBatch:
    """Every enrichment of cleaned records; quarantined and sidecar rows pass through untouched.

    Columns: ``language``, ``word_count``, ``content_hash``, ``published_at`` (with ``published_at_source``
    and ``mentioned_dates``), ``tone``/``tone_positive``/``tone_negative``. Side tables: entities, quotes,
    keywords and near-duplicate signatures, keyed by ``article_id``. At ``level="basic"`` only language,
    word count, content hash and dates are computed; the side tables stay empty.

    A record whose ``article_id`` an earlier one has (a feed listing an entry twice) is enriched once: it
    is a duplicate or skipped (:func:`tasks.identify.assign_identities`), and its side-table rows would
    be the first one's again. It comes after the others, without tone.

    Passes that do not need each other's results run on two threads: language beside dates, then
    entities and quotes beside tone, keywords and signatures. Polars and NumPy work without the GIL, so
    both cores are busy; every result is the same as when the passes run one after another.
    """
    candidate = pl.col("quarantine_reason").is_null() & (pl.col("raw_format") != "sidecar").fill_null(True)
    articles = _dated(records.filter(candidate), languages)
    articles = articles.with_columns(pl.col("sha256").alias("content_hash"))
    if level == "basic":
        return EnrichedBatch(
            articles=pl.concat([articles, records.filter(~candidate)], how="diagonal_relaxed"),
            entities=pl.DataFrame(schema=ENTITY_SCHEMA),
            quotes=pl.DataFrame(schema=QUOTE_SCHEMA),
            keywords=pl.DataFrame(schema=KEYWORD_SCHEMA),
            signatures=pl.DataFrame(schema=SIGNATURES_SCHEMA),
        )
    first = articles.select(pl.col("article_id").is_first_distinct()).to_series()
    repeats = articles.filter(~first)
    if not repeats.is_empty():
        articles = articles.filter(first)
    with ThreadPoolExecutor(max_workers=1) as pool:
        named = pool.submit(_timed, "enrich.entities_quotes", extract_entities_and_quotes, articles)
        with timed("enrich.tokens"):
            tokens = text_tokens(articles)
        with timed("enrich.tone"):
            articles = score_tone(articles, tokens)
        with timed("enrich.keywords"):
            keywords = extract_keywords(articles, tokens=tokens)
        with timed("enrich.signatures"):
            signatures = compute_signatures(articles, tokens)
        del tokens
        entities, quotes = named.result()
    return EnrichedBatch(
        articles=pl.concat([articles, repeats, records.filter(~candidate)], how="diagonal_relaxed"),
        entities=conform(entities, ENTITY_SCHEMA),
        quotes=conform(quotes, QUOTE_SCHEMA),
        keywords=keywords,
        signatures=signatures,
    )


@task(name="enrich_articles", cache_policy=NO_CACHE)
def enrich_articles(articles: pl.DataFrame, languages: list[str], level: str = "full") -> EnrichedBatch:
    with timed("enrich"):
        return enrich_frame(articles, languages, level)
