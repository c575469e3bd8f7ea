"""Prefect settings that newsflow needs before Prefect is imported."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}


def configure_prefect(verbose: bool = False) -> None:
    """Set newsflow's Prefect (and Dask) defaults without overriding anything the user set.

    The CLI keeps Prefect's and Dask's consoles quiet (errors reach the user as one line from newsflow
    itself, and every log is still in the Prefect API and UI); ``NEWSFLOW_VERBOSE=1`` shows their INFO
    logs too. A ``PREFECT_HOME`` that does not exist yet is created (Prefect's ephemeral server cannot open
    its database in a missing folder and only says it timed out).
    """
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    home = os.environ.get("PREFECT_HOME")
    if home:
        Path(home).expanduser().mkdir(parents=True, exist_ok=True)
    verbose = verbose or os.environ.get("NEWSFLOW_VERBOSE", "").lower() in ("1", "true", "yes")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "CRITICAL")
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "info" if verbose else "error")
