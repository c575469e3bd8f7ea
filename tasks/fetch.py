"""Read landing files: bytes, content hash, and the files that cannot or must not be read."""

from __future__ import annotations

import hashlib

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.schema import RAW_SCHEMA


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def read_local_files(listing: pl.DataFrame, max_file_bytes: int) -> pl.DataFrame:
    """Read every listed file that is not skipped: ``RAW_SCHEMA`` plus the listing's other columns.

    Files over ``max_file_bytes`` are not read; they, and files that fail to open, carry a
    ``quarantine_reason``.
    """
    raws: list[bytes | None] = []
    hashes: list[str | None] = []
    reasons: list[str | None] = []
    for path, size in zip(listing["path"].to_list(), listing["size_bytes"].to_list(), strict=True):
        if size > max_file_bytes:
            raws.append(None)
            hashes.append(None)
            reasons.append(f"file too large: {_megabytes(size)} over the {_megabytes(max_file_bytes)} limit")
            continue
        try:
            with open(path, "rb") as handle:
                raw = handle.read(max_file_bytes + 1)
        except OSError as error:
            raws.append(None)
            hashes.append(None)
            reasons.append(f"unreadable: {error.strerror or error}")
            continue
        if len(raw) > max_file_bytes:
            raws.append(None)
            hashes.append(None)
            reasons.append(f"file grew past the {_megabytes(max_file_bytes)} limit while being read")
            continue
        raws.append(raw)
        hashes.append(hashlib.sha256(raw).hexdigest())
        reasons.append(None)
    return listing.with_columns(
        pl.Series("raw", raws, dtype=pl.Binary()),
        pl.Series("sha256", hashes, dtype=pl.String()),
        pl.Series("quarantine_reason", reasons, dtype=pl.String()),
    ).select([*RAW_SCHEMA, *(c for c in listing.columns if c not in RAW_SCHEMA)])


@task(name="fetch_files", cache_policy=NO_CACHE)
def fetch_files(listing: pl.DataFrame, max_file_bytes: int) -> pl.DataFrame:
    return read_local_files(listing, max_file_bytes)
