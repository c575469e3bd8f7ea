import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from newsflow.caching import cache_once


def test_threads_asking_together_share_one_build() -> None:
    builds: list[str] = []
    started = threading.Barrier(4)

    @cache_once()
    def model(language: str) -> list[str]:
        builds.append(language)
        time.sleep(0.05)
        return [language]

    def ask(language: str) -> list[str]:
        started.wait()
        return model(language)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(ask, ["en", "en", "en", "fr"]))

    assert sorted(builds) == ["en", "fr"]
    assert results[0] is results[1] is results[2]
    assert results[3] == ["fr"]


def test_values_are_kept_until_cleared() -> None:
    builds: list[int] = []

    @cache_once(maxsize=1)
    def square(number: int) -> int:
        builds.append(number)
        return number * number

    assert [square(3), square(3)] == [9, 9]
    square(4)
    square(3)
    square.cache_clear()
    square(3)

    assert builds == [3, 4, 3, 3]


def test_a_failed_build_is_tried_again() -> None:
    calls: list[int] = []

    @cache_once()
    def flaky() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("not yet")
        return len(calls)

    with pytest.raises(OSError, match="not yet"):
        flaky()
    assert flaky() == 2
    assert flaky() == 2
