from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

import warehouse.catalog
from newsflow.settings import load_settings
from tasks.near_duplicates import compute_signatures, sketch_rows
from tasks.stories import story_tables
from warehouse.catalog import WarehouseMissingError, connect_writer, reader


def test_writer_adds_columns_that_newer_definitions_declare(isolated_settings: Path) -> None:
    con = connect_writer(load_settings())
    con.execute("ALTER TABLE ingested_files DROP COLUMN etag")
    con.execute("INSERT INTO ingested_files (uri, status) VALUES ('file:///a', 'ingested')")
    con.close()
    con = connect_writer(load_settings())
    columns = [
        name
        for (name,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'ingested_files'"
        ).fetchall()
    ]
    assert "etag" in columns
    assert con.execute("SELECT uri, etag FROM ingested_files").fetchall() == [("file:///a", None)]
    snapshots = con.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone()
    con.close()
    con = connect_writer(load_settings())
    assert con.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone() == snapshots


def test_views_are_created_once_and_answer(isolated_settings: Path) -> None:
    con = connect_writer(load_settings())
    views = {
        name
        for (name,) in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE database_name = 'lake'"
        ).fetchall()
    }
    assert {
        "daily_articles",
        "entity_mentions_daily",
        "top_people_weekly",
        "top_places_weekly",
        "quotes_by_speaker",
        "tone_daily",
        "country_mentions_daily",
    } <= views
    for view in views:
        con.execute(f"SELECT * FROM {view}").fetchall()
    snapshots = con.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone()
    con.close()
    con = connect_writer(load_settings())
    assert con.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone() == snapshots


KILLED_MID_COMMIT = """
import os, signal, sqlite3, sys
catalog = sqlite3.connect(sys.argv[1], isolation_level=None)
catalog.execute("PRAGMA cache_size = 1")
catalog.execute("BEGIN IMMEDIATE")
catalog.execute("CREATE TABLE half_committed (x)")
catalog.executemany("INSERT INTO half_committed VALUES (?)", [("x" * 500,) for _ in range(2000)])
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_reader_opens_a_catalog_whose_writer_was_killed_mid_commit(isolated_settings: Path) -> None:
    settings = load_settings()
    connect_writer(settings).close()
    catalog = settings.catalog.removeprefix("sqlite:")
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_COMMIT, catalog], check=False)
    assert killed.returncode == -signal.SIGKILL
    assert Path(f"{catalog}-journal").exists()

    with reader(settings) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (0,)
    with closing(sqlite3.connect(catalog)) as check:
        assert check.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'half_committed'"
        ).fetchone() == (0,)


def test_writer_moves_old_signature_rows_into_sketches_and_anchors(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = pl.DataFrame(
        {
            "article_id": [f"a{number}" for number in range(5)],
            "title": [f"Story {number}" for number in range(5)],
            "body": [
                " ".join(f"word{number}x{index}" for index in range(40 + 30 * number)) for number in range(5)
            ],
            "published_at": [None, *[datetime(2025, 1, number) for number in range(1, 5)]],
        }
    )
    signatures = compute_signatures(articles)
    expected = story_tables(
        sketch_rows(signatures, articles.select("article_id", story_id=pl.lit("story-1")))
    )
    old_rows = (
        expected["article_sketches"]
        .with_columns(slot=pl.int_ranges(pl.col("sketch").list.len(), dtype=pl.Int16))
        .explode("sketch", "slot")
        .rename({"sketch": "shingle_hash"})
        .drop("anchored")
    )
    con = connect_writer(load_settings())
    con.execute("DROP TABLE article_anchors")
    con.execute("DROP TABLE article_sketches")
    con.execute(
        "CREATE TABLE article_signatures (article_id VARCHAR, story_id VARCHAR, published_at TIMESTAMP, "
        "n_shingles INTEGER, slot SMALLINT, shingle_hash UBIGINT)"
    )
    con.register("old_rows", old_rows.to_arrow())
    con.execute("INSERT INTO article_signatures BY NAME SELECT * FROM old_rows")
    con.close()
    monkeypatch.setattr("warehouse.catalog.SIGNATURE_ROWS_PER_MOVE", 100)
    con = connect_writer(load_settings())
    tables = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "article_signatures" not in tables
    for table, frame in expected.items():
        stored = con.execute(f"SELECT * FROM {table}").pl()
        assert stored.sort(stored.columns).equals(frame.sort(frame.columns)), table
    con.close()


def test_a_new_catalog_appears_whole_under_its_name(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings()
    catalog = Path(settings.catalog.removeprefix("sqlite:"))
    seen_while_defining: list[bool] = []
    define = warehouse.catalog._define

    def watched_define(con: duckdb.DuckDBPyConnection) -> None:
        seen_while_defining.append(catalog.exists())
        define(con)

    monkeypatch.setattr(warehouse.catalog, "_define", watched_define)
    connect_writer(settings).close()
    assert seen_while_defining[0] is False
    assert [path.name for path in catalog.parent.iterdir() if path.name.startswith(".")] == []
    with reader(settings) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM daily_articles").fetchone() == (0,)


def test_a_catalog_file_without_a_lake_in_it_is_no_warehouse(isolated_settings: Path) -> None:
    settings = load_settings()
    catalog = Path(settings.catalog.removeprefix("sqlite:"))
    catalog.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(catalog)) as unfinished:
        unfinished.execute("CREATE TABLE placeholder (x INTEGER)")
    with pytest.raises(WarehouseMissingError, match="run `newsflow ingest` first"), reader(settings):
        pass


def test_drafts_a_killed_writer_left_are_removed_when_stale(isolated_settings: Path) -> None:
    settings = load_settings()
    catalog = Path(settings.catalog.removeprefix("sqlite:"))
    catalog.parent.mkdir(parents=True, exist_ok=True)
    stale, fresh = (catalog.parent / f".{catalog.name}.creating-{name}" for name in ("old", "new"))
    for draft in (stale, fresh):
        draft.mkdir()
        (draft / catalog.name).write_bytes(b"half a catalog")
    old = time.time() - warehouse.catalog.STALE_DRAFT_SECONDS - 60
    os.utime(stale, (old, old))
    connect_writer(settings).close()
    assert not stale.exists()
    assert fresh.exists()
