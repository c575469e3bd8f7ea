from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from newsflow.allocator import limit_malloc_arenas

REPO = Path(__file__).resolve().parents[2]
CHURN = """
import ctypes, sys, threading
if sys.argv[1] == "newsflow":
    import newsflow
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = (ctypes.c_size_t,)
libc.free.argtypes = (ctypes.c_void_p,)
def churn():
    for _ in range(20_000):
        libc.free(libc.malloc(4096))
threads = [threading.Thread(target=churn) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc.malloc_stats()
"""

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's arenas only")


def _arenas_after_churn(imports: str, arena_max: str | None = None) -> int:
    """Arenas glibc made for eight threads allocating at once through ctypes (which drops the GIL)."""
    env = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    if arena_max is not None:
        env["MALLOC_ARENA_MAX"] = arena_max
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", CHURN, imports], env=env, capture_output=True, text=True, check=True
    )
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines())


@pytest.mark.parametrize(("arena_max", "expected"), [(None, 1), ("4", 4)])
def test_importing_newsflow_leaves_one_arena_unless_the_environment_says(
    arena_max: str | None, expected: int
) -> None:
    assert _arenas_after_churn("nothing") > expected
    assert _arenas_after_churn("newsflow", arena_max) == expected


def test_the_environment_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    assert limit_malloc_arenas() is False
