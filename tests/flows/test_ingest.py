from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.testing.utilities import prefect_test_harness

import flows.ingest
from flows.ingest import ingest
from newsflow.settings import load_settings
from warehouse.catalog import connect_reader

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture(scope="session", autouse=True)
def prefect_backend() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=120):
        yield


def sql(data_dir: Path, query: str, *params: Any) -> list[tuple[Any, ...]]:
    con = connect_reader(load_settings(data_dir=data_dir))
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


def test_samples_ingest_once_with_bad_files_quarantined(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = ingest(sources=[str(SAMPLES)], data_dir=str(data))
    assert first["state"] == "completed"
    statuses = dict(sql(data, "SELECT status, count(*) FROM ingested_files GROUP BY status"))
    assert statuses == {"ingested": 10, "duplicate": 1, "quarantined": 3, "skipped": 2}
    reasons = dict(
        sql(data, "SELECT regexp_extract(uri, '[^/]+$'), reason FROM ingested_files WHERE reason IS NOT NULL")
    )
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["photo-upload.txt"] or "PNG" in reasons["photo-upload.txt"]
    assert "headline" in reasons["headline-only.txt"]
    assert "sidecar" in reasons["harbour-festival.json"]
    assert "partial" in reasons["incoming-story.txt.part"]
    assert first["articles_written"] == sql(data, "SELECT count(*) FROM articles")[0][0] == 10
    ((uri, byline, published),) = sql(
        data, "SELECT uri, byline, published_at::VARCHAR FROM articles WHERE title LIKE 'Harbour festival%'"
    )
    assert (uri, byline, published) == (
        "https://news.example.org/2025/08/harbour-festival",
        "Priya Nair",
        "2025-08-04 09:30:00",
    )
    second = ingest(sources=[str(SAMPLES)], data_dir=str(data))
    assert second["files_new"] == 0
    assert second["articles_written"] == 0
    assert second["files_unchanged"] == first["files_seen"]


def test_changed_file_is_reingested_as_a_new_version(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLES / "wire", landing)
    data = tmp_path / "data"
    ingest(sources=[str(landing)], data_dir=str(data))
    before = dict(sql(data, "SELECT uri, article_id FROM articles"))
    story = landing / "grain-exports.txt"
    story.write_text(story.read_text().replace("12 pct", "14 pct"))
    touched = landing / "storm-warning.txt"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10_000_000_000))
    run = ingest(sources=[str(landing)], data_dir=str(data))
    assert run["files_new"] == 1
    assert run["articles_written"] == 1
    after = dict(sql(data, "SELECT uri, article_id FROM articles"))
    assert after == before
    assert sql(data, "SELECT count(*) FROM articles WHERE body LIKE '%14 pct%'") == [(1,)]
    assert sql(data, "SELECT count(*) FROM articles WHERE body LIKE '%12 pct%'") == [(0,)]
    indexed = "SELECT article_id, run_id FROM {} ORDER BY article_id"
    assert sql(data, indexed.format("article_search")) == sql(data, indexed.format("articles"))
    third = ingest(sources=[str(landing)], data_dir=str(data))
    assert third["files_new"] == 0


def test_search_finds_ingested_articles_and_query_reaches_the_index(tmp_path: Path) -> None:
    from warehouse.search import search_articles

    data = tmp_path / "data"
    ingest(sources=[str(SAMPLES)], data_dir=str(data))
    found = search_articles(load_settings(data_dir=data), "harbour bridge repair", limit=3).to_pylist()
    assert found[0]["title"] == "Harbour bridge reopens after three-month repair"
    rows = sql(
        data,
        "SELECT a.title FROM (SELECT article_id, fts_main_article_search.match_bm25(article_id, 'library') "
        "AS score FROM article_search) s JOIN articles a USING (article_id) WHERE s.score IS NOT NULL",
    )
    assert rows == [("City library opens late on Fridays",)]


def test_maintenance_compacts_and_keeps_results_and_reprocess_rebuilds(tmp_path: Path) -> None:
    from flows.maintenance import maintenance
    from flows.reprocess import reprocess

    data = tmp_path / "data"
    for folder in ("wire", "features"):
        ingest(sources=[str(SAMPLES / folder)], data_dir=str(data), batch_size=2)
    query = (
        "SELECT article_id, source, published_at, published_at_source, title, body, story_id, tone "
        "FROM articles ORDER BY article_id"
    )
    before = sql(data, query)
    files_before = sql(data, "SELECT count(*) FROM ducklake_list_files('lake', 'articles')")[0][0]
    report = maintenance(data_dir=str(data), retention_days=0)
    assert report["after"]["data_files"] < report["before"]["data_files"]
    assert sql(data, "SELECT count(*) FROM ducklake_list_files('lake', 'articles')")[0][0] < files_before
    assert sql(data, query) == before

    result = reprocess(source="wire", data_dir=str(data))
    assert result["selected"] == result["rebuilt"] == 4
    after = sql(data, query)
    assert after == before
    runs = dict(sql(data, "SELECT article_id, run_id FROM articles"))
    rebuilt = {article for article, run in runs.items() if run == result["run_id"]}
    assert len(rebuilt) == 4
    indexed = "SELECT article_id, run_id FROM {} ORDER BY article_id"
    assert sql(data, indexed.format("article_search")) == sql(data, indexed.format("articles"))
    assert sql(
        data,
        "SELECT count(*) FROM article_entities WHERE article_id NOT IN (SELECT article_id FROM articles)",
    ) == [(0,)]


