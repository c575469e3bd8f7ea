from __future__ import annotations

import gzip
import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from tasks.discover import diff_listing, discover, listing_frame
from tasks.parse import file_state
from tasks.sources import (
    USER_AGENT,
    FsspecSource,
    HttpOptions,
    HttpSource,
    ListedFile,
    LocalSource,
    open_source,
    redact_url,
    source_label,
)
from tests.sources_fixtures import (
    DUMMY_KEY_ID,
    DUMMY_SECRET,
    PRIVATE_PASSWORD,
    PRIVATE_USER,
    TestHttpServer,
    moto_s3,
    new_bucket,
    serving_http,
    use_s3_endpoint,
)

FAST = HttpOptions(timeout=0.3, retries=2, backoff=0.01, max_backoff=1.0, concurrency=4)
LIMIT = 1_000_000


@pytest.fixture
def http_server() -> Iterator[TestHttpServer]:
    with serving_http() as server:
        yield server


@pytest.fixture
def corpus_http(http_server: TestHttpServer, corpus_dir: Path) -> TestHttpServer:
    http_server.root = corpus_dir
    return http_server


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with moto_s3() as endpoint:
        yield endpoint


@pytest.fixture
def s3_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    return use_s3_endpoint(monkeypatch, moto_endpoint)


def manifest_of(fetched: pl.DataFrame) -> pl.DataFrame:
    """What the flow's manifest would hold after these rows: ``load_file_manifest``'s columns."""
    return file_state(fetched.filter(pl.col("quarantine_reason").is_null())).rename({"file_sha256": "sha256"})


def read_urls(
    urls: list[str], manifest: pl.DataFrame | None = None, options: HttpOptions = FAST
) -> pl.DataFrame:
    listing = discover(urls)
    planned = diff_listing(listing, manifest if manifest is not None else empty_manifest())
    return HttpSource(options=options, sleep=lambda _: None).read(planned, LIMIT)


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


