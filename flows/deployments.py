"""The deployments newsflow serves: one scheduled ingest per configured source, manual ingest, reprocess,
and nightly maintenance. ``prefect.yaml`` declares the same for a process work pool."""

from __future__ import annotations

from typing import Any

from prefect.deployments.runner import RunnerDeployment

from flows.ingest import ingest
from flows.maintenance import maintenance
from flows.reprocess import reprocess
from newsflow.settings import Settings
from newsflow.sources import SourceConfig

MANUAL_INGEST = "ingest/ingest-manual"
REPROCESS = "reprocess/reprocess"
MAINTENANCE = "maintenance/maintenance"


def scheduled_ingest_name(source: str) -> str:
    return f"ingest-{source}"


def build_deployments(settings: Settings, sources: list[SourceConfig]) -> list[RunnerDeployment]:
    """Deployments for ``newsflow serve``, all writing to ``settings.data_dir``."""
    data_dir = str(settings.data_dir.resolve())
    deployments: list[Any] = []
    for source in sources:
        parameters: dict[str, Any] = {
            "sources": source.location,
            "source_name": source.name,
            "data_dir": data_dir,
        }
        if source.field_map:
            parameters["field_map"] = source.field_map
        deployments.append(
            ingest.to_deployment(
                name=scheduled_ingest_name(source.name),
                cron=source.cron,
                interval=source.interval,
                parameters=parameters,
                tags=["newsflow", "scheduled"],
                description=f"Ingest source {source.name!r} ({source.schedule}).",
            )
        )
    deployments.append(
        ingest.to_deployment(
            name=MANUAL_INGEST.split("/")[1],
            parameters={"data_dir": data_dir},
            tags=["newsflow", "manual"],
            description="Ingest files, folders, globs or URLs given as the `sources` parameter.",
        )
    )
    deployments.append(
        reprocess.to_deployment(
            name=REPROCESS.split("/")[1],
            parameters={"data_dir": data_dir},
            tags=["newsflow", "manual"],
            description="Rebuild articles from their raw files with the current pipeline.",
        )
    )
    deployments.append(
        maintenance.to_deployment(
            name=MAINTENANCE.split("/")[1],
            cron=settings.maintenance_cron,
            parameters={"data_dir": data_dir},
            tags=["newsflow", "scheduled"],
            description="Compact files, expire old snapshots, clean up, rebuild the search index.",
        )
    )
    return deployments


def resolve_deployment(name: str, sources: list[SourceConfig]) -> str:
    """The ``flow/deployment`` name for what a user typed: a source, a short name, or a full name."""
    if "/" in name:
        return name
    short = {
        "manual": MANUAL_INGEST,
        "ingest": MANUAL_INGEST,
        "ingest-manual": MANUAL_INGEST,
        "reprocess": REPROCESS,
        "maintenance": MAINTENANCE,
    }
    if name in {source.name for source in sources}:
        return f"ingest/{scheduled_ingest_name(name)}"
    if name in short:
        return short[name]
    if name.startswith("ingest-"):
        return f"ingest/{name}"
    raise KeyError(name)