def test_reprocess_after_an_enrichment_change_updates_only_the_selected_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.common
    import tasks.enrich
    from flows.reprocess import reprocess

    data = tmp_path / "data"
    for folder in ("wire", "features"):
        ingest(sources=[str(SAMPLES / folder)], data_dir=str(data))
    query = "SELECT article_id, source, tone, pipeline_version, run_id, title, body FROM articles"
    before = {row[0]: row for row in sql(data, query)}
    original_score_tone = tasks.enrich.score_tone

    def shifted_score_tone(*args: Any, **kwargs: Any) -> Any:
        import polars as pl

        return original_score_tone(*args, **kwargs).with_columns(pl.col("tone") + 100.0)

    monkeypatch.setattr(tasks.enrich, "score_tone", shifted_score_tone)
    monkeypatch.setattr(flows.common, "PIPELINE_VERSION", "9.9.9-test")
    result = reprocess(source="wire", data_dir=str(data))

    after = {row[0]: row for row in sql(data, query)}
    assert after.keys() == before.keys()
    wire = {article for article, row in before.items() if row[1] == "wire"}
    assert wire and len(wire) < len(before) and result["rebuilt"] == len(wire)
    for article, row in after.items():
        old = before[article]
        if article in wire:
            assert row[1] == old[1] == "wire"
            assert row[2] == pytest.approx(old[2] + 100.0)
            assert row[3] == "9.9.9-test" and row[4] == result["run_id"]
            assert row[5:] == old[5:]
        else:
            assert row == old
    assert sql(data, "SELECT count(*) - count(DISTINCT article_id) FROM articles") == [(0,)]


def _item(guid: str, title: str, body: str) -> str:
    return (
        f"<item><title>{title}</title><link>https://news.example/{guid}</link><guid>{guid}</guid>"
        f"<pubDate>Mon, 12 May 2025 09:00:00 +0000</pubDate><description>{body}</description></item>"
    )


def test_a_feed_listing_an_entry_twice_gives_one_article(tmp_path: Path) -> None:
    eclipse = (
        "REYKJAVIK — Iceland is preparing for its first total solar eclipse in almost 70 years, "
        "said Arnar Olafsson of the Icelandic Tourist Board, as hotels in the Westfjords fill up."
    )
    volcano = (
        "GRINDAVIK, Iceland — A volcano on the Reykjanes peninsula erupted for the eighth time in a year, "
        "sending lava towards the evacuated town of Grindavik, Iceland's civil protection agency said."
    )
    feed = tmp_path / "landing" / "iceland.xml"
    feed.parent.mkdir()
    feed.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Iceland News</title>'
        "<link>https://news.example/</link>"
        + _item("eclipse", "Iceland braces for eclipse tourism", eclipse)
        + _item("volcano", "Reykjanes volcano erupts again", volcano)
        + _item("eclipse", "Iceland braces for eclipse tourism", eclipse)
        + _item("volcano", "Reykjanes volcano erupts again", volcano.replace("eighth", "ninth"))
        + "</channel></rss>"
    )
    data = tmp_path / "data"
    run = ingest(sources=[str(feed.parent)], data_dir=str(data))
    assert (run["articles_written"], run["duplicates"]) == (2, 1)
    assert sql(data, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [(2, 2)]
    assert sql(data, "SELECT status, count(*) FROM ingested_files GROUP BY ALL ORDER BY 1") == [
        ("duplicate", 1),
        ("ingested", 2),
        ("skipped", 1),
    ]
    for table in ("article_entities", "article_keywords"):
        rows = (
            f"SELECT (SELECT count(*) FROM {table}), (SELECT count(*) FROM (SELECT DISTINCT * FROM {table}))"
        )
        ((total, distinct),) = sql(data, rows)
        assert total == distinct > 0
    assert sql(data, "SELECT count(*) FROM articles WHERE body LIKE '%eighth%'") == [(1,)]
    from warehouse.search import search_articles

    found = search_articles(load_settings(data_dir=data), "eclipse tourism", limit=5).to_pylist()
    assert [row["title"] for row in found] == ["Iceland braces for eclipse tourism"]


def test_a_failed_run_counts_only_the_batches_it_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    written: list[int] = []
    write = flows.ingest.write_partitions

    def write_twice(articles: Any, *args: Any) -> Any:
        if len(written) == 2:
            raise OSError("disk full")
        written.append(articles.height)
        return write(articles, *args)

    monkeypatch.setattr(flows.ingest, "write_partitions", write_twice)
    with pytest.raises(OSError, match="disk full"):
        ingest(sources=[str(SAMPLES / "wire")], data_dir=str(data), batch_size=1)
    ((state, seen, new, articles, skipped, error),) = sql(
        data,
        "SELECT state, files_seen, files_new, articles_written, skipped, error FROM ingest_runs",
    )
    assert (state, seen, error) == ("failed", 5, "OSError: disk full")
    assert sql(data, "SELECT count(*) FROM ingested_files") == [(new,)]
    assert sql(data, "SELECT count(*) FROM ingested_files WHERE status = 'skipped'") == [(skipped,)] == [(1,)]
    assert (new, articles) == (3, 2) == (3, sum(written))
