"""Prefect settings that newsflow needs before Prefect is imported."""

from __future__ import annotations

import os

DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}


def configure_prefect(quiet: bool = True) -> None:
    """Set newsflow's Prefect defaults without overriding anything the user set."""
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
