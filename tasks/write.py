"""Write article batches as Parquet partitions: hive layout by year and month, zstd, temporary name then
atomic rename."""

from __future__ import annotations

import hashlib
import io
import os
import re
import uuid
from pathlib import Path
from typing import cast

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.faults import kill_point
from newsflow.timing import timed

ROW_GROUP_SIZE = 16_384
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
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
    """``articles`` plus the partition each row lands in: ``_year``, ``_month`` and ``_source_part``.

    Year and month of ``published_at`` are the lake's partition keys (DuckLake's own ``year()`` and
    ``month()`` transforms, so its pruning and compaction agree with the folders); the source only names
    the file.
    """
    sources = articles.select(pl.col("source").unique())
    slugs = sources.with_columns(
        pl.col("source").map_elements(partition_value, return_dtype=pl.String()).alias("_source_part")
    )
    return articles.join(
        slugs, on="source", how="left", nulls_equal=True, maintain_order="left"
    ).with_columns(
        pl.col("published_at").dt.year().alias("_year"),
        pl.col("published_at").dt.month().alias("_month"),
        pl.col("_source_part").fill_null("__unknown__"),
    )


def partition_folder(year: int | None, month: int | None) -> str:
    """The hive folder of one partition, as DuckLake names it (``year=2025/month=3``)."""
    if year is None or month is None:
        return f"year={HIVE_NULL}/month={HIVE_NULL}"
    return f"year={year}/month={month}"


def write_parquet_atomically(frame: pl.DataFrame, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        frame.write_parquet(temporary, compression="zstd", row_group_size=ROW_GROUP_SIZE, statistics=True)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        kill_point("parquet-written")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def write_parquet_to_object_store(frame: pl.DataFrame, url: str) -> None:
    """Upload ``frame`` as Parquet to ``url`` (``s3://...`` or another fsspec URL) in one PUT.

    An object store makes an object visible only once its upload completed, so no temporary name is
    needed. Credentials come from the store's own chain (``AWS_*`` variables, profile, instance role), the
    endpoint of an S3-compatible store from the settings (``tasks.sources.storage_options_for``).
    """
    import fsspec

    from tasks.sources import storage_options_for

    protocol = url.split("://", 1)[0]
    filesystem, path = fsspec.core.url_to_fs(url, **storage_options_for(protocol))
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", row_group_size=ROW_GROUP_SIZE, statistics=True)
    filesystem.pipe_file(path, buffer.getvalue())


def write_article_partitions(articles: pl.DataFrame, table_root: Path | str, file_prefix: str) -> list[str]:
    """Write ``articles`` under ``table_root/year=.../month=.../`` and return the file paths.

    Each partition gets one file per source, named ``{source}-{file_prefix}-{n}.parquet`` and sorted by
    publication time so that date filters prune row groups. ``table_root`` is a local folder (files are
    written under a temporary name, then renamed) or an object-store URL such as ``s3://bucket/lake/...``.
    """
    if articles.is_empty():
        return []
    written: list[str] = []
    with_parts = partition_columns(articles)
    for number, ((year, month, source_part), part) in enumerate(
        with_parts.group_by(["_year", "_month", "_source_part"], maintain_order=True)
    ):
        relative = (
            f"{partition_folder(cast(int | None, year), cast(int | None, month))}/"
            f"{source_part}-{file_prefix}-{number:04d}.parquet"
        )
        rows = part.drop("_year", "_month", "_source_part").sort("published_at")
        if "://" in str(table_root):
            target = f"{str(table_root).rstrip('/')}/{relative}"
            write_parquet_to_object_store(rows, target)
            written.append(target)
        else:
            local = Path(table_root) / relative
            write_parquet_atomically(rows, local)
            written.append(str(local))
    return written


@task(name="write_partitions", cache_policy=NO_CACHE)
def write_partitions(articles: pl.DataFrame, table_root: Path | str, file_prefix: str) -> list[str]:
    with timed("write"):
        return write_article_partitions(articles, table_root, file_prefix)
