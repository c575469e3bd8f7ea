"""The data files that ship with the tasks (gazetteer tables, name lists)."""

from __future__ import annotations

import csv
from pathlib import Path

ENTITY_DATA = Path(__file__).resolve().parent / "data" / "entities"


def entity_rows(name: str) -> list[dict[str, str]]:
    """The rows of one of the entity data's CSV files (``region_abbrev.csv`` ...), as dictionaries."""
    with (ENTITY_DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
