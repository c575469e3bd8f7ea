"""Seconds spent per pipeline stage in this process, for run summaries and benchmarks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_seconds: dict[str, float] = {}


@contextmanager
def timed(stage: str) -> Iterator[None]:
    """Add the wall time of the ``with`` block to ``stage``'s total."""
    started = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - started
        with _lock:
            _seconds[stage] = _seconds.get(stage, 0.0) + elapsed


def take() -> dict[str, float]:
    """The totals so far, resetting them."""
    with _lock:
        totals = dict(_seconds)
        _seconds.clear()
    return totals
