"""One mixed landing folder, every format, from disk, over HTTP and from S3: the same rows."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest

from flows.ingest import ingest
from tests.flows.test_ingest import sql
from tests.sources_fixtures import moto_s3, serving_http, use_s3_endpoint

ROWS = "SELECT raw_format, title, body FROM articles"


@pytest.fixture
def mixed_folder(corpus_dir: Path, tmp_path: Path) -> Path:
    landing = tmp_path / "mixed"
    landing.mkdir()
    shutil.copy(corpus_dir / "seed" / "000_9135530c8063760a.txt", landing / "seed.txt")
    pages = sorted((corpus_dir / "trafilatura_eval_dev" / "html").glob("*.html"))[:3]
    for page in pages:
        shutil.copy(page, landing / page.name)
    zipped = sorted((corpus_dir / "scrapinghub_article_extraction_benchmark" / "html").glob("*.html.gz"))[:2]
    for page in zipped:
        shutil.copy(page, landing / page.name)
    feeds = corpus_dir / "news_feeds"
    shutil.copy(feeds / "rss_parser" / "input" / "guardian.rss", landing / "guardian.rss")
    shutil.copy(feeds / "rss_parser" / "input" / "heise.atom", landing / "heise.atom")
    shutil.copy(feeds / "jsonfeed_npr" / "feed.json", landing / "npr-feed.json")
    records = [
        {
            "headline": "Council approves new tram line",
            "content": "The city council approved a tram line.\n\nWork starts in May.",
            "url": "https://example.org/tram",
            "publishedAt": "2025-03-01T10:00:00Z",
        },
        {
            "title": "Port strike ends",
            "text": "Dock workers returned to work on Monday after a week-long strike.",
            "link": "https://example.org/port",
            "date": "2025-03-02",
        },
        {"title": 42, "body": ["not", "text"]},
    ]
    (landing / "dump.jsonl").write_text("\n".join(json.dumps(record) for record in records) + "\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((corpus_dir / "bbc_news_fulltext" / "tech").glob("*.txt"))[:5]:
            archive.write(path, f"tech/{path.name}")
    (landing / "bbc-tech.zip").write_bytes(buffer.getvalue())
    (landing / "story.txt.gz").write_bytes(
        gzip.compress((corpus_dir / "reuters_dev" / "files" / "10002.txt").read_bytes())
    )
    return landing


def _rows(data: Path) -> Counter[tuple[Any, ...]]:
    return Counter(sql(data, ROWS))


def test_mixed_folder_from_disk_http_and_s3(
    mixed_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_disk = tmp_path / "disk"
    ingest(sources=[str(mixed_folder)], source_name="mixed", data_dir=str(on_disk))
    formats = dict(sql(on_disk, "SELECT raw_format, count(*) FROM articles GROUP BY ALL"))
    assert set(formats) == {"text", "html", "feed", "json"}
    assert formats["text"] == 1 + 5 + 1
    assert formats["html"] == 5
    assert formats["json"] == 2
    reasons = sql(on_disk, "SELECT uri, reason FROM ingested_files WHERE status = 'quarantined'")
    assert [reason for uri, reason in reasons if "dump.jsonl" in uri] == [
        "JSON Lines line 3 has a number in 'title', not text"
    ]
    assert (
        formats["feed"] == sql(on_disk, "SELECT count(*) FROM ingested_files WHERE raw_format = 'feed'")[0][0]
    )
    assert sql(on_disk, "SELECT count(*) FROM articles WHERE title IS NULL OR body IS NULL OR body = ''") == [
        (0,)
    ]
    assert sql(on_disk, "SELECT count(*) FROM articles WHERE body LIKE '%\ufffd%'") == [(0,)]
    expected = _rows(on_disk)

    files = sorted(path.name for path in mixed_folder.iterdir())
    with serving_http(mixed_folder) as server:
        over_http = tmp_path / "http"
        urls = [server.url(f"/files/{name}") for name in files]
        ingest(sources=urls, source_name="mixed", data_dir=str(over_http))
        assert _rows(over_http) == expected
        again = ingest(sources=urls, source_name="mixed", data_dir=str(over_http))
        assert again["files_new"] == 0 and again["articles_written"] == 0

    with moto_s3() as endpoint:
        use_s3_endpoint(monkeypatch, endpoint)
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        client.create_bucket(Bucket="landing")
        for name in files:
            client.put_object(Bucket="landing", Key=f"mixed/{name}", Body=(mixed_folder / name).read_bytes())
        from_s3 = tmp_path / "s3"
        ingest(sources=["s3://landing/mixed/"], source_name="mixed", data_dir=str(from_s3))
        assert _rows(from_s3) == expected
        again = ingest(sources=["s3://landing/mixed/"], source_name="mixed", data_dir=str(from_s3))
        assert again["files_new"] == 0 and again["articles_written"] == 0
