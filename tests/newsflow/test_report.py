from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from newsflow.report import PALETTE, build_report, write_report
from newsflow.settings import Settings, load_settings
from tests.newsflow.chromium import find_or_install_chromium, png_colours, render
from warehouse.catalog import WarehouseMissingError, connect_writer

ALERT = '<script>alert(1)</script> & "quotes"'
PWNED = "<script>document.title='pwned'</script>"
EVIL_SOURCE = "<i>evil</i> source"
EVIL_PLACE = '<b>Evil</b> "Place"'
EVIL_REASON = "not UTF-8: <b>bold</b> bytes"
CHARTS = 6
REMOTE = re.compile(r"""(?:src|href|xlink:href|action)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//""", re.I)


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Mapping[str, object]]) -> None:
    names = list(dict.fromkeys(name for row in rows for name in row))
    frame = pa.Table.from_pylist([{name: row.get(name) for name in names} for row in rows])
    con.register("incoming", frame)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
    con.unregister("incoming")


def _fill(settings: Settings) -> None:
    start = datetime(2026, 3, 1, 8, 0)
    sources = ["wire", "features", EVIL_SOURCE]
    articles = []
    for i in range(40):
        published = None if i % 9 == 4 else start + timedelta(days=i % 20, hours=i % 5)
        if i < 2:
            published = start + timedelta(days=20, hours=i)
        articles.append(
            {
                "article_id": f"a{i}",
                "source": sources[i % 3],
                "uri": f"https://example.com/news/{i}" if i % 2 else f"file:///landing/{i}.txt",
                "title": {0: ALERT, 1: PWNED}.get(i, f"Story number {i}"),
                "published_at": published,
                "ingested_at": start + timedelta(days=25, minutes=i),
                "tone": None if i % 4 == 3 else (i % 7) - 3.0,
                "word_count": 100 + i,
            }
        )
    places = [("London", "GB"), ("Paris", "FR"), ("Kyiv", "UA"), (EVIL_PLACE, "XX"), ("Lagos", "NG")]
    places += [("Lima", "PE"), ("Oslo", "NO")]
    people = [
        "Ada Lovelace",
        "Alan Turing",
        "Grace Hopper",
        "Edsger Dijkstra",
        "Barbara Liskov",
        "Ken Thompson",
    ]
    entities = []
    for i in range(40):
        for k in range(1 + i % 3):
            name, code = places[(i + k) % len(places)]
            entities.append(
                {
                    "article_id": f"a{i}",
                    "entity": name,
                    "entity_type": "LOCATION",
                    "country_code": code,
                    "mentions": 1 + k,
                }
            )
        entities.append(
            {"article_id": f"a{i}", "entity": people[i % len(people)], "entity_type": "PERSON", "mentions": 2}
        )
        entities.append({"article_id": f"a{i}", "entity": "ACME", "entity_type": "ORG", "mentions": 1})
    files = [
        {
            "uri": a["uri"],
            "status": "ingested",
            "article_id": a["article_id"],
            "run_id": "r1",
            "seen_at": start,
        }
        for a in articles
    ]
    files += [
        {"uri": "file:///landing/copy.txt", "status": "duplicate", "article_id": "a3", "run_id": "r2"},
        {"uri": "file:///landing/bad.bin", "status": "quarantined", "reason": EVIL_REASON, "run_id": "r2"},
        {"uri": "file:///landing/huge.txt", "status": "quarantined", "reason": "file larger than 10 MB"},
        {"uri": "file:///landing/huge2.txt", "status": "quarantined", "reason": "file larger than 10 MB"},
        {"uri": "file:///landing/x.tmp", "status": "skipped", "reason": "temporary file"},
    ]
    runs = [
        {
            "run_id": f"r{i}",
            "started_at": start + timedelta(days=25, hours=i),
            "finished_at": start + timedelta(days=25, hours=i, seconds=30 + 10 * i),
            "state": "failed" if i == 3 else "completed",
            "files_seen": 45,
            "files_new": 40 if i == 1 else 0,
            "articles_written": 40 if i == 1 else 0,
            "duplicates": 1,
            "quarantined": 3,
            "duration_seconds": None if i == 3 else 30.0 + 10 * i,
            "error": "boom <br>" if i == 3 else None,
        }
        for i in (1, 2, 3)
    ]
    con = connect_writer(settings)
    try:
        _insert(con, "articles", articles)
        _insert(con, "article_entities", entities)
        _insert(con, "ingested_files", files)
        _insert(con, "ingest_runs", runs)
    finally:
        con.close()


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("report") / "data")
    _fill(settings)
    yield settings


