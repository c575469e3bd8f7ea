"""Progress events from a running flow to whoever listens in the same process (the CLI's progress bar)."""

from __future__ import annotations

from collections.abc import Callable

Listener = Callable[[int, int], None]
_listeners: list[Listener] = []


def add_listener(listener: Listener) -> None:
    _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def report(done: int, total: int) -> None:
    """Tell listeners that ``done`` of ``total`` files are processed."""
    for listener in list(_listeners):
        listener(done, total)
