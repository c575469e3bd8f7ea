"""Register a written batch in the warehouse catalog (the transaction itself lives in ``warehouse``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb
import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from newsflow.timing import timed
from warehouse.register import commit_batch


@task(name="register_batch", cache_policy=NO_CACHE)
def register_batch(
    con: duckdb.DuckDBPyConnection,
    *,
    article_files: list[str],
    replaced_article_ids: list[str],
    tables: Mapping[str, pl.DataFrame],
    refreshed_files: pl.DataFrame | None,
    run_row: Mapping[str, Any],
) -> None:
    """Register one batch in one catalog transaction, retried when another writer's commit conflicts."""
    with timed("register"):
        commit_batch(
            con,
            article_files=article_files,
            replaced_article_ids=replaced_article_ids,
            tables=tables,
            refreshed_files=refreshed_files,
            run_row=run_row,
            logger=get_run_logger(),
        )
