"""Process-wide caches of models and tables that are costly to build and read by several threads at once."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from typing import Generic, ParamSpec, TypeVar, cast

_P = ParamSpec("_P")
_R = TypeVar("_R")


class _BuiltOnce(Generic[_P, _R]):
    def __init__(self, function: Callable[_P, _R], maxsize: int | None) -> None:
        self._cache = functools.lru_cache(maxsize=maxsize)(function)
        self._cached = cast(Callable[_P, _R], self._cache)
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}
        functools.update_wrapper(self, function)

    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        key = (args, tuple(sorted(kwargs.items())))
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            return self._cached(*args, **kwargs)

    def cache_clear(self) -> None:
        with self._lock:
            self._cache.cache_clear()
            self._building.clear()


def cache_once(maxsize: int | None = None) -> Callable[[Callable[_P, _R]], _BuiltOnce[_P, _R]]:
    """Like :func:`functools.lru_cache`, but a value is built once when several threads ask for it together.

    ``functools.cache`` lets every thread that misses build the value itself: two batches enriched at
    once each loaded the 68 MB language model. Here the later callers wait for the first one's result.
    Different arguments are built independently.
    """

    def decorate(function: Callable[_P, _R]) -> _BuiltOnce[_P, _R]:
        return _BuiltOnce(function, maxsize)

    return decorate
