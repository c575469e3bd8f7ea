from __future__ import annotations

import hashlib
import json

import polars as pl

from tasks.identify import stable_article_id
from tasks.parse import parse_files
from tasks.schema import RAW_SCHEMA


def fetched(*files: tuple[str, str, object]) -> pl.DataFrame:
    """Fetched JSON files as ``(source, uri, document)``."""
    rows = []
    for source, uri, document in files:
        raw = json.dumps(document).encode()
        rows.append(
            {
                "uri": uri,
                "path": uri.removeprefix("file://"),
                "size_bytes": len(raw),
                "mtime_ns": 1,
                "raw": raw,
                "sha256": hashlib.sha256(raw).hexdigest(),
                "quarantine_reason": None,
                "source": source,
                "change": "new",
            }
        )
    return pl.DataFrame(rows, schema={**RAW_SCHEMA, "source": pl.String(), "change": pl.String()})


def test_json_record_ids_are_scoped_by_source_and_urls_are_not() -> None:
    records = parse_files(
        fetched(
            ("agency", "file:///land/agency/monday.json", [{"id": 1, "title": "A", "body": "Alpha."}]),
            (
                "agency",
                "file:///land/agency/tuesday.json",
                [{"id": 1, "title": "A", "body": "Alpha, updated."}],
            ),
            ("blog", "file:///land/blog/dump.json", [{"id": 1, "title": "B", "body": "Beta."}]),
            ("blog", "file:///land/blog/links.json", [{"url": "https://blog.example/b", "body": "Linked."}]),
        )
    )
    assert records["record_key"].to_list() == [
        "json:agency#1",
        "json:agency#1",
        "json:blog#1",
        "https://blog.example/b",
    ]
    assert records["article_id"].to_list() == [stable_article_id(key) for key in records["record_key"]]
    assert records["article_id"].n_unique() == 3
