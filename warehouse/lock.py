"""One writer at a time per warehouse: an exclusive lock file in the data dir."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class WriterBusyError(RuntimeError):
    """Another run holds the warehouse's writer lock for longer than we were willing to wait."""


@contextmanager
def writer_lock(
    path: Path, timeout_seconds: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the warehouse's writer lock; wait up to ``timeout_seconds`` for another writer to finish.

    The lock is an ``flock`` on ``path``, so it is released by the kernel if the holder dies. The holder's
    description is written into the file to tell waiting runs whom they wait for.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_seconds
        announced = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = Path(path).read_text(errors="replace").strip() or "another run"
                if time.monotonic() >= deadline:
                    raise WriterBusyError(
                        f"the warehouse is being written by {holder}; gave up after {timeout_seconds:.0f} s"
                    ) from None
                if on_wait is not None and not announced:
                    on_wait(holder)
                    announced = True
                time.sleep(0.2)
        os.ftruncate(handle, 0)
        os.write(handle, f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode())
        try:
            yield
        finally:
            os.ftruncate(handle, 0)
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)
