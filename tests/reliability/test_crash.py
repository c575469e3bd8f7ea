"""Crash safety: SIGKILL a real ``newsflow ingest``, re-run it, check nothing is lost or doubled."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.crash_harness import (
    PrefectServer,
    build_landing,
    check_recovered,
    content_hashes,
    crash_and_recover,
    crash_sweep,
    ingest_command,
    ingest_env,
    inspect_warehouse,
    maintenance_crash,
    run_ingest,
    shared_prefect_server,
)

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

DEFAULT_KILL_POINTS = 6


@pytest.fixture(scope="module")
def prefect_server() -> PrefectServer:
    """The Prefect server the ingest children talk to (one per test session)."""
    return shared_prefect_server()


@pytest.fixture(scope="module")
def landing(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 real articles: 200 Reuters, 100 BBC."""
    return build_landing(corpus_dir, tmp_path_factory.mktemp("landing") / "wire")


def test_kill_sweep_recovers_without_loss_or_duplicates(
    landing: Path, tmp_path: Path, prefect_server: PrefectServer
) -> None:
    report = crash_sweep(landing, tmp_path, ingest_env(prefect_server), DEFAULT_KILL_POINTS)
    print("\n".join(report.lines()))
    assert sum(o.killed for o in report.outcomes) >= DEFAULT_KILL_POINTS // 2
    assert sum(o.lost for o in report.outcomes) == 0
    assert sum(o.duplicated for o in report.outcomes) == 0
    assert [o.problems for o in report.outcomes if o.problems] == []


def test_repeated_kills_of_the_same_warehouse_then_completion(
    landing: Path, tmp_path: Path, prefect_server: PrefectServer
) -> None:
    """Kill three runs in a row (the later ones while they repair the earlier ones), then finish."""
    env = ingest_env(prefect_server)
    data_dir = tmp_path / "data"
    command = ingest_command([landing], data_dir, batch_size=50)
    crashed: set[str] = set()
    for offset in (0.8, 0.05, 0.4):
        result = run_ingest(command, env, data_dir, kill_after_lock=offset)
        state = inspect_warehouse(data_dir)
        crashed |= {run for run, s in state.run_states.items() if s == "running"}
        if not result.killed:
            assert result.returncode == 0, result.stderr
    final = run_ingest(command, env, data_dir)
    assert final.returncode == 0, final.stderr
    assert check_recovered(data_dir, content_hashes(landing), crashed, final.summary["run_id"]) == []
    again = run_ingest(command, env, data_dir)
    assert again.summary["files_new"] == 0
    assert again.summary["articles_written"] == 0


def test_kills_at_named_points_recover(landing: Path, tmp_path: Path, prefect_server: PrefectServer) -> None:
    """A kill inside the catalog transaction and one between writing Parquet and renaming it."""
    env = ingest_env(prefect_server)
    expected = content_hashes(landing)
    for number, kill_at in enumerate(("commit:2", "parquet-written:3")):
        outcome = crash_and_recover(
            landing, tmp_path / f"hook-{number}", env, 0.0, expected, 50, 6, kill_at=kill_at
        )
        assert outcome.killed, kill_at
        assert outcome.problems == [], kill_at
        assert (outcome.lost, outcome.duplicated) == (0, 0)


def test_killed_maintenance_changes_no_answer(
    landing: Path, tmp_path: Path, prefect_server: PrefectServer
) -> None:
    outcome = maintenance_crash(landing, tmp_path / "data", ingest_env(prefect_server), "maintenance-merged")
    assert outcome.killed
    assert outcome.problems == []
