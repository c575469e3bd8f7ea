"""Lake maintenance as a task (the SQL lives in ``warehouse.maintenance``)."""

from __future__ import annotations

from datetime import timedelta

import duckdb
from prefect import task
from prefect.cache_policies import NO_CACHE

from warehouse.maintenance import MaintenanceReport, maintain_lake


@task(name="compact_lake", cache_policy=NO_CACHE)
def compact_lake(con: duckdb.DuckDBPyConnection, retention: timedelta) -> MaintenanceReport:
    return maintain_lake(con, retention)
