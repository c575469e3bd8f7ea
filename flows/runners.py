"""Where a flow's batch tasks run: a thread pool in the flow's process, or a Dask cluster (prefect-dask).

Only the batch tasks submitted with ``.submit`` (fetch, parse, clean, enrich) go to the runner; writing
Parquet and registering it in the catalog stay in the flow's own process, the one writer of its run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import ExitStack
from typing import Any, Literal

from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture, PrefectFutureList
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from newsflow.settings import Settings, load_settings

THREADS = 4
"""Threads of the default runner: batches read, parsed and enriched at once in the flow's process."""

RunnerKind = Literal["threads", "dask"]


def local_cluster_kwargs(api_url: str | None = None) -> dict[str, Any]:
    """A ``distributed.LocalCluster`` of one single-threaded worker process per core, no dashboard.

    Args:
        api_url: The Prefect API the flow run talks to, handed to the workers so that their task runs
            report to it (without it, a flow run on Prefect's temporary server would make every worker
            start a temporary server of its own).
    """
    kwargs: dict[str, Any] = {
        "n_workers": os.cpu_count() or 1,
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": None,
    }
    if api_url:
        kwargs["env"] = {"PREFECT_API_URL": api_url}
    return kwargs


def task_runner_for(
    kind: RunnerKind, dask_address: str | None = None, api_url: str | None = None
) -> TaskRunner[Any]:
    """The Prefect task runner for ``kind``.

    Args:
        kind: ``threads`` for a thread pool in this process, ``dask`` for a Dask cluster.
        dask_address: The scheduler of a running Dask cluster (``tcp://host:8786``); without one, ``dask``
            starts a ``LocalCluster`` with a worker process per core for the flow run and stops it after.
        api_url: The Prefect API for the workers of such a local cluster.

    Returns:
        A task runner, not yet started.
    """
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=THREADS)
    from prefect_dask import DaskTaskRunner

    if dask_address:
        return DaskTaskRunner(address=dask_address)
    return DaskTaskRunner(cluster_kwargs=local_cluster_kwargs(api_url))


def describe_runner(kind: RunnerKind, dask_address: str | None) -> str:
    """How a run's batch tasks are executed, for its log."""
    if kind == "threads":
        return f"{THREADS} threads in the flow's process"
    if dask_address:
        return f"the Dask cluster at {dask_address}"
    return f"a local Dask cluster of {os.cpu_count() or 1} worker processes"


class ConfiguredTaskRunner(TaskRunner[PrefectFuture[Any]]):
    """Threads or Dask, as the flow run's settings say, decided before its first task is submitted.

    A flow's task runner is fixed when the flow is defined, before its parameters are known; this one
    starts the runner it is told by :func:`choose_task_runner` (or, when the flow never says, the one
    the settings name) on the first submission, so ``NEWSFLOW_TASK_RUNNER``, ``--task-runner`` and the
    ``task_runner`` flow parameter all work for CLI runs, served deployments and work-pool workers alike.
    A run that submits nothing starts no cluster.
    """

    def __init__(self) -> None:
        super().__init__()
        self._choice: tuple[RunnerKind, str | None] | None = None
        self._delegate: TaskRunner[Any] | None = None
        self._stack = ExitStack()

    @property
    def name(self) -> str:
        return "newsflow"

    def duplicate(self) -> ConfiguredTaskRunner:
        return type(self)()

    def choose(self, kind: RunnerKind, dask_address: str | None) -> None:
        """Use ``kind`` (and the Dask scheduler at ``dask_address``) for this run's tasks."""
        if self._delegate is not None and self._choice != (kind, dask_address):
            raise RuntimeError("the task runner was chosen after tasks had been submitted")
        self._choice = (kind, dask_address)

    def _runner(self) -> TaskRunner[Any]:
        if self._delegate is None:
            if self._choice is None:
                settings = load_settings()
                self._choice = (settings.task_runner, settings.dask_address)
            context = FlowRunContext.get()
            api_url = str(context.client.api_url) if context is not None and context.client else None
            self._delegate = self._stack.enter_context(task_runner_for(*self._choice, api_url=api_url))
        return self._delegate

    def submit(  # type: ignore[override]
        self,
        task: Any,
        parameters: dict[str, Any],
        wait_for: Iterable[PrefectFuture[Any]] | None = None,
        dependencies: dict[str, set[Any]] | None = None,
    ) -> PrefectFuture[Any]:
        return self._runner().submit(task, parameters, wait_for, dependencies)

    def map(  # type: ignore[override]
        self,
        task: Any,
        parameters: dict[str, Any],
        wait_for: Iterable[PrefectFuture[Any]] | None = None,
    ) -> PrefectFutureList[PrefectFuture[Any]]:
        return self._runner().map(task, parameters, wait_for)

    def cancel_all(self) -> None:
        cancel = getattr(self._delegate, "cancel_all", None)
        if cancel is not None:
            cancel()

    def __enter__(self) -> ConfiguredTaskRunner:
        super().__enter__()
        self._stack = ExitStack()
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        try:
            self._stack.__exit__(exc_type, exc_value, traceback)
        finally:
            self._delegate = None
            super().__exit__(exc_type, exc_value, traceback)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConfiguredTaskRunner)

    def __hash__(self) -> int:
        return hash(type(self))


def choose_task_runner(settings: Settings) -> str:
    """Point the current flow run's :class:`ConfiguredTaskRunner` at the runner ``settings`` name.

    A flow given another runner explicitly (``ingest.with_options(task_runner=DaskTaskRunner(...))``)
    keeps it.

    Returns:
        How the run's batch tasks are executed, for the run's log.
    """
    context = FlowRunContext.get()
    runner = context.task_runner if context is not None else None
    if isinstance(runner, ConfiguredTaskRunner):
        runner.choose(settings.task_runner, settings.dask_address)
        return describe_runner(settings.task_runner, settings.dask_address)
    return f"the flow's own task runner ({type(runner).__name__})"
