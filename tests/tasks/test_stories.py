from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tasks import near_duplicates as nd
from tasks import stories
from tasks.near_duplicates import (
    SKETCH_ROWS_SCHEMA,
    assign_story_ids,
    compute_signatures,
    sketch_rows,
)
from tasks.stories import group_stories, load_stored_candidates, story_tables
from tests.tasks.test_near_duplicates import _frame, _story

TABLES_SQL = Path(__file__).resolve().parents[2] / "warehouse" / "sql" / "tables"


def _warehouse(sketches: pl.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in ("07_article_anchors.sql", "08_article_sketches.sql"):
        con.execute((TABLES_SQL / name).read_text())
    _insert(con, story_tables(sketches))
    return con


def _insert(con: duckdb.DuckDBPyConnection, rows: dict[str, pl.DataFrame]) -> None:
    for table, frame in rows.items():
        con.register("stored_rows", frame.to_arrow())
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM stored_rows")
        con.unregister("stored_rows")


def _stored(frame: pl.DataFrame) -> pl.DataFrame:
    signatures = compute_signatures(frame)
    return sketch_rows(signatures, assign_story_ids(signatures))


def _variant(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    for _ in range(rng.choice([0, 0, 1, 5, 20, 40])):
        words[rng.randrange(len(words))] = f"edit{rng.randrange(1000)}"
    cut = rng.choice([len(words), len(words), len(words) * 2 // 3, len(words) // 3])
    return " ".join(words[:cut])


def _batch(rng: random.Random, prefix: str, count: int) -> pl.DataFrame:
    day = datetime(2025, 3, 1)
    rows = []
    for index in range(count):
        seed = rng.randrange(12)
        words = rng.choice([30, 60, 200, 400])
        rows.append(
            {
                "article_id": f"{prefix}{index:03d}",
                "body": _variant(rng, _story(seed, words)),
                "published_at": day + timedelta(hours=rng.randrange(100)),
            }
        )
    return _frame(*rows)


def _group(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> dict[str, str]:
    grouped, _rows = group_stories(con, frame, compute_signatures(frame))
    return dict(grouped.select("article_id", "story_id").iter_rows())


@pytest.mark.parametrize("seed", range(4))
def test_warehouse_candidates_give_the_story_ids_of_all_stored_rows(seed: int) -> None:
    rng = random.Random(seed)
    stored = _stored(_batch(rng, "old", 120))
    arriving = pl.concat([_batch(rng, "new", 80), _batch(rng, "old", 10)])
    expected = dict(assign_story_ids(compute_signatures(arriving), stored).iter_rows())
    assert _group(_warehouse(stored), arriving) == expected


@pytest.mark.parametrize("seed", range(4))
def test_settled_groups_skip_only_comparisons_that_cannot_change_their_story(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    stored = _stored(_batch(rng, "old", 120))
    arriving = compute_signatures(pl.concat([_batch(rng, "new", 80), _batch(rng, "old", 10)]))
    settled_groups: list[int] = []
    settled_labels = nd._settled_labels

    def counted(*frames: pl.DataFrame) -> pl.DataFrame:
        settled = settled_labels(*frames)
        settled_groups.append(settled.height)
        return settled

    monkeypatch.setattr(nd, "_settled_labels", counted)
    pruned = assign_story_ids(arriving, stored)
    monkeypatch.setattr(nd, "_settled_labels", lambda *frames: pl.DataFrame(schema={"label": pl.UInt32}))
    assert pruned.equals(assign_story_ids(arriving, stored))
    assert settled_groups[0] > 0


def test_repeats_are_stored_without_anchors_and_later_batches_match_alike() -> None:
    rng = random.Random(11)
    con = _warehouse(_stored(_batch(rng, "old", 80)))
    second = _batch(rng, "mid", 60)
    _grouped, rows = group_stories(con, second, compute_signatures(second))
    sketches = rows["article_sketches"]
    assert 0 < sketches["anchored"].sum() < sketches.height
    assert set(rows["article_anchors"]["article_id"]) == set(sketches.filter("anchored")["article_id"])
    _grouped, anchoring_all = group_stories(con, second, compute_signatures(second), anchor_repeats=True)
    assert anchoring_all["article_sketches"]["anchored"].all()
    _insert(con, rows)
    third = _batch(rng, "new", 60)
    stored = con.execute("SELECT * FROM article_sketches").pl()
    expected = dict(assign_story_ids(compute_signatures(third), stored).iter_rows())
    assert _group(con, third) == expected


def _two_stored_stories() -> pl.DataFrame:
    return sketch_rows(
        compute_signatures(
            _frame({"article_id": "old-1", "body": _story(20)}, {"article_id": "old-2", "body": _story(21)})
        ),
        pl.DataFrame({"article_id": ["old-1", "old-2"], "story_id": ["story-A", "story-B"]}),
    )


def test_stored_stories_joined_and_kept() -> None:
    stored = _two_stored_stories()
    arriving = _frame(
        {"article_id": "new-1", "body": "Update: adds comment.\n\n" + _story(21)},
        {"article_id": "new-2", "body": _story(21) + " More."},
        {"article_id": "new-3", "body": _story(22)},
        {"article_id": "old-1", "body": _story(23)},
    )
    assert _group(_warehouse(stored), arriving) == {
        "new-1": "story-B",
        "new-2": "story-B",
        "new-3": "new-3",
        "old-1": "story-A",
    }
    candidates = load_stored_candidates(_warehouse(stored), compute_signatures(arriving))
    sketched = dict(candidates.articles.select("article_id", pl.col("sketch").is_not_null()).iter_rows())
    assert sketched == {"old-1": True, "old-2": False}


def test_new_articles_settled_by_anchors_read_no_stored_sketch(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = _two_stored_stories()
    arriving = _frame(
        {"article_id": "new-1", "body": "Update: adds comment.\n\n" + _story(21)},
        {"article_id": "new-3", "body": _story(22)},
    )
    queried: list[str] = []
    query = stories._query

    def recorded(
        con: duckdb.DuckDBPyConnection, sql: str, parameters: dict[str, int], **frames: pl.DataFrame
    ) -> pl.DataFrame:
        queried.append(sql)
        return query(con, sql, parameters, **frames)

    monkeypatch.setattr(stories, "_query", recorded)
    assert _group(_warehouse(stored), arriving) == {"new-1": "story-B", "new-3": "new-3"}
    candidates = load_stored_candidates(_warehouse(stored), compute_signatures(arriving))
    assert candidates.articles.select("article_id", "story_id", pl.col("sketch").is_null()).rows() == [
        ("old-2", "story-B", True)
    ]
    assert stories._STORED_IDS_SQL in queried
    assert stories._ARTICLES_SQL not in queried


def test_boilerplate_anchors_find_no_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tasks.near_duplicates.MAX_BUCKET", 2)
    rng = random.Random(7)
    stored = _stored(_batch(rng, "old", 60))
    arriving = _batch(rng, "new", 40)
    signatures = compute_signatures(arriving)
    expected = dict(assign_story_ids(signatures, stored).iter_rows())
    assert _group(_warehouse(stored), arriving) == expected
    candidates = load_stored_candidates(_warehouse(stored), signatures)
    assert candidates.pairs.height < load_stored_candidates_unbounded(stored, signatures)


def load_stored_candidates_unbounded(stored: pl.DataFrame, signatures: pl.DataFrame) -> int:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("tasks.near_duplicates.MAX_BUCKET", 10_000)
        return load_stored_candidates(_warehouse(stored), signatures).pairs.height


def test_empty_warehouse() -> None:
    frame = _frame({"article_id": "a", "body": _story(1)}, {"article_id": "b", "body": _story(1)})
    assert _group(_warehouse(pl.DataFrame(schema=SKETCH_ROWS_SCHEMA)), frame) == {"a": "a", "b": "a"}
