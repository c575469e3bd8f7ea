"""Concurrent ingests into one warehouse while a reader reads: one writer at a time, readers see snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.crash_harness import (
    PrefectServer,
    build_landing,
    concurrency_trial,
    ingest_env,
    shared_prefect_server,
)

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

DEFAULT_TRIALS = 2


@pytest.fixture(scope="module")
def prefect_server() -> PrefectServer:
    """The Prefect server the ingest children talk to (one per test session)."""
    return shared_prefect_server()


@pytest.fixture(scope="module")
def landing(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 real articles: 150 Reuters, 50 BBC."""
    return build_landing(corpus_dir, tmp_path_factory.mktemp("landing") / "wire", reuters=150, bbc=50)


@pytest.mark.parametrize("trial", range(DEFAULT_TRIALS))
def test_concurrent_ingests_with_a_reader(
    trial: int, landing: Path, tmp_path: Path, prefect_server: PrefectServer
) -> None:
    outcome = concurrency_trial(landing, tmp_path, ingest_env(prefect_server), writers=2 + trial % 2)
    print(outcome)
    assert outcome.writers_ok == outcome.writers
    assert outcome.reads > 0
    assert outcome.read_errors == []
    assert outcome.decreases == 0
    assert outcome.duplicate_reads == 0
    assert outcome.final_articles == outcome.final_distinct
    assert outcome.lost == 0
