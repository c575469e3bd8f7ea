from __future__ import annotations

import polars as pl

from tasks.identify import KNOWN_HASHES_SCHEMA, KNOWN_RECORDS_SCHEMA, assign_identities, stable_article_id


def _records(*rows: tuple[str, str | None, str | None]) -> pl.DataFrame:
    frame = pl.DataFrame(
        rows,
        schema={"record_key": pl.String(), "sha256": pl.String(), "quarantine_reason": pl.String()},
        orient="row",
    )
    is_sidecar = pl.col("record_key").str.ends_with(".json")
    return frame.with_columns(
        pl.when(is_sidecar).then(pl.lit("sidecar")).otherwise(pl.lit("text")).alias("raw_format")
    )


def test_new_records_get_stable_ids_and_batch_duplicates_point_at_the_first() -> None:
    records = _records(
        ("a", "h1", None),
        ("b", "h2", None),
        ("c", "h1", None),
        ("d", None, "empty file"),
        ("b.json", "h3", "sidecar"),
    )
    result = assign_identities(
        records, pl.DataFrame(schema=KNOWN_HASHES_SCHEMA), pl.DataFrame(schema=KNOWN_RECORDS_SCHEMA)
    )
    assert result["status"].to_list() == ["ingested", "ingested", "duplicate", "quarantined", "skipped"]
    assert result["reason"].to_list()[4] == "sidecar"
    assert result["article_id"].to_list() == [
        stable_article_id("a"),
        stable_article_id("b"),
        stable_article_id("a"),
        None,
        None,
    ]
    assert result["reason"].to_list()[3] == "empty file"


def test_known_content_is_a_duplicate_and_known_records_are_unchanged_or_replaced() -> None:
    records = _records(("copy", "h-old", None), ("same", "h-same", None), ("edited", "h-new", None))
    known_hashes = pl.DataFrame({"content_hash": ["h-old"], "article_id": ["orig"]})
    known_records = pl.DataFrame(
        {
            "record_key": ["same", "edited"],
            "sha256": ["h-same", "h-before"],
            "article_id": [stable_article_id("same"), stable_article_id("edited")],
            "status": ["ingested", "ingested"],
        }
    )
    result = assign_identities(records, known_hashes, known_records)
    assert result.select("status", "article_id", "replaces_previous").rows() == [
        ("duplicate", "orig", False),
        ("unchanged", stable_article_id("same"), False),
        ("ingested", stable_article_id("edited"), True),
    ]


def test_stable_article_id_is_stable() -> None:
    assert stable_article_id("file:///x.txt") == stable_article_id("file:///x.txt")
    assert len(stable_article_id("file:///x.txt")) == 16


def test_an_entry_listed_twice_in_a_batch_is_one_article() -> None:
    records = _records(
        ("feed#entry-1", "h1", None),
        ("feed#entry-2", "h2", None),
        ("feed#entry-1", "h1", None),
        ("feed#entry-2", "h2-edited", None),
    )
    result = assign_identities(
        records, pl.DataFrame(schema=KNOWN_HASHES_SCHEMA), pl.DataFrame(schema=KNOWN_RECORDS_SCHEMA)
    )
    assert result.select("status", "article_id").rows() == [
        ("ingested", stable_article_id("feed#entry-1")),
        ("ingested", stable_article_id("feed#entry-2")),
        ("duplicate", stable_article_id("feed#entry-1")),
        ("skipped", None),
    ]
    assert result["reason"][3] == "the same entry, with other content, comes earlier in this batch"
