"""The Dask task runner: batch tasks sent to a ``distributed.LocalCluster`` give the same rows as threads."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed
import pytest
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.testing.utilities import prefect_test_harness
from prefect_dask import DaskTaskRunner
from typer.testing import CliRunner

from flows.ingest import ingest
from flows.runners import ConfiguredTaskRunner, task_runner_for
from newsflow.cli import app
from newsflow.settings import load_settings
from tests.flows.test_ingest import sql

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
BATCH_TASKS = {"fetch_files", "parse_articles", "clean_articles", "enrich_articles"}
COMPARED = {
    "articles": "SELECT * EXCLUDE (run_id, ingested_at) FROM articles ORDER BY article_id",
    "ingested_files": "SELECT uri, record_key, status, reason, article_id, sha256, size_bytes "
    "FROM ingested_files ORDER BY uri, record_key",
    "article_entities": "SELECT * FROM article_entities ORDER BY ALL",
    "article_quotes": "SELECT * FROM article_quotes ORDER BY ALL",
    "article_keywords": "SELECT * FROM article_keywords ORDER BY ALL",
    "article_sketches": "SELECT * FROM article_sketches ORDER BY ALL",
    "article_anchors": "SELECT * FROM article_anchors ORDER BY ALL",
}


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    """A Prefect API for the module and a two-process Dask cluster on 127.0.0.1 whose workers report to it."""
    with (
        prefect_test_harness(server_startup_timeout=120),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as local,
    ):
        yield local


def _scheduler_task_prefixes(local: distributed.LocalCluster) -> set[str]:
    with distributed.Client(local) as client:
        return set(client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes)))


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in result.items() if key != "run_id"}


def test_dask_runner_writes_the_same_rows_as_threads(
    cluster: distributed.LocalCluster, tmp_path: Path
) -> None:
    threads_dir = tmp_path / "threads"
    dask_dir = tmp_path / "dask"
    on_threads = ingest(
        sources=[str(SAMPLES)], data_dir=str(threads_dir), batch_size=4, task_runner="threads"
    )
    on_dask = ingest(
        sources=[str(SAMPLES)],
        data_dir=str(dask_dir),
        batch_size=4,
        task_runner="dask",
        dask_address=cluster.scheduler_address,
    )

    assert _scheduler_task_prefixes(cluster) >= BATCH_TASKS
    assert on_dask["state"] == "completed"
    assert _summary(on_dask) == _summary(on_threads)
    assert on_dask["articles_written"] == 10
    for table, query in COMPARED.items():
        assert sql(dask_dir, query) == sql(threads_dir, query), table
    again = ingest(
        sources=[str(SAMPLES)],
        data_dir=str(dask_dir),
        batch_size=4,
        task_runner="dask",
        dask_address=cluster.scheduler_address,
    )
    assert again["files_new"] == 0
    assert again["articles_written"] == 0


def test_runner_choice_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().task_runner == "threads"
    assert isinstance(task_runner_for("threads"), ThreadPoolTaskRunner)
    monkeypatch.setenv("NEWSFLOW_TASK_RUNNER", "dask")
    monkeypatch.setenv("NEWSFLOW_DASK_ADDRESS", "tcp://127.0.0.1:8786")
    settings = load_settings()
    assert (settings.task_runner, settings.dask_address) == ("dask", "tcp://127.0.0.1:8786")
    remote = task_runner_for(settings.task_runner, settings.dask_address)
    assert isinstance(remote, DaskTaskRunner)
    assert remote.address == "tcp://127.0.0.1:8786"
    local = task_runner_for("dask", None, api_url="http://127.0.0.1:4200/api")
    assert isinstance(local, DaskTaskRunner)
    assert local.address is None
    assert local.cluster_kwargs["n_workers"] == (os.cpu_count() or 1)
    assert local.cluster_kwargs["processes"] is True
    assert local.cluster_kwargs["env"] == {"PREFECT_API_URL": "http://127.0.0.1:4200/api"}
    runner = ConfiguredTaskRunner()
    assert runner.duplicate() == runner
    runner.choose("threads", None)
    with runner:
        assert runner._runner().__class__ is ThreadPoolTaskRunner


def test_cli_refuses_an_unknown_task_runner() -> None:
    result = CliRunner().invoke(app, ["ingest", str(SAMPLES), "--task-runner", "spark"])
    assert result.exit_code == 2
    assert "unknown task runner 'spark'" in result.output
