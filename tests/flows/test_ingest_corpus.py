from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from flows.ingest import ingest
from tests.flows.test_ingest import sql

BBC_FOLDERS = ("business", "entertainment", "politics", "sport", "tech")


@pytest.fixture(scope="module")
def corpus_warehouse(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = tmp_path_factory.mktemp("corpus") / "data"
    bbc = ingest(
        sources=[str(corpus_dir / "bbc_news_fulltext" / folder) for folder in BBC_FOLDERS],
        source_name="bbc",
        data_dir=str(data),
    )
    reuters = ingest(
        sources=[str(corpus_dir / "reuters_dev" / "files")], source_name="reuters", data_dir=str(data)
    )
    seed = ingest(sources=[str(corpus_dir / "seed")], data_dir=str(data))
    return {"data": data, "bbc": bbc, "reuters": reuters, "seed": seed}


def _bbc_files(corpus_dir: Path) -> list[Path]:
    return sorted(
        p for folder in BBC_FOLDERS for p in (corpus_dir / "bbc_news_fulltext" / folder).glob("*.txt")
    )


def test_bbc_one_article_per_distinct_content(corpus_warehouse: dict[str, Any], corpus_dir: Path) -> None:
    files = _bbc_files(corpus_dir)
    distinct = {hashlib.sha256(path.read_bytes()).hexdigest() for path in files}
    data = corpus_warehouse["data"]
    assert sql(data, "SELECT count(*) FROM articles WHERE source = 'bbc'") == [(len(distinct),)]
    assert corpus_warehouse["bbc"]["duplicates"] == len(files) - len(distinct) == 98
    duplicates = sql(
        data,
        "SELECT count(*) FROM ingested_files f JOIN articles a USING (article_id) "
        "WHERE f.status = 'duplicate' AND f.source = 'bbc' AND f.sha256 = a.content_hash",
    )
    assert duplicates == [(98,)]


def test_bbc_titles_are_line_one_and_latin1_decodes(
    corpus_warehouse: dict[str, Any], corpus_dir: Path
) -> None:
    data = corpus_warehouse["data"]
    titles = dict(
        sql(
            data,
            "SELECT f.uri, a.title FROM ingested_files f JOIN articles a USING (article_id) "
            "WHERE f.status = 'ingested' AND f.source = 'bbc'",
        )
    )
    wrong = []
    for path in _bbc_files(corpus_dir):
        uri = path.as_uri()
        if uri in titles:
            raw = path.read_bytes()
            try:
                line_one = raw.decode("utf-8").split("\n", 1)[0]
            except UnicodeDecodeError:
                line_one = raw.decode("latin-1").split("\n", 1)[0]
            if titles[uri] != line_one.strip():
                wrong.append((uri, titles[uri], line_one))
    assert len(titles) > 2000
    assert wrong == []
    latin1 = (corpus_dir / "bbc_news_fulltext" / "sport" / "199.txt").as_uri()
    body = sql(
        data, "SELECT a.body FROM articles a JOIN ingested_files f USING (article_id) WHERE f.uri = ?", latin1
    )
    assert "£" in body[0][0]
    assert sql(data, "SELECT count(*) FROM articles WHERE body LIKE '%\ufffd%' OR title LIKE '%\ufffd%'") == [
        (0,)
    ]


def test_reuters_titles_and_datelines_match_gold(corpus_warehouse: dict[str, Any], corpus_dir: Path) -> None:
    gold = [json.loads(line) for line in (corpus_dir / "reuters_dev" / "gold.jsonl").read_text().splitlines()]
    data = corpus_warehouse["data"]
    rows = {
        Path(uri).name: (title, dateline)
        for uri, title, dateline in sql(
            data,
            "SELECT f.uri, a.title, a.dateline FROM ingested_files f JOIN articles a USING (article_id) "
            "WHERE f.source = 'reuters' AND f.status = 'ingested'",
        )
    }
    originals = [g for g in gold if not g["kind"].startswith("duplicate_of")]
    assert len(rows) == len(originals)
    titles_right = sum(rows[g["path"]][0] == g["title"] for g in originals)
    datelines_right = sum(rows[g["path"]][1] == g["dateline_place"] for g in originals)
    assert titles_right == len(originals)
    assert datelines_right / len(originals) >= 0.99


def test_seed_parsed_as_its_readme_says(corpus_warehouse: dict[str, Any]) -> None:
    data = corpus_warehouse["data"]
    ((title, caption, dateline, body, related),) = sql(
        data, "SELECT title, caption, dateline, body, related FROM articles WHERE source = 'seed'"
    )
    assert title == "Nato leaders express ‘profound concern’ over China-Russia ties"
    assert caption.endswith("Agence France-Presse")
    assert dateline == "WASHINGTON"
    assert body.startswith("Nato leaders on Wednesday said")
    assert "READ:" not in body and "Read more" not in body
    assert "\n\n\n" not in body
    assert related == [
        "NATO boosts Ukraine air defenses as doubts over Biden cloud summit",
        "Xi to world powers: Help Russia, Ukraine ‘resume direct dialogue’",
    ]


def test_second_run_ingests_nothing_and_one_change_reingests_one_file(
    corpus_warehouse: dict[str, Any], corpus_dir: Path, tmp_path: Path
) -> None:
    data = corpus_warehouse["data"]
    again = ingest(
        sources=[str(corpus_dir / "reuters_dev" / "files")], source_name="reuters", data_dir=str(data)
    )
    assert again["files_new"] == 0 and again["articles_written"] == 0
    landing = tmp_path / "reuters"
    shutil.copytree(corpus_dir / "reuters_dev" / "files", landing)
    first = ingest(sources=[str(landing)], source_name="reuters-copy", data_dir=str(data))
    assert first["articles_written"] == 0
    assert first["duplicates"] == first["files_seen"]
    changed = landing / "10001.txt"
    changed.write_text(changed.read_text() + "\nA correction was appended.\n")
    second = ingest(sources=[str(landing)], source_name="reuters-copy", data_dir=str(data))
    assert (second["files_new"], second["articles_written"]) == (1, 1)
