"""Named kill points for the crash tests, so a kill lands exactly where timing alone rarely would.

``NEWSFLOW_KILL_AT=name`` (or ``name:n`` for the n-th time the point is reached) makes the process kill
itself with SIGKILL there: no clean-up handler, ``finally`` or ``atexit`` runs, as in a power cut. Unset,
a point costs one dictionary lookup. The points: ``parquet-written`` (a batch's Parquet file is written
under its temporary name), ``commit`` (inside the catalog transaction, before COMMIT), ``committed`` (just
after it), ``maintenance-merged`` and ``maintenance-expired`` (between maintenance's steps) and
``search-built`` (the new search index is built, not yet swapped in).
"""

from __future__ import annotations

import os
import signal
import threading

_lock = threading.Lock()
_reached: dict[str, int] = {}


def kill_point(name: str) -> None:
    """SIGKILL this process if ``NEWSFLOW_KILL_AT`` names this point (and this is its n-th arrival)."""
    wanted = os.environ.get("NEWSFLOW_KILL_AT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    with _lock:
        _reached[name] = _reached.get(name, 0) + 1
        arrival = _reached[name]
    if arrival == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
