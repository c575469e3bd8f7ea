"""Retrying catalog transactions that lost a race with another writer of a shared (PostgreSQL) catalog.

DuckLake commits optimistically: two writers may work at once, and at COMMIT the later one is refused
when its changes conflict with what the other committed meanwhile (``Transaction conflict - attempting to
insert into table ... but another transaction has deleted inlined data from it``). The refused
transaction is rolled back whole, so running the same transaction again on the newer snapshot is safe:
its rows land exactly once. Creating the catalog's own tables on first use races the same way.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import duckdb

T = TypeVar("T")
Logger = logging.Logger | logging.LoggerAdapter[Any]

MAX_ATTEMPTS = 12
FIRST_DELAY_SECONDS = 0.1
MAX_DELAY_SECONDS = 5.0

CONFLICT_MARKERS = (
    "Transaction conflict",
    "Exceeded the maximum retry count",
    "could not serialize access",
    "deadlock detected",
    "duplicate key value violates unique constraint",
)

log = logging.getLogger("newsflow.warehouse")


class CommitConflictError(RuntimeError):
    """A transaction kept conflicting with other writers after every retry."""


def is_write_conflict(error: BaseException) -> bool:
    """True when ``error`` says another writer won a race, so the same transaction may be tried again."""
    if not isinstance(error, duckdb.Error):
        return False
    text = str(error)
    if "Failed to initialize DuckLake" in text and "already exists" in text:
        return True
    return any(marker in text for marker in CONFLICT_MARKERS)


def retry_delay(attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1``: doubling from 0.1 s up to 5 s, with jitter."""
    ceiling = min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


def retry_on_conflict(
    action: Callable[[], T],
    what: str,
    logger: Logger | None = None,
    attempts: int = MAX_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``action`` (one whole catalog transaction); run it again while it conflicts with another writer.

    Args:
        action: Runs the transaction from its BEGIN to its COMMIT, rolling back on failure.
        what: What the transaction does, for the log line of each retry.
        logger: Where retries are logged; default: the ``newsflow.warehouse`` logger.
        attempts: How many times in all to try.
        sleep: Waits between attempts (tests pass a fake).

    Returns:
        What ``action`` returned on the attempt that committed.

    Raises:
        CommitConflictError: Every attempt conflicted.
    """
    logger = logger or log
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except duckdb.Error as error:
            if not is_write_conflict(error):
                raise
            if attempt == attempts:
                raise CommitConflictError(
                    f"{what}: still conflicting with other writers after {attempts} attempts: "
                    f"{str(error).splitlines()[-1]}"
                ) from error
            delay = retry_delay(attempt)
            logger.warning(
                "Catalog write conflict while %s (attempt %d of %d): another writer committed first; "
                "retrying the whole transaction in %.2f s",
                what,
                attempt,
                attempts,
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable")
