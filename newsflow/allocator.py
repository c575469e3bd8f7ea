"""One glibc malloc arena for newsflow's processes.

glibc gives a thread that finds the arenas busy an arena of its own, up to eight per core, and gives an
arena's free memory back to the system only from its top. In an ingest, the threads of Prefect, DuckDB and
the pipeline left their arenas holding about 300 MB of free memory (``mallinfo2``) beside 100 MB in use.
Polars and DuckDB allocate their data with their own jemalloc, and Python threads allocate under the GIL, so
one arena is rarely contended: measured, peak RSS fell 0.1-0.4 GB at the same speed (README, Memory).
"""

from __future__ import annotations

import ctypes
import os
import sys

M_ARENA_MAX = -8
"""``mallopt``'s parameter for the most arenas glibc creates (``malloc.h``)."""
ARENAS = 1


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap the arenas glibc creates from now on, unless ``MALLOC_ARENA_MAX`` already says how many.

    Returns:
        True when glibc took the cap; False on other C libraries or platforms, or when the environment
        variable is set (glibc has read it at start-up).
    """
    if "MALLOC_ARENA_MAX" in os.environ or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))
