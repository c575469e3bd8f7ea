"""Find landing files and decide which of them need reading: discovery and the manifest diff."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.timing import timed
from tasks.schema import FILES_SCHEMA
from tasks.sources import (
    UNKNOWN_SIZE,
    ListedFile,
    file_uri,
    list_sources,
    skip_reason_for,
    source_label,
)

__all__ = [
    "LISTING_SCHEMA",
    "UNKNOWN_SIZE",
    "ListedFile",
    "diff_against_manifest",
    "diff_listing",
    "discover",
    "discover_files",
    "discover_local",
    "file_uri",
    "listing_frame",
    "skip_reason_for",
    "source_label",
]

LISTING_SCHEMA: dict[str, pl.DataType] = {
    **FILES_SCHEMA,
    "skip_reason": pl.String(),
    "source": pl.String(),
    "etag": pl.String(),
    "last_modified": pl.String(),
}

KNOWN_COLUMNS: dict[str, tuple[str, pl.DataType]] = {
    "known_size": ("size_bytes", pl.Int64()),
    "known_mtime": ("mtime_ns", pl.Int64()),
    "known_sha256": ("sha256", pl.String()),
    "known_etag": ("etag", pl.String()),
    "known_last_modified": ("last_modified", pl.String()),
}
"""What the diff carries from the manifest, by listing column name: (manifest column, type)."""


def _storable_path(path: str, uri: str) -> str:
    """``path`` itself, or its ``file://`` URI when the name is not valid UTF-8 (surrogate-escaped bytes)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return uri
    return path


def listing_frame(files: Iterable[ListedFile]) -> pl.DataFrame:
    """Listed files as a frame of ``LISTING_SCHEMA``."""
    rows = [
        (
            f.uri,
            _storable_path(f.path, f.uri),
            f.size_bytes,
            f.mtime_ns,
            f.skip_reason,
            _storable_path(f.source, f.source.encode("utf-8", "replace").decode()) if f.source else f.source,
            f.etag,
            f.last_modified,
        )
        for f in files
    ]
    return pl.DataFrame(rows, schema=LISTING_SCHEMA, orient="row")


def discover(
    sources: list[str],
    source_name: str | None = None,
    storage_options: Mapping[str, dict[str, Any]] | None = None,
) -> pl.DataFrame:
    """The listing of any SOURCEs: files, folders, globs and ``file://``, ``http(s)://``, ``s3://`` URLs.

    Args:
        sources: SOURCE strings; each is listed by the source its scheme names.
        source_name: The ``source`` of every file; default: each SOURCE's label.
        storage_options: fsspec options per protocol, e.g. ``{"s3": {"endpoint_url": ...}}``.

    Returns:
        ``uri, path, size_bytes, mtime_ns, skip_reason, source, etag, last_modified``, each ``uri`` once.

    Raises:
        FileNotFoundError: A local SOURCE or a bucket does not exist, or a glob matches nothing.
        ValueError: A SOURCE has a scheme no source reads.
    """
    return listing_frame(list_sources(sources, source_name, storage_options=storage_options))


def discover_local(sources: list[str], source_name: str | None = None) -> pl.DataFrame:
    """The listing of SOURCEs; kept for callers of the local-only days, same as :func:`discover`."""
    return discover(sources, source_name)


def diff_listing(listing: pl.DataFrame, manifest: pl.DataFrame) -> pl.DataFrame:
    """Mark each listed file ``new``, ``changed``, ``touched`` or ``unchanged`` against the manifest.

    ``manifest`` holds the latest ``file_uri, size_bytes, mtime_ns, sha256, etag, last_modified`` per file
    already seen (the last two optional). Same size and mtime means unchanged; the same size with another
    mtime is ``touched`` (the content hash decides once the file is read), and so is every known file whose
    size the listing cannot tell (``size_bytes`` < 0: HTTP); a different size is ``changed``. The manifest's
    values come along as ``known_size, known_mtime, known_sha256, known_etag, known_last_modified``.
    """
    known = manifest.select(
        pl.col("file_uri").alias("uri"),
        *(
            (pl.col(column) if column in manifest.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, (column, dtype) in KNOWN_COLUMNS.items()
        ),
    ).unique("uri", keep="last")
    return listing.join(known, on="uri", how="left").with_columns(
        pl.when(pl.col("known_size").is_null())
        .then(pl.lit("new"))
        .when(pl.col("size_bytes") < 0)
        .then(pl.lit("touched"))
        .when((pl.col("known_size") == pl.col("size_bytes")) & (pl.col("known_mtime") == pl.col("mtime_ns")))
        .then(pl.lit("unchanged"))
        .when(pl.col("known_size") == pl.col("size_bytes"))
        .then(pl.lit("touched"))
        .otherwise(pl.lit("changed"))
        .alias("change")
    )


@task(name="discover_files", cache_policy=NO_CACHE)
def discover_files(
    sources: list[str],
    source_name: str | None = None,
    storage_options: dict[str, dict[str, Any]] | None = None,
) -> pl.DataFrame:
    """Prefect task: :func:`discover`."""
    with timed("discover"):
        return discover(sources, source_name, storage_options)


@task(name="diff_against_manifest", cache_policy=NO_CACHE)
def diff_against_manifest(listing: pl.DataFrame, manifest: pl.DataFrame) -> pl.DataFrame:
    """Prefect task: :func:`diff_listing`."""
    with timed("diff"):
        return diff_listing(listing, manifest)