@pytest.fixture(scope="module")
def document(filled: Settings) -> str:
    return build_report(filled)


def _charts(document: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", document, flags=re.S)


def test_text_from_the_data_is_escaped(document: str) -> None:
    assert "<script" not in document.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;" in document
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in document
    for raw in ("<i>evil</i>", "<b>Evil</b>", "<b>bold</b>", "boom <br>"):
        assert raw not in document
    assert "&lt;i&gt;evil&lt;/i&gt; source" in document
    assert "&lt;b&gt;Evil&lt;/b&gt; &quot;Place&quot; (XX)" in document
    assert "not UTF-8: &lt;b&gt;bold&lt;/b&gt; bytes" in document
    titles = re.findall(r"<title>(.*?)</title>", "".join(_charts(document)), flags=re.S)
    assert any("&lt;i&gt;evil&lt;/i&gt; source" in title for title in titles)
    assert not any("<" in title for title in titles)


def test_report_is_self_contained(document: str) -> None:
    assert not REMOTE.search(document)
    for tag in ("<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", "url("):
        assert tag not in document.lower()
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', document))
    assert "https://example.com/news/1" in document


def test_report_has_every_section_and_chart(filled: Settings, document: str) -> None:
    assert len(_charts(document)) == document.count("<svg") == CHARTS
    for anchor in ("summary", "articles", "places", "people", "tone", "quarantine", "runs", "latest"):
        assert f'<section id="{anchor}">' in document
    assert "Articles per day, by source" in document
    assert "4 articles without a published_at" in document and "<b>ingested_at</b>" in document
    assert "Tone per day" in document
    assert ">40<" in document
    assert "ingested 40 · quarantined 3 · duplicate 1 · skipped 1" in document
    assert "completed 2 · failed 1" in document
    assert "2026-03-01 → 2026-03-21" in document
    assert document.count("<tr>") == 1 + 7 + 1 + 6 + 1 + 3 + 1 + 3 + 1 + 20
    latest = document.split('id="latest"', 1)[1]
    assert "Story number 18" in latest


def test_write_report_writes_one_file(filled: Settings, tmp_path: Path) -> None:
    written = write_report(filled, tmp_path / "out" / "report.html")
    assert written == (tmp_path / "out" / "report.html").resolve()
    assert written.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [path.name for path in written.parent.iterdir()] == ["report.html"]


def test_fresh_warehouse_says_there_is_nothing_yet(isolated_settings: Path) -> None:
    settings = load_settings()
    connect_writer(settings).close()
    document = build_report(settings)
    assert "Nothing here yet" in document
    assert "<svg" not in document


def test_missing_warehouse_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(WarehouseMissingError):
        build_report(load_settings(data_dir=tmp_path / "nowhere"))


def test_one_of_everything_still_draws_every_chart(isolated_settings: Path) -> None:
    settings = load_settings()
    when = datetime(2026, 5, 4, 12, 0)
    con = connect_writer(settings)
    try:
        _insert(
            con,
            "articles",
            [{"article_id": "a", "source": "s", "title": "Only", "published_at": when, "tone": 1.5}],
        )
        _insert(
            con,
            "article_entities",
            [
                {"article_id": "a", "entity": "Rome", "entity_type": "LOCATION", "country_code": "IT"},
                {"article_id": "a", "entity": "Ada", "entity_type": "PERSON"},
            ],
        )
        _insert(con, "ingested_files", [{"uri": "file:///q", "status": "quarantined", "reason": "empty"}])
        _insert(con, "ingest_runs", [{"run_id": "r", "started_at": when, "state": "completed"}])
    finally:
        con.close()
    document = build_report(settings)
    charts = _charts(document)
    assert len(charts) == CHARTS - 1
    assert "Duration of every run" not in document
    for chart in charts:
        assert "NaN" not in chart and "inf" not in chart
    assert 'width="48.00"' in charts[0]
    assert all("<circle" in chart for chart in charts[1:4])


def test_hundreds_of_days_and_runs_stay_readable(isolated_settings: Path) -> None:
    settings = load_settings()
    con = connect_writer(settings)
    try:
        con.execute(
            "INSERT INTO articles (article_id, source, title, published_at, ingested_at, tone) "
            "SELECT 'a' || i, 'source ' || (i % 12), 'title ' || i, TIMESTAMP '2024-01-01' + to_days(i), "
            "TIMESTAMP '2026-01-01', (i % 7) - 3 FROM range(700) t(i)"
        )
        con.execute(
            "INSERT INTO article_entities (article_id, entity, entity_type, country_code, mentions) "
            "SELECT 'a' || i, ['Rome', 'Oslo', 'Lima', 'Kyiv', 'Pune', 'Bern', 'Riga'][i % 7 + 1], "
            "'LOCATION', 'XX', 1 FROM range(700) t(i)"
        )
        con.execute(
            "INSERT INTO ingest_runs (run_id, started_at, state, duration_seconds) "
            "SELECT 'r' || i, TIMESTAMP '2024-01-01' + to_hours(i * 6), "
            "CASE WHEN i % 17 = 0 THEN 'failed' ELSE 'completed' END, 5 + i % 13 FROM range(600) t(i)"
        )
    finally:
        con.close()
    document = build_report(settings)
    articles, places, tone, runs = _charts(document)
    assert "Articles per week, by source" in document
    assert "4 other sources" in document
    assert len(set(re.findall(r'<rect x="([^"]+)"', articles))) == 100
    for chart in (articles, places, tone, runs):
        labels = re.findall(r'<text class="tick" x="[^"]+" y="[^"]+" text-anchor="middle">', chart)
        assert 2 <= len(labels) <= 14
    assert "Duration of each of the last 500 runs" in document
    assert runs.count("<circle") == 500


def test_odd_values_do_not_break_the_charts(isolated_settings: Path) -> None:
    settings = load_settings()
    con = connect_writer(settings)
    try:
        con.execute(
            "INSERT INTO articles (article_id, source, title, published_at, tone) VALUES "
            "('a', NULL, NULL, TIMESTAMP '1970-01-01', 'NaN'::DOUBLE), "
            "('b', 's', 't', TIMESTAMP '2099-12-31 23:59', 'inf'::DOUBLE), "
            "('c', 's', 'u', NULL, NULL)"
        )
        con.execute(
            "INSERT INTO ingest_runs (run_id, started_at, finished_at, state) VALUES "
            "('r', TIMESTAMP '2026-01-01 10:00', TIMESTAMP '2026-01-01 09:59', NULL)"
        )
    finally:
        con.close()
    document = build_report(settings)
    assert "Articles per year, by source" in document
    assert "1 article with neither date" in document
    assert "(no source)" in document
    assert "NaN" not in document and "inf<" not in document


def test_cli_writes_the_report(filled: Settings, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from newsflow.cli import app

    output = tmp_path / "cli.html"
    result = CliRunner().invoke(app, ["report", "--data-dir", str(filled.data_dir), "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert output.read_text(encoding="utf-8").count("<svg") == CHARTS


@pytest.fixture(scope="module")
def chromium() -> Path:
    browser, why = find_or_install_chromium()
    if browser is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(why)
        pytest.skip(why)
    return browser


def test_chromium_renders_the_report(
    chromium: Path, filled: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("chromium")
    page = write_report(filled, folder / "report.html")
    rendered = render(chromium, page, folder / "report.png", folder / "profile")
    dom = rendered.dom
    assert re.search(r"<title>newsflow report</title>", dom)
    assert "pwned" not in re.search(r"<title>(.*?)</title>", dom, flags=re.S).group(1)  # type: ignore[union-attr]
    assert "<script" not in dom.lower()
    assert '&lt;script&gt;alert(1)&lt;/script&gt; &amp; "quotes"' in dom
    assert dom.count("<svg") == CHARTS
    assert dom.count("<rect") > 20
    assert rendered.screenshot.stat().st_size > 30_000
    width, height, colours = png_colours(rendered.screenshot)
    assert (width, height) == (1280, 3000)
    total = sum(colours.values())
    assert len(colours) > 50
    assert colours.most_common(1)[0][1] < 0.9 * total
    assert colours[bytes.fromhex("1f3a5f")] > 1000
    assert colours[bytes.fromhex(PALETTE[0][1:])] > 100
