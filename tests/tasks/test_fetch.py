from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import fsspec
import polars as pl
import pytest

from tasks.discover import diff_listing, discover
from tasks.fetch import fetch_files, read_files, read_local_files
from tasks.parse import file_state, parse_files, same_bytes_as_before
from tasks.schema import RAW_SCHEMA
from tasks.sources import HttpOptions
from tests.sources_fixtures import TestHttpServer, moto_s3, new_bucket, serving_http, use_s3_endpoint

FAST = HttpOptions(timeout=0.5, retries=1, backoff=0.01, max_backoff=0.1)


@pytest.fixture
def http_server() -> Iterator[TestHttpServer]:
    with serving_http() as server:
        yield server


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with moto_s3() as endpoint:
        yield endpoint


def empty_manifest() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "file_uri": pl.String(),
            "size_bytes": pl.Int64(),
            "mtime_ns": pl.Int64(),
            "sha256": pl.String(),
            "etag": pl.String(),
            "last_modified": pl.String(),
        }
    )


def manifest_of(fetched: pl.DataFrame) -> pl.DataFrame:
    return file_state(fetched).rename({"file_sha256": "sha256"})


def test_local_reads_quarantine_large_growing_and_missing_files(tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_bytes(b"Title\n\nBody.\n")
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 100)
    grown = tmp_path / "grown.txt"
    grown.write_bytes(b"y" * 100)
    listing = discover([str(tmp_path)])
    listing = listing.with_columns(
        pl.when(pl.col("path") == str(grown)).then(10).otherwise(pl.col("size_bytes")).alias("size_bytes")
    )
    (tmp_path / "small.txt").rename(tmp_path / "moved.txt")

    fetched = read_local_files(listing, 50)

    assert list(fetched.columns[: len(RAW_SCHEMA)]) == list(RAW_SCHEMA)
    assert fetched.select("path", "quarantine_reason").rows() == [
        (str(big), "file too large: 0.0 MB over the 0.0 MB limit (max_file_bytes)"),
        (str(grown), "file grew past the 0.0 MB limit while being read"),
        (str(small), "unreadable: No such file or directory"),
    ]
    assert fetched["raw"].null_count() == 3


def test_read_files_dispatches_by_scheme_and_keeps_the_listing_order(
    tmp_path: Path, http_server: TestHttpServer
) -> None:
    (tmp_path / "local.txt").write_bytes(b"Local\n\nStory.\n")
    memory = fsspec.filesystem("memory")
    memory.pipe("/fetch-test/m.txt", b"Memory\n\nStory.\n")
    web = http_server.page("web.txt", b"Web\n\nStory.\n")
    try:
        listing = discover(["memory://fetch-test", web, str(tmp_path / "local.txt"), web + "?again=1"])
        fetched = read_files(diff_listing(listing, empty_manifest()), 1_000_000, http=FAST)
    finally:
        memory.rm("/fetch-test", recursive=True)

    assert fetched["uri"].to_list() == listing["uri"].to_list()
    web_body, etag = b"Web\n\nStory.\n", http_server.pages["web.txt"].etag
    assert fetched["raw"].to_list() == [b"Memory\n\nStory.\n", web_body, b"Local\n\nStory.\n", web_body]
    assert fetched["sha256"][2] == hashlib.sha256(b"Local\n\nStory.\n").hexdigest()
    assert fetched["etag"].to_list() == [None, etag, None, etag]
    assert fetched.columns[: len(RAW_SCHEMA)] == list(RAW_SCHEMA)
    assert {"skip_reason", "source", "change", "known_sha256", "etag", "last_modified"} <= set(
        fetched.columns
    )


def test_read_files_of_an_empty_listing_has_the_fetched_columns() -> None:
    fetched = read_files(discover([]), 10)
    assert fetched.is_empty()
    assert fetched.columns[: len(RAW_SCHEMA)] == list(RAW_SCHEMA)
    assert {"etag", "last_modified"} <= set(fetched.columns)


def test_repolling_feeds_over_http_downloads_nothing_and_parses_nothing(
    corpus_dir: Path, http_server: TestHttpServer
) -> None:
    http_server.root = corpus_dir
    feeds = [
        "news_feeds/rss_parser/input/guardian.rss",
        "news_feeds/rss_parser/input/heise.atom",
        "news_feeds/jsonfeed_npr/feed.json",
    ]
    urls = [http_server.url(f"/files/{name}") for name in feeds]

    first = fetch_files.fn(diff_listing(discover(urls), empty_manifest()), 10_000_000, http=FAST)
    assert first["quarantine_reason"].null_count() == len(urls)
    assert parse_files(first).height > len(urls)

    plan = diff_listing(discover(urls), manifest_of(first))
    second = fetch_files.fn(plan, 10_000_000, http=FAST)

    assert plan["change"].to_list() == ["touched"] * len(urls)
    assert [r.status for r in http_server.requests] == [200] * len(urls) + [304] * len(urls)
    assert second["raw"].null_count() == len(urls)
    assert second.filter(same_bytes_as_before(second)).height == len(urls)
    assert parse_files(second).is_empty()
    assert manifest_of(second).drop("mtime_ns").equals(manifest_of(first).drop("mtime_ns"))


def test_s3_and_local_rows_read_together(
    tmp_path: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_s3_endpoint(monkeypatch, moto_endpoint)
    bucket = new_bucket({"wire/a.txt": b"A\n\nStory.\n", "wire/b.txt": b"B\n\nStory.\n"})
    (tmp_path / "c.txt").write_bytes(b"C\n\nStory.\n")

    listing = discover([f"s3://{bucket}/wire", str(tmp_path)])
    fetched = read_files(diff_listing(listing, empty_manifest()), 1000)

    assert fetched["raw"].to_list() == [b"A\n\nStory.\n", b"B\n\nStory.\n", b"C\n\nStory.\n"]
    assert fetched["source"].to_list() == ["wire", "wire", tmp_path.name]
    assert fetched["etag"][0] is not None and fetched["etag"][2] is None
    unchanged = diff_listing(discover([f"s3://{bucket}/wire", str(tmp_path)]), manifest_of(fetched))
    assert set(unchanged["change"]) == {"unchanged"}
