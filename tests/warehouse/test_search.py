from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

import warehouse.search
from newsflow.settings import Settings, load_settings
from tasks.schema import ARTICLE_COLUMNS, conform
from tasks.write import write_article_partitions
from warehouse.catalog import connect_writer
from warehouse.register import article_table_root, commit_batch
from warehouse.search import (
    FTS_SCHEMA,
    SEARCH_TABLE,
    SearchIndexFeed,
    SearchIndexRefresh,
    connect_index,
    refresh_search_index,
    search_index_path,
)

FIRST_RUN = {
    "a": (
        "Harbour bridge repairs",
        "The council will repair the harbour bridge before winter storms arrive.",
    ),
    "b": (
        "Zeppelin museum opens",
        "A museum about airships opened downtown; the zeppelin exhibit is popular.",
    ),
    "c": ("Election night", "Voters queued at the polls as the election campaign closed with a rally."),
    "d": ("Football final", "The final ended with a late goal and the fans celebrated in the harbour."),
    "e": ("Budget talks", "Ministers discussed the budget, taxes and spending on schools and roads."),
    "f": ("Library hours", "The library extends opening hours on Friday and Saturday for students."),
    "g": ("Weather warning", "Storms and heavy rain are expected along the coast this weekend."),
    "h": ("Tech startup", "A startup raised money to build batteries for electric buses."),
    "i": ("Rail strike", "Train drivers will strike over pay; commuters should expect delays."),
    "j": ("Concert review", "The orchestra played a bold programme to a full concert hall."),
    "k": ("Hospital funding", "The hospital receives new funding for nurses and a cancer ward."),
    "l": ("Port expansion", "The port expansion brings more ships, cranes and jobs to the harbour town."),
}
QUERIES = (
    "harbour",
    "harbour bridge storms",
    "election rally budget",
    "zeppelin",
    "quasar telescope",
    "museum",
    "startup",
    "tech",
    "hours",
    "nothingmatchesthis",
)


def _articles(run_id: str, rows: dict[str, tuple[str | None, str | None]]) -> pl.DataFrame:
    return conform(
        pl.DataFrame(
            {
                "article_id": list(rows),
                "source": ["wire"] * len(rows),
                "content_hash": [f"{run_id}-{article_id}" for article_id in rows],
                "title": [title for title, _ in rows.values()],
                "body": [body for _, body in rows.values()],
                "run_id": [run_id] * len(rows),
            }
        ),
        ARTICLE_COLUMNS,
    )


def _commit(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    rows: dict[str, tuple[str | None, str | None]],
    replaced: list[str],
) -> None:
    files = (
        write_article_partitions(
            _articles(run_id, rows), article_table_root(settings.lake_path), f"{run_id}-{uuid.uuid4().hex}"
        )
        if rows
        else []
    )
    commit_batch(
        con,
        article_files=files,
        replaced_article_ids=replaced,
        tables={},
        refreshed_files=None,
        run_row={"run_id": run_id, "state": "completed", "files_seen": len(rows)},
    )


