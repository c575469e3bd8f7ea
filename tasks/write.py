"""Write article batches as Parquet partitions: hive layout, zstd, temporary name then atomic rename."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from pathlib import Path

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.timing import timed

ROW_GROUP_SIZE = 16_384
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def partition_value(value: str | None) -> str:
    """A hive partition value safe as one path segment, distinct for distinct inputs."""
    if value is None or value == "":
        return "__unknown__"
    slug = _UNSAFE.sub("_", value).strip("._") or "_"
    if slug != value:
        slug = f"{slug[:60]}-{hashlib.sha256(value.encode()).hexdigest()[:8]}"
    return slug


def partition_columns(articles: pl.DataFrame) -> pl.DataFrame:
    """``articles`` plus ``_source_part`` and ``_month_part``: the partition each row lands in."""
    return articles.with_columns(
        pl.col("source").map_elements(partition_value, return_dtype=pl.String()).alias("_source_part"),
        pl.col("published_at").dt.strftime("%Y-%m").fill_null("__unknown__").alias("_month_part"),
    )


def write_parquet_atomically(frame: pl.DataFrame, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        frame.write_parquet(temporary, compression="zstd", row_group_size=ROW_GROUP_SIZE, statistics=True)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def write_article_partitions(articles: pl.DataFrame, table_root: Path, file_prefix: str) -> list[str]:
    """Write ``articles`` under ``table_root/source=.../published_month=.../`` and return the file paths.

    Each partition gets one file named ``{file_prefix}-{n}.parquet``, sorted by publication time so that
    date filters prune row groups.
    """
    if articles.is_empty():
        return []
    written: list[str] = []
    with_parts = partition_columns(articles)
    for number, ((source_part, month_part), part) in enumerate(
        with_parts.group_by(["_source_part", "_month_part"], maintain_order=True)
    ):
        target = (
            table_root
            / f"source={source_part}"
            / f"published_month={month_part}"
            / (f"{file_prefix}-{number:04d}.parquet")
        )
        write_parquet_atomically(part.drop("_source_part", "_month_part").sort("published_at"), target)
        written.append(str(target))
    return written


@task(name="write_partitions", cache_policy=NO_CACHE)
def write_partitions(articles: pl.DataFrame, table_root: Path, file_prefix: str) -> list[str]:
    with timed("write"):
        return write_article_partitions(articles, table_root, file_prefix)