def recorded_text(*frames: pl.DataFrame) -> str:
    """Every string a frame could hand to the warehouse, ``path`` (read-only, never recorded) excluded."""
    return "\n".join(
        str(value)
        for frame in frames
        for column in frame.columns
        if column != "path" and frame.schema[column] == pl.String()
        for value in frame[column].to_list()
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://feeds.example.com/rss.xml", "https://feeds.example.com/rss.xml"),
        ("https://user:pw@example.com:8443/a?x=1", "https://example.com:8443/a?x=1"),
        (
            "https://example.com/feed?token=abc&section=world",
            "https://example.com/feed?token=REDACTED&section=world",
        ),
        ("s3://bucket/prefix/a.txt", "s3://bucket/prefix/a.txt"),
        ("/local/path.txt", "/local/path.txt"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    ("source", "label"),
    [
        ("https://feeds.bbci.co.uk/news/rss.xml", "feeds.bbci.co.uk"),
        ("http://user:pw@127.0.0.1:8080/x", "127.0.0.1"),
        ("s3://landing/wire/bbc/", "bbc"),
        ("s3://landing/wire/*.txt", "wire"),
        ("s3://landing", "landing"),
    ],
)
def test_source_label_for_urls(source: str, label: str) -> None:
    assert source_label(source) == label


def test_open_source_dispatches_by_scheme(tmp_path: Path) -> None:
    assert isinstance(open_source(str(tmp_path)), LocalSource)
    assert isinstance(open_source(tmp_path.as_uri()), LocalSource)
    assert isinstance(open_source("https://example.com/feed.xml"), HttpSource)
    assert isinstance(open_source("s3://bucket/prefix"), FsspecSource)
    assert isinstance(open_source("memory://landing"), FsspecSource)
    with pytest.raises(ValueError, match="unknown scheme") as error:
        open_source("nosuch://user:hunter2@host/x")
    assert "hunter2" not in str(error.value)


def test_http_listing_is_one_row_of_unknown_size_without_credentials() -> None:
    listing = discover(["https://reader:pw@news.example.com/world/feed.xml"], source_name=None)
    assert listing.select("uri", "size_bytes", "mtime_ns", "skip_reason", "source").row(0) == (
        "https://news.example.com/world/feed.xml",
        -1,
        0,
        None,
        "news.example.com",
    )
    assert listing["path"][0] == "https://reader:pw@news.example.com/world/feed.xml"


def test_http_reads_with_validators_user_agent_gzip_and_redirects(http_server: TestHttpServer) -> None:
    body = b"Title\n\nA story served over HTTP.\n"
    plain = http_server.page("story.txt", body)
    zipped = http_server.url("/gzip/story.txt")
    moved = http_server.url("/redirect/story.txt")

    fetched = read_urls([plain, zipped, moved])

    assert fetched["raw"].to_list() == [body, body, body]
    assert fetched["sha256"].to_list() == [hashlib.sha256(body).hexdigest()] * 3
    assert fetched["quarantine_reason"].to_list() == [None, None, None]
    assert fetched["uri"].to_list() == [plain, zipped, moved]
    page = http_server.pages["story.txt"]
    assert fetched["etag"].to_list() == [page.etag] * 3
    assert all(value and value.endswith("GMT") for value in fetched["last_modified"].to_list())
    assert fetched["size_bytes"].to_list() == [len(body)] * 3
    assert fetched["mtime_ns"][0] == int(page.mtime) * 1_000_000_000
    assert {r.headers["User-Agent"] for r in http_server.requests} == {USER_AGENT}
    assert [r.status for r in http_server.hits("/redirect")] == [302]


def test_http_conditional_get_sends_validators_and_304_downloads_nothing(http_server: TestHttpServer) -> None:
    feed = http_server.page("feed.xml", b"<rss><channel><title>x</title></channel></rss>")
    other = http_server.page("other.txt", b"Other\n\nStory.\n")
    first = read_urls([feed, other])
    assert first["change"].to_list() == ["new", "new"]

    second = read_urls([feed, other], manifest=manifest_of(first))

    assert second["change"].to_list() == ["touched", "touched"]
    assert second["raw"].to_list() == [None, None]
    assert second["sha256"].to_list() == first["sha256"].to_list()
    assert second["etag"].to_list() == first["etag"].to_list()
    assert second["size_bytes"].to_list() == first["size_bytes"].to_list()
    repoll = http_server.requests[2:]
    assert [r.status for r in repoll] == [304, 304]
    assert {r.headers.get("If-None-Match") for r in repoll} == set(first["etag"].to_list())
    assert all(r.headers.get("If-Modified-Since") for r in repoll)

    http_server.page("feed.xml", b"<rss><channel><title>y</title></channel></rss>")
    third = read_urls([feed], manifest=manifest_of(first))
    assert third["raw"][0] == b"<rss><channel><title>y</title></channel></rss>"
    assert third["sha256"][0] != first["sha256"][0]
    assert http_server.requests[-1].status == 200


def test_http_without_stored_hash_sends_no_validators(http_server: TestHttpServer) -> None:
    url = http_server.page("a.txt", b"A\n\nB.\n")
    manifest = pl.DataFrame(
        {"file_uri": [url], "size_bytes": [-1], "mtime_ns": [0], "sha256": [None], "etag": ['"stale"']},
        schema_overrides={"sha256": pl.String()},
    )
    fetched = read_urls([url], manifest=manifest)
    assert fetched["raw"][0] == b"A\n\nB.\n"
    assert "If-None-Match" not in http_server.requests[-1].headers


def test_http_retries_5xx_and_429_with_exponential_backoff(http_server: TestHttpServer) -> None:
    http_server.page("flaky.txt", b"Finally\n\nWorked.\n")
    http_server.page("busy.txt", b"Busy\n\nThen fine.\n")
    pauses: list[float] = []
    source = HttpSource(options=FAST, sleep=pauses.append)
    listing = diff_listing(
        discover([http_server.url("/flaky/flaky.txt"), http_server.url("/limited/busy.txt")]),
        empty_manifest(),
    )

    fetched = source.read(listing, LIMIT)

    assert fetched["raw"].to_list() == [b"Finally\n\nWorked.\n", b"Busy\n\nThen fine.\n"]
    assert [r.status for r in http_server.hits("/flaky")] == [500, 500, 200]
    assert [r.status for r in http_server.hits("/limited")] == [429, 200]
    assert len(pauses) == 3
    flaky_pauses = sorted(pauses)[1:]
    assert 0.01 <= flaky_pauses[0] < 0.012 and 0.02 <= flaky_pauses[1] < 0.023


def test_http_gives_up_at_once_when_retry_after_exceeds_the_bound(http_server: TestHttpServer) -> None:
    patient = HttpOptions(timeout=1, retries=5, backoff=0.0, max_backoff=0.1)
    failing, later = http_server.url("/status/503"), http_server.url("/retry-after/3600")

    fetched = read_urls([failing, later], options=patient)

    assert fetched["quarantine_reason"].to_list() == [
        f"HTTP 503 Service Unavailable from {failing} after 6 attempts",
        f"HTTP 503 Service Unavailable from {later} (asked to retry after 3600 s)",
    ]
    assert len(http_server.hits("/status/503")) == 6
    assert len(http_server.hits("/retry-after")) == 1


def test_http_failures_are_quarantined_in_plain_words(http_server: TestHttpServer) -> None:
    http_server.page("slow.txt", b"Too\n\nlate.\n")
    http_server.page("big.txt", b"x" * 5000)
    http_server.slow_seconds = 1.0
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{closed.getsockname()[1]}/feed.xml"
    urls = [
        http_server.url("/missing.txt"),
        http_server.url("/status/410"),
        http_server.url("/status/500"),
        http_server.url("/slow/slow.txt"),
        refused,
        http_server.url("/pages/big.txt"),
        http_server.url("/gzip/big.txt"),
    ]
    listing = diff_listing(discover(urls), empty_manifest())
    fetched = HttpSource(options=FAST, sleep=lambda _: None).read(listing, 4000)

    reasons = fetched["quarantine_reason"].to_list()
    assert reasons[0] == f"HTTP 404 Not Found from {urls[0]}"
    assert reasons[1] == f"HTTP 410 Gone from {urls[1]}"
    assert reasons[2] == f"HTTP 500 Internal Server Error from {urls[2]} after 3 attempts"
    assert reasons[3] == f"timed out after 0.3 s fetching {urls[3]} after 3 attempts"
    assert reasons[4].startswith(f"connection failed fetching {refused}:")
    assert reasons[4].endswith("after 3 attempts")
    assert reasons[5] == f"file too large: 0.0 MB over the 0.0 MB limit (max_file_bytes) at {urls[5]}"
    assert reasons[6] == f"response from {urls[6]} larger than the 0.0 MB limit"
    assert fetched["raw"].to_list() == [None] * len(urls)
    assert len(http_server.hits("/missing.txt")) == 1
    assert len(http_server.hits("/status/500")) == 3


def test_http_attempts_have_a_deadline_however_steady_the_trickle(http_server: TestHttpServer) -> None:
    http_server.page("drip.txt", b"d" * 20)
    http_server.slow_seconds = 1.0
    url = http_server.url("/trickle/drip.txt")
    options = HttpOptions(timeout=0.5, retries=0, deadline=0.2)

    fetched = read_urls([url], options=options)

    assert fetched["quarantine_reason"][0] == f"took longer than 0.2 s fetching {url}"


def test_object_store_urls_with_credentials_are_refused() -> None:
    with pytest.raises(ValueError, match="use the environment") as error:
        open_source("s3://AKIDEXAMPLE:wJalrXUtnFEMI@bucket/prefix")
    assert "wJalrXUtnFEMI" not in str(error.value) and "AKIDEXAMPLE" not in str(error.value)


def test_http_credentials_authenticate_but_are_never_recorded(http_server: TestHttpServer) -> None:
    http_server.page("members.txt", b"Members\n\nOnly.\n")
    base = http_server.base_url.replace("http://", "")
    good = f"http://{PRIVATE_USER}:{PRIVATE_PASSWORD}@{base}/private/members.txt"
    bad = f"http://{PRIVATE_USER}:wrong-{PRIVATE_PASSWORD}@{base}/private/members.txt?token=tok-12345"

    fetched = read_urls([good, bad])

    assert fetched["raw"][0] == b"Members\n\nOnly.\n"
    assert fetched["quarantine_reason"][1] == (
        f"HTTP 401 Unauthorized from http://{base}/private/members.txt?token=REDACTED"
    )
    recorded = recorded_text(fetched)
    assert PRIVATE_PASSWORD not in recorded and "tok-12345" not in recorded


def test_http_serves_corpus_files_and_feeds(corpus_http: TestHttpServer, corpus_dir: Path) -> None:
    names = [
        "bbc_news_fulltext/business/001.txt",
        "news_feeds/rss_parser/input/guardian.rss",
        "news_feeds/jsonfeed_npr/feed.json",
    ]
    fetched = read_urls([corpus_http.url(f"/files/{name}") for name in names])
    assert fetched["raw"].to_list() == [(corpus_dir / name).read_bytes() for name in names]
    assert fetched["source"].to_list() == ["127.0.0.1"] * 3


def corpus_objects(corpus_dir: Path) -> dict[str, bytes]:
    bbc = sorted((corpus_dir / "bbc_news_fulltext" / "business").glob("*.txt"))[:50]
    files = {f"wire/bbc/{path.name}": path.read_bytes() for path in bbc}
    files["wire/feeds/guardian.rss"] = (corpus_dir / "news_feeds/rss_parser/input/guardian.rss").read_bytes()
    page = sorted((corpus_dir / "trafilatura_eval_dev" / "html").glob("*.html"))[0]
    files["wire/pages/page.html"] = page.read_bytes()
    files["wire/.hidden.txt"] = b"hidden"
    files["wire/bbc/late.txt.part"] = b"partial"
    files["wire/.git/config"] = b"[core]"
    files["wire/empty.txt"] = b""
    files["elsewhere/other.txt"] = b"Other\n\nBody.\n"
    return files


def test_s3_lists_recursively_with_sizes_mtimes_etags_and_skips(s3_env: str, corpus_dir: Path) -> None:
    files = corpus_objects(corpus_dir)
    bucket = new_bucket(files)

    listing = discover([f"s3://{bucket}/wire"])

    expected = sorted(key for key in files if key.startswith("wire/") and not key.startswith("wire/.git/"))
    assert listing["uri"].to_list() == [f"s3://{bucket}/{key}" for key in expected]
    assert set(listing["source"]) == {"wire"}
    sizes = dict(zip(listing["uri"], listing["size_bytes"], strict=True))
    assert all(sizes[f"s3://{bucket}/{key}"] == len(files[key]) for key in expected)
    assert min(listing["mtime_ns"].to_list()) > 1_600_000_000 * 10**9
    assert listing["etag"].null_count() == 0 and listing["last_modified"].null_count() == 0
    skipped = dict(
        listing.filter(pl.col("skip_reason").is_not_null()).select("uri", "skip_reason").iter_rows()
    )
    assert skipped == {
        f"s3://{bucket}/wire/.hidden.txt": "hidden file",
        f"s3://{bucket}/wire/bbc/late.txt.part": "partial or temporary download (.part)",
    }
    assert listing.height == 50 + 2 + 3


def test_s3_reads_only_new_and_changed_keys_on_a_repoll(s3_env: str, corpus_dir: Path) -> None:
    import s3fs

    files = corpus_objects(corpus_dir)
    bucket = new_bucket(files)
    source = f"s3://{bucket}/wire"

    plan = diff_listing(discover([source]), empty_manifest()).filter(pl.col("skip_reason").is_null())
    fetched = FsspecSource(protocol="s3").read(plan, LIMIT)
    assert fetched["quarantine_reason"].null_count() == fetched.height
    by_uri = dict(zip(fetched["uri"], fetched["raw"], strict=True))
    assert all(
        by_uri[f"s3://{bucket}/{key}"] == body
        for key, body in files.items()
        if f"s3://{bucket}/{key}" in by_uri
    )
    assert by_uri[f"s3://{bucket}/wire/empty.txt"] == b""
    assert fetched["etag"].null_count() == 0

    manifest = manifest_of(fetched)
    again = diff_listing(discover([source]), manifest).filter(pl.col("skip_reason").is_null())
    assert again.height == 53 and set(again["change"]) == {"unchanged"}

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.pipe({f"{bucket}/wire/bbc/new.txt": b"New\n\nStory.\n", f"{bucket}/wire/pages/page.html": b"<html/>"})
    third = diff_listing(discover([source]), manifest).filter(
        pl.col("skip_reason").is_null() & (pl.col("change") != "unchanged")
    )
    assert third.select("uri", "change").rows() == [
        (f"s3://{bucket}/wire/bbc/new.txt", "new"),
        (f"s3://{bucket}/wire/pages/page.html", "changed"),
    ]
    refetched = FsspecSource(protocol="s3").read(third, LIMIT)
    assert refetched["raw"].to_list() == [b"New\n\nStory.\n", b"<html/>"]


def test_s3_single_keys_globs_missing_objects_and_limits(s3_env: str) -> None:
    bucket = new_bucket({"in/a.txt": b"A\n\nB.\n", "in/b.txt": b"x" * 100, "in/c.json": b"{}"})

    single = discover([f"s3://{bucket}/in/a.txt"])
    assert single.select("uri", "source").rows() == [(f"s3://{bucket}/in/a.txt", "in")]
    globbed = discover([f"s3://{bucket}/in/*.txt"], source_name="wire")
    assert globbed["uri"].to_list() == [f"s3://{bucket}/in/a.txt", f"s3://{bucket}/in/b.txt"]
    with pytest.raises(FileNotFoundError, match="no files match"):
        discover([f"s3://{bucket}/in/*.xml"])
    with pytest.raises(FileNotFoundError, match="source not found"):
        discover([f"s3://{bucket}-missing/in"])

    rows = listing_frame(
        [
            ListedFile(f"s3://{bucket}/in/{name}", f"s3://{bucket}/in/{name}", size, 1)
            for name, size in (("a.txt", 6), ("b.txt", 100), ("gone.txt", 10), ("c.json", 0))
        ]
    )
    fetched = FsspecSource(protocol="s3").read(rows, 50)
    assert fetched["raw"].to_list() == [b"A\n\nB.\n", None, None, b"{}"]
    assert fetched["quarantine_reason"].to_list() == [
        None,
        "file too large: 0.0 MB over the 0.0 MB limit (max_file_bytes)",
        f"unreadable: s3://{bucket}/in/gone.txt no longer exists",
        None,
    ]


def test_s3_secrets_stay_out_of_every_recorded_field(s3_env: str) -> None:
    bucket = new_bucket({"in/a.txt": b"A\n\nB.\n"})
    listing = discover([f"s3://{bucket}/in"])
    fetched = FsspecSource(protocol="s3").read(diff_listing(listing, empty_manifest()), LIMIT)
    recorded = recorded_text(listing, fetched) + "\n".join(listing["path"].to_list())
    assert DUMMY_SECRET not in recorded and DUMMY_KEY_ID not in recorded
    assert s3_env not in recorded


def test_s3_endpoint_comes_from_the_environment(s3_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.sources import storage_options_for

    assert storage_options_for("s3") == {"endpoint_url": s3_env}
    monkeypatch.setenv("NEWSFLOW_S3_ENDPOINT_URL", "http://127.0.0.1:1")
    assert storage_options_for("s3") == {"endpoint_url": "http://127.0.0.1:1"}
    assert storage_options_for("memory") == {}


def test_other_fsspec_urls_list_and_read() -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe({"/landing-test/news/a.txt": b"A\n\nStory.\n", "/landing-test/news/.cache/x": b"x"})
    try:
        listing = discover(["memory://landing-test/news"])
        assert listing.select("uri", "source", "size_bytes").rows() == [
            ("memory:///landing-test/news/a.txt", "news", 10)
        ]
        fetched = FsspecSource(protocol="memory").read(listing, LIMIT)
        assert fetched["raw"].to_list() == [b"A\n\nStory.\n"]
    finally:
        fs.rm("/landing-test", recursive=True)


def test_gzip_bodies_are_decoded_and_capped_after_decoding(http_server: TestHttpServer) -> None:
    bomb = b"\0" * 200_000
    http_server.page("bomb.bin", bomb)
    assert len(gzip.compress(bomb)) < 1000
    fetched = read_urls([http_server.url("/gzip/bomb.bin")], options=FAST)
    assert fetched["raw"][0] == bomb
    capped = HttpSource(options=FAST).read(
        diff_listing(discover([http_server.url("/gzip/bomb.bin")]), empty_manifest()), 100_000
    )
    assert capped["quarantine_reason"][0] is not None and "larger than" in capped["quarantine_reason"][0]
