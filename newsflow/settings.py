"""The one settings object: every path and knob newsflow uses.

Values come, strongest first, from explicit arguments (CLI flags), environment variables ``NEWSFLOW_*``,
a TOML file (``NEWSFLOW_CONFIG``, else ``./newsflow.toml`` when present), then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_LANGUAGES = (
    "en",
    "de",
    "fr",
    "es",
    "it",
    "pt",
    "nl",
    "ru",
    "uk",
    "pl",
    "cs",
    "hu",
    "el",
    "bg",
    "ro",
    "sv",
    "da",
    "no",
    "fi",
    "tr",
    "ar",
    "he",
    "fa",
    "hi",
    "bn",
    "ur",
    "zh",
    "ja",
    "ko",
    "id",
    "vi",
    "th",
)


def _config_file() -> Path | None:
    explicit = os.environ.get("NEWSFLOW_CONFIG")
    if explicit:
        return Path(explicit)
    local = Path("newsflow.toml")
    return local if local.is_file() else None


class Settings(BaseSettings):
    """Everything newsflow needs to know about where things live and how hard to work."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Warehouse root: catalog, Parquet, quarantine.")
    landing_dir: Path = Field(default=Path("landing"), description="Default SOURCE for `newsflow ingest`.")
    catalog_url: str | None = Field(
        default=None,
        description="DuckLake metadata catalog, e.g. `postgres:dbname=news host=...`; "
        "default: a SQLite file in the data dir.",
    )
    data_path: str | None = Field(
        default=None,
        description="Where table Parquet files live (a folder or s3:// prefix); default: DATA_DIR/lake/.",
    )
    extension_dir: Path | None = Field(
        default=None, description="DuckDB extension directory; default: ~/.cache/newsflow/duckdb_extensions."
    )
    batch_size: int = Field(default=4000, ge=1, description="Files per batch task run.")
    batches_ahead: int | None = Field(
        default=None,
        ge=0,
        description="Batches read, parsed and enriched while the one before is written and registered; "
        "default: 1 with full enrichment (quicker, one more batch in memory), 0 with basic.",
    )
    anchor_repeats: bool = Field(
        default=False,
        description="Store the story-matching anchors of repeats too (articles that are certain matches "
        "of a stored one): a rewrite of a rewrite is found more often, at the cost of candidate searches "
        "that grow with every copy of a story.",
    )
    max_file_bytes: int = Field(default=10 * 1024 * 1024, ge=1, description="Larger files are quarantined.")
    languages: list[str] = Field(
        default=list(DEFAULT_LANGUAGES), description="Languages the detector may answer."
    )
    sources_file: Path = Field(default=Path("sources.toml"), description="TOML file of named sources.")
    field_map: dict[str, str] = Field(
        default_factory=dict,
        description="JSON dumps: our column -> their field (dotted paths allowed) for unknown names.",
    )
    snapshot_retention_days: float = Field(
        default=7.0, ge=0, description="Maintenance expires lake snapshots older than this."
    )
    maintenance_cron: str = Field(default="0 3 * * *", description="When the maintenance deployment runs.")
    enrichment: Literal["full", "basic"] = Field(
        default="full",
        description="full: language, dates, tone, keywords, near-duplicates, entities, quotes; "
        "basic: language, word count, dates only.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="Endpoint of an S3-compatible store (else AWS_ENDPOINT_URL[_S3])."
    )
    http_timeout_seconds: float = Field(default=30.0, gt=0, description="Per-request timeout for URLs.")
    http_retries: int = Field(default=3, ge=0, description="Retries of a failed HTTP request, with backoff.")
    http_concurrency: int = Field(default=8, ge=1, description="HTTP requests at once, in total.")
    http_per_host: int = Field(default=4, ge=1, description="HTTP requests at once to one host.")
    search_index: bool = Field(
        default=True, description="Keep the full-text index up to date in runs that write."
    )
    duckdb_memory_limit: str = Field(
        default="1GB",
        description="DuckDB memory limit of the writer's connections (catalog, story grouping, search "
        "index); beyond it DuckDB spills to DATA_DIR/.duckdb-spill.",
    )
    lock_timeout_seconds: float = Field(
        default=3600.0, description="How long a run waits for another writer."
    )
    task_runner: Literal["threads", "dask"] = Field(
        default="threads",
        description="Where batch tasks run: threads in the flow's process, or a Dask cluster.",
    )
    dask_address: str | None = Field(
        default=None,
        description='Scheduler of a running Dask cluster (`tcp://host:8786`) for `task_runner = "dask"`; '
        "default: a local cluster with a worker process per core.",
    )
    s3_url_style: Literal["path", "vhost"] | None = Field(
        default=None,
        description="S3 addressing for an `s3://` data path: `path` (default with a custom endpoint, as "
        "MinIO and most S3-compatible stores want) or `vhost` (default on AWS).",
    )
    writer_grace_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="With a shared catalog (PostgreSQL), how long an unregistered lake file or a `running` "
        "run that stopped committing must be left alone before a run treats it as a crashed writer's.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @property
    def catalog(self) -> str:
        """The DuckLake catalog connection string, without the ``ducklake:`` prefix."""
        return self.catalog_url or f"sqlite:{(self.data_dir / 'catalog.sqlite').resolve()}"

    @property
    def catalog_is_shared(self) -> bool:
        """True for a catalog that writers on several machines use at once (PostgreSQL).

        Such writers cannot share the local writer lock; DuckLake's conflict detection keeps them apart.
        """
        return self.catalog.startswith(("postgres:", "postgresql:"))

    @property
    def lake_path(self) -> str:
        """Root of the lake's Parquet files, with a trailing slash."""
        path = self.data_path or str((self.data_dir / "lake").resolve())
        return path if path.endswith("/") else path + "/"

    @property
    def extensions_path(self) -> Path:
        if self.extension_dir is not None:
            return self.extension_dir.resolve()
        cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return (cache_home / "newsflow" / "duckdb_extensions").resolve()

    @property
    def lock_path(self) -> Path:
        return (self.data_dir / ".writer.lock").resolve()


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and config file, with non-None ``overrides`` on top."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
