"""Named sources from a TOML file: where each lives, how to read it, and when to ingest it.

```toml
[sources.wire]
location = "/srv/landing/wire"            # a folder, file, glob, URL, or a list of them
interval = "15m"                          # or: cron = "*/15 * * * *"

[sources.npr]
location = "https://feeds.npr.org/1019/rss.xml"
cron = "0 * * * *"

[sources.api-dump]
location = "s3://news-bucket/dumps/"
interval = 3600
field_map = { body = "fields.bodyText" }  # JSON fields newsflow does not know by name
```
"""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class SourcesFileError(ValueError):
    """The sources file cannot be used."""


class SourceConfig(BaseModel):
    """One named source."""

    name: str
    location: list[str]
    cron: str | None = None
    interval_seconds: float | None = Field(default=None, gt=0)
    field_map: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use letters, digits, '.', '_' or '-' (at most 64), first a letter or digit")
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> SourceConfig:
        if self.cron and self.interval_seconds:
            raise ValueError("give either cron or interval, not both")
        if not self.location:
            raise ValueError("location is empty")
        return self

    @property
    def interval(self) -> timedelta | None:
        return timedelta(seconds=self.interval_seconds) if self.interval_seconds else None

    @property
    def schedule(self) -> str:
        if self.cron:
            return f"cron {self.cron}"
        if self.interval_seconds:
            return f"every {self.interval_seconds:g} s"
        return "manual only"


def parse_interval(value: Any) -> float:
    """Seconds from ``900``, ``"900"``, ``"15m"``, ``"2h"`` or ``"1d"``."""
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"not an interval: {value!r} (use seconds or e.g. '15m', '2h', '1d')")
    return float(match.group(1)) * _UNITS[match.group(2)]


def load_sources(path: Path) -> list[SourceConfig]:
    """The sources in ``path``, in file order; no file means no sources."""
    if not path.is_file():
        return []
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SourcesFileError(f"{path}: {error}") from None
    table = document.get("sources", {})
    if not isinstance(table, dict):
        raise SourcesFileError(f"{path}: [sources] must be a table of named sources")
    sources = []
    for name, entry in table.items():
        if not isinstance(entry, dict):
            raise SourcesFileError(f"{path}: sources.{name} must be a table")
        location = entry.get("location")
        try:
            sources.append(
                SourceConfig(
                    name=name,
                    location=[location] if isinstance(location, str) else list(location or []),
                    cron=entry.get("cron"),
                    interval_seconds=parse_interval(entry["interval"]) if "interval" in entry else None,
                    field_map=entry.get("field_map", {}),
                )
            )
        except ValueError as error:
            raise SourcesFileError(f"{path}: sources.{name}: {error}") from None
    return sources