def _snapshot(settings: Settings, path: Path) -> dict[str, list[tuple[object, ...]]]:
    """What a reader can observe of an index: scores per query, stats, dict, documents and postings."""
    con = connect_index(path, settings, read_only=True)
    try:
        observed = {
            query: con.execute(
                f"SELECT name, score FROM (SELECT article_id AS name, "
                f"{FTS_SCHEMA}.match_bm25(article_id, ?) AS score FROM {SEARCH_TABLE}) "
                "WHERE score IS NOT NULL ORDER BY name",
                [query],
            ).fetchall()
            for query in QUERIES
        }
        observed["stats"] = con.execute(f"SELECT num_docs, avgdl FROM {FTS_SCHEMA}.stats").fetchall()
        observed["dict"] = con.execute(f"SELECT term, df FROM {FTS_SCHEMA}.dict ORDER BY term").fetchall()
        observed["docs"] = con.execute(f"SELECT name, len FROM {FTS_SCHEMA}.docs ORDER BY name").fetchall()
        observed["postings"] = con.execute(
            f"SELECT d.name, t.fieldid, w.term, count(*) FROM {FTS_SCHEMA}.terms AS t "
            f"JOIN {FTS_SCHEMA}.docs AS d USING (docid) JOIN {FTS_SCHEMA}.dict AS w USING (termid) "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        observed["articles"] = con.execute(
            f"SELECT article_id, run_id FROM {SEARCH_TABLE} ORDER BY article_id"
        ).fetchall()
        return observed
    finally:
        con.close()


def _assert_same(
    incremental: dict[str, list[tuple[object, ...]]], rebuilt: dict[str, list[tuple[object, ...]]]
) -> None:
    assert incremental.keys() == rebuilt.keys()
    for key, rows in rebuilt.items():
        assert len(incremental[key]) == len(rows), key
        for got, expected in zip(incremental[key], rows, strict=True):
            assert got[:-1] == expected[:-1], key
            if isinstance(expected[-1], float):
                assert got[-1] == pytest.approx(expected[-1], abs=1e-9), key
            else:
                assert got[-1] == expected[-1], key


def _rebuilt_snapshot(settings: Settings, tmp_path: Path) -> dict[str, list[tuple[object, ...]]]:
    """The same observations from a from-scratch rebuild, leaving the incremental index in place."""
    target = search_index_path(settings)
    kept = tmp_path / "incremental.duckdb"
    shutil.copyfile(target, kept)
    try:
        assert refresh_search_index(settings, full=True).incremental is False
        return _snapshot(settings, target)
    finally:
        shutil.copyfile(kept, target)


@pytest.fixture
def writer(isolated_settings: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect_writer(load_settings())
    yield con
    con.close()


def test_incremental_refreshes_score_exactly_as_a_rebuild(
    writer: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    settings = load_settings()
    _commit(writer, settings, "r1", FIRST_RUN, [])
    first = refresh_search_index(settings)
    assert first == SearchIndexRefresh(articles=12, added=12, removed=0, incremental=False)

    _commit(
        writer,
        settings,
        "r2",
        {
            "a": ("Harbour bridge reopens", "Engineers finished early; the bridge reopens to traffic today."),
            "m": ("Quasar found", "Astronomers using a new telescope found a distant quasar."),
            "n": ("Harbour festival", "Boats, music and food fill the harbour for the summer festival."),
        },
        ["a", "b"],
    )
    second = refresh_search_index(settings)
    assert second == SearchIndexRefresh(articles=13, added=3, removed=2, incremental=True)
    incremental = _snapshot(settings, search_index_path(settings))
    assert incremental["zeppelin"] == [] and incremental["museum"] == []
    assert all(term != "zeppelin" for term, _ in incremental["dict"])
    assert [name for name, _ in incremental["quasar telescope"]] == ["m"]
    assert incremental["articles"][0] == ("a", "r2")
    _assert_same(incremental, _rebuilt_snapshot(settings, tmp_path))

    _commit(
        writer,
        settings,
        "r3",
        {
            "o": ("Museum night", "The zeppelin museum reopens at night with a new exhibit."),
            "p": (None, None),
        },
        ["h"],
    )
    third = refresh_search_index(settings)
    assert third == SearchIndexRefresh(articles=14, added=2, removed=1, incremental=True)
    incremental = _snapshot(settings, search_index_path(settings))
    assert [name for name, _ in incremental["zeppelin"]] == ["o"]
    assert incremental["startup"] == []
    assert ("p", 0) in incremental["docs"]
    _assert_same(incremental, _rebuilt_snapshot(settings, tmp_path))


OLDER_LAYOUTS = {
    "without run_id": [f"ALTER TABLE {SEARCH_TABLE} DROP COLUMN run_id"],
    "with a copy of the text": [
        f"ALTER TABLE {SEARCH_TABLE} ADD COLUMN title VARCHAR",
        f"ALTER TABLE {SEARCH_TABLE} ADD COLUMN body VARCHAR",
    ],
}


def _give_older_layout(settings: Settings, layout: str = "without run_id") -> None:
    """Make the index look written by an older version of newsflow (``OLDER_LAYOUTS``)."""
    con = duckdb.connect(str(search_index_path(settings)))
    try:
        for statement in OLDER_LAYOUTS[layout]:
            con.execute(statement)
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _fed(
    writer: duckdb.DuckDBPyConnection,
    settings: Settings,
    feed: SearchIndexFeed,
    run_id: str,
    rows: dict[str, tuple[str | None, str | None]],
    replaced: list[str],
) -> None:
    """Commit a batch as the ingest flow does, then hand its rows to ``feed``."""
    _commit(writer, settings, run_id, rows, replaced)
    feed.add(_articles(run_id, rows))


SECOND_RUN = {
    "a": ("Harbour bridge reopens", "Engineers finished early; the bridge reopens to traffic today."),
    "m": ("Quasar found", "Astronomers using a new telescope found a distant quasar."),
}


def test_an_index_fed_batch_by_batch_is_the_one_a_refresh_gives(
    writer: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    settings = load_settings()
    feed = SearchIndexFeed(settings)
    first_half = dict(list(FIRST_RUN.items())[:5])
    _fed(writer, settings, feed, "r1", first_half, [])
    _fed(writer, settings, feed, "r1", {**dict(list(FIRST_RUN.items())[5:]), **TRICKY}, [])
    assert not search_index_path(settings).exists()
    assert feed.finish() == SearchIndexRefresh(articles=18, added=18, removed=0, incremental=False)
    _assert_same(_snapshot(settings, search_index_path(settings)), _rebuilt_snapshot(settings, tmp_path))

    feed = SearchIndexFeed(settings)
    _fed(writer, settings, feed, "r2", SECOND_RUN, ["a"])
    _commit(writer, settings, "r2", {"n": ("Harbour festival", "Boats fill the harbour.")}, ["b"])
    _fed(writer, settings, feed, "r2", {"a": ("Harbour bridge open", "The bridge opened again.")}, ["a"])
    assert feed.finish() == SearchIndexRefresh(articles=19, added=4, removed=3, incremental=True)
    fed = _snapshot(settings, search_index_path(settings))
    assert fed["articles"][0] == ("a", "r2")
    assert fed["zeppelin"] == [] and [name for name, _ in fed["quasar telescope"]] == ["m"]
    _assert_same(fed, _rebuilt_snapshot(settings, tmp_path))
    assert not list(search_index_path(settings).parent.glob(".search.duckdb.*"))


def test_a_feed_that_fails_or_meets_an_older_index_falls_back_to_a_refresh(
    writer: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings()
    _commit(writer, settings, "r1", FIRST_RUN, [])
    refresh_search_index(settings)

    def failing(con: duckdb.DuckDBPyConnection, docs: pl.DataFrame) -> None:
        raise duckdb.IOException("disk full")

    with monkeypatch.context() as patched:
        patched.setattr(warehouse.search, "_add_chunk", failing)
        feed = SearchIndexFeed(settings)
        _fed(writer, settings, feed, "r2", SECOND_RUN, ["a"])
        _fed(writer, settings, feed, "r2", {"n": ("Harbour festival", "Boats fill the harbour.")}, [])
        assert not list(search_index_path(settings).parent.glob(".search.duckdb.*.tmp"))
    assert feed.finish() == SearchIndexRefresh(articles=14, added=3, removed=1, incremental=True)
    _assert_same(_snapshot(settings, search_index_path(settings)), _rebuilt_snapshot(settings, tmp_path))

    _give_older_layout(settings)
    feed = SearchIndexFeed(settings)
    _fed(writer, settings, feed, "r3", {"o": ("Museum night", "The museum reopens at night.")}, [])
    assert feed.finish() == SearchIndexRefresh(articles=15, added=15, removed=0, incremental=False)
    _assert_same(_snapshot(settings, search_index_path(settings)), _rebuilt_snapshot(settings, tmp_path))


def test_a_feed_closed_without_finishing_leaves_the_index_as_it_was(
    writer: duckdb.DuckDBPyConnection,
) -> None:
    settings = load_settings()
    _commit(writer, settings, "r1", FIRST_RUN, [])
    refresh_search_index(settings)
    before = _snapshot(settings, search_index_path(settings))
    feed = SearchIndexFeed(settings)
    _fed(writer, settings, feed, "r2", SECOND_RUN, ["a"])
    feed.close()
    assert _snapshot(settings, search_index_path(settings)) == before
    assert not list(search_index_path(settings).parent.glob(".search.duckdb.*"))
    refresh = refresh_search_index(settings)
    assert refresh == SearchIndexRefresh(articles=13, added=2, removed=1, incremental=True)


def test_a_refresh_with_nothing_changed_keeps_the_index(writer: duckdb.DuckDBPyConnection) -> None:
    settings = load_settings()
    _commit(writer, settings, "r1", FIRST_RUN, [])
    refresh_search_index(settings)
    before = _snapshot(settings, search_index_path(settings))
    file_before = search_index_path(settings).stat()
    assert refresh_search_index(settings) == SearchIndexRefresh(
        articles=12, added=0, removed=0, incremental=True
    )
    assert _snapshot(settings, search_index_path(settings)) == before
    file_after = search_index_path(settings).stat()
    assert (file_after.st_ino, file_after.st_mtime_ns) == (file_before.st_ino, file_before.st_mtime_ns)


def test_a_large_change_rebuilds_instead(writer: duckdb.DuckDBPyConnection) -> None:
    settings = load_settings()
    _commit(writer, settings, "r1", dict(list(FIRST_RUN.items())[:4]), [])
    refresh_search_index(settings)
    _commit(writer, settings, "r2", dict(list(FIRST_RUN.items())[4:]), [])
    refresh = refresh_search_index(settings)
    assert refresh == SearchIndexRefresh(articles=12, added=12, removed=0, incremental=False)


@pytest.mark.parametrize("layout", sorted(OLDER_LAYOUTS))
def test_an_index_of_an_older_layout_is_rebuilt(
    writer: duckdb.DuckDBPyConnection, tmp_path: Path, layout: str
) -> None:
    settings = load_settings()
    _commit(writer, settings, "r1", FIRST_RUN, [])
    refresh_search_index(settings)
    _give_older_layout(settings, layout)
    _commit(writer, settings, "r2", {"m": ("Quasar found", "A distant quasar.")}, [])
    refresh = refresh_search_index(settings)
    assert refresh == SearchIndexRefresh(articles=13, added=13, removed=0, incremental=False)
    assert _snapshot(settings, search_index_path(settings))["articles"][-1] == ("m", "r2")
    assert not list(search_index_path(settings).parent.glob(".search.duckdb.*"))


TRICKY = {
    "q1": ("Café in Zürich", "A naïve “We will” said the NATO’s chief; the 30-year-old U.S. envoy agreed."),
    "q2": ("İstanbul ﬁnance", "Prices rose ½ point, x² grew\u00a0fast — word—word\tand\u2009thin spaces."),
    "q3": ("北京 news", "مرحبا بالعالم and émigré crème brûlée, ÆON Ørsted STRASSE Straße 🎉 ok."),
    "q4": ("the and of", "it is what it is"),
    "q5": (None, "Only a body, with 'single' and \"double\" quotes and back`ticks` and a|pipe."),
    "q6": ("Title only", None),
}


def test_the_index_is_the_one_create_fts_index_builds(
    writer: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    settings = load_settings()
    _commit(writer, settings, "r1", {**FIRST_RUN, **TRICKY}, [])
    refresh_search_index(settings, full=True)
    ours = _snapshot(settings, search_index_path(settings))
    reference = tmp_path / "reference.duckdb"
    rows = writer.execute("SELECT article_id, title, body, run_id FROM articles ORDER BY article_id").arrow()
    con = connect_index(reference, settings)
    try:
        con.register("indexed_rows", rows)
        con.execute(f"CREATE TABLE {SEARCH_TABLE} AS SELECT * FROM indexed_rows")
        con.execute(
            f"PRAGMA create_fts_index('{SEARCH_TABLE}', 'article_id', 'title', 'body', stemmer = 'porter')"
        )
    finally:
        con.close()
    expected = _snapshot(settings, reference)
    assert {term for term, _ in expected["dict"]} >= {"cafe", "zurich", "“we", "北京", "grew\u00a0fast"}
    _assert_same(ours, expected)


@pytest.mark.parametrize(("shared", "kept"), [(False, set()), (True, {".search.duckdb.live.tmp"})])
def test_only_copies_of_the_index_left_by_killed_runs_are_removed(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch, shared: bool, kept: set[str]
) -> None:
    """Under the local writer lock every copy is stale; with a shared catalog a fresh one may be fed."""
    monkeypatch.setenv("NEWSFLOW_WRITER_GRACE_SECONDS", "600")
    settings = load_settings()
    monkeypatch.setattr(type(settings), "catalog_is_shared", property(lambda self: shared))
    target = search_index_path(settings)
    target.parent.mkdir(parents=True)
    for name in (".search.duckdb.live.tmp", ".search.duckdb.killed.tmp", ".search.duckdb.killed.tmp.wal"):
        (target.parent / name).write_bytes(b"index pages")
    an_hour_ago = time.time() - 3600
    for name in (".search.duckdb.killed.tmp", ".search.duckdb.killed.tmp.wal"):
        os.utime(target.parent / name, (an_hour_ago, an_hour_ago))
    warehouse.search._remove_stale_temporaries(target, settings)
    assert {path.name for path in target.parent.iterdir()} == kept
