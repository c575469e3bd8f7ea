"""Read landing files: bytes, content hash, and the files that cannot or must not be read.

Each listed row is read by the source its ``uri`` scheme names (local disk, HTTP(S), fsspec stores such as
S3); remote reads are batched with bounded concurrency. Reading never raises for one bad file: the row
carries a ``quarantine_reason`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.timing import timed
from tasks.schema import RAW_SCHEMA
from tasks.sources import HttpOptions, LocalSource, reader_for, scheme_of

VALIDATOR_COLUMNS: dict[str, pl.DataType] = {"etag": pl.String(), "last_modified": pl.String()}

_ORDER = "__fetch_order"


def _ordered(frame: pl.DataFrame, listing_columns: list[str]) -> pl.DataFrame:
    rest = [c for c in listing_columns if c not in RAW_SCHEMA and c != _ORDER]
    rest += [c for c in VALIDATOR_COLUMNS if c not in rest]
    return frame.select([*RAW_SCHEMA, *rest])


def _with_validators(listing: pl.DataFrame) -> pl.DataFrame:
    missing = [
        pl.lit(None, dtype).alias(name) for name, dtype in VALIDATOR_COLUMNS.items() if name not in listing
    ]
    return listing.with_columns(missing) if missing else listing


def read_local_files(listing: pl.DataFrame, max_file_bytes: int) -> pl.DataFrame:
    """Read every listed local file: ``RAW_SCHEMA`` plus the listing's other columns.

    Files over ``max_file_bytes`` are not read; they, and files that fail to open, carry a
    ``quarantine_reason``.
    """
    listing = _with_validators(listing)
    return _ordered(LocalSource().read(listing, max_file_bytes), listing.columns)


def read_files(
    listing: pl.DataFrame,
    max_file_bytes: int,
    http: HttpOptions | None = None,
    storage_options: Mapping[str, dict[str, Any]] | None = None,
) -> pl.DataFrame:
    """Read every listed row through the source its ``uri`` scheme names, keeping the listing's order.

    Args:
        listing: Listing rows (after the manifest diff: with ``change`` and ``known_*`` columns, which HTTP
            uses for conditional requests).
        max_file_bytes: Larger files are quarantined, unread (remote bodies are cut off at this size).
        http: HTTP timeouts, retries and concurrency; default: :meth:`HttpOptions.from_settings`.
        storage_options: fsspec options per protocol; default: from the environment and settings.

    Returns:
        ``RAW_SCHEMA`` (``raw`` NULL for a failed read, and for a ``304 Not Modified``, which comes back as
        ``change = 'touched'`` with ``sha256 = known_sha256``), then the listing's other columns, with
        ``etag`` and ``last_modified`` as the source reported them.
    """
    listing = _with_validators(listing)
    if listing.is_empty():
        return _ordered(
            listing.with_columns(
                pl.lit(None, pl.Binary()).alias("raw"),
                pl.lit(None, pl.String()).alias("sha256"),
                pl.lit(None, pl.String()).alias("quarantine_reason"),
            ),
            listing.columns,
        )
    numbered = listing.with_row_index(_ORDER).with_columns(
        pl.col("uri").map_elements(scheme_of, return_dtype=pl.String()).alias("__scheme")
    )
    options = http
    parts: list[pl.DataFrame] = []
    for (scheme,), rows in numbered.partition_by("__scheme", as_dict=True, maintain_order=True).items():
        if options is None and scheme in ("http", "https"):
            options = HttpOptions.from_settings()
        reader = reader_for(str(scheme), http=options, storage_options=storage_options)
        parts.append(reader.read(rows.drop("__scheme"), max_file_bytes))
    fetched = pl.concat(parts, how="diagonal_relaxed").sort(_ORDER)
    return _ordered(fetched, listing.columns)


@task(name="fetch_files", cache_policy=NO_CACHE)
def fetch_files(
    listing: pl.DataFrame,
    max_file_bytes: int,
    http: HttpOptions | None = None,
    storage_options: dict[str, dict[str, Any]] | None = None,
) -> pl.DataFrame:
    """Prefect task: :func:`read_files`."""
    with timed("read"):
        return read_files(listing, max_file_bytes, http, storage_options)
