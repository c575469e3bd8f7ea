"""Two writers on two "machines" at once: a DuckLake catalog in PostgreSQL, Parquet on S3 (moto).

PostgreSQL is Debian's package (``/usr/lib/postgresql/<version>/bin``), run as the ``postgres`` user in a
temporary folder, listening on 127.0.0.1 only. Two ``newsflow ingest`` processes with different sources and
their own data dirs start together against the same catalog and data path; DuckLake's conflict detection
and newsflow's retries must leave every article present exactly once.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import polars as pl
import pytest

import warehouse.register
from newsflow.settings import load_settings
from tasks.schema import ARTICLE_COLUMNS, conform
from tasks.write import write_article_partitions
from tests.reliability.crash_harness import (
    PrefectServer,
    build_landing,
    content_hashes,
    free_port,
    ingest_command,
    ingest_env,
)
from tests.sources_fixtures import moto_s3, use_s3_endpoint
from warehouse.catalog import connect_reader, connect_writer
from warehouse.register import article_table_root, commit_batch

pytestmark = pytest.mark.slow

POSTGRES_ROOT = Path("/usr/lib/postgresql")
BUCKET = "news-lake"
LAKE_PREFIX = "lake"
DATABASE = "newsflow"
FILES_PER_SOURCE = 200
BATCH_SIZE = 10
"""Small batches: 20 commits per writer, so the two runs overlap for seconds and their commits collide."""


def _unavailable(message: str) -> None:
    """Skip on a user's machine; fail under CI, where the test must run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _postgres_bin() -> Path | None:
    found = [path.parent for path in POSTGRES_ROOT.glob("*/bin/initdb") if (path.parent / "pg_ctl").is_file()]
    return max(found, key=lambda folder: int(folder.parent.name), default=None) if found else None


@dataclass
class Postgres:
    """A throw-away PostgreSQL cluster on 127.0.0.1."""

    bin: Path
    root: Path
    port: int
    as_user: list[str]

    @property
    def data(self) -> Path:
        return self.root / "db"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_user, *args], capture_output=True, text=True, timeout=120, cwd=self.root, check=True
        )

    def createdb(self, database: str) -> None:
        self.run(
            str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", database
        )

    def dsn(self, database: str) -> str:
        return f"dbname={database} host=127.0.0.1 port={self.port} user=postgres"


def _as_postgres_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        _unavailable("PostgreSQL refuses to run as root and there is no 'postgres' user")
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--"]
    _unavailable("running PostgreSQL as the 'postgres' user needs runuser (util-linux)")
    return []


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """Debian's PostgreSQL, started for this module in a temporary folder and removed after."""
    folder = _postgres_bin()
    if folder is None:
        _unavailable(
            f"PostgreSQL server binaries not found under {POSTGRES_ROOT}/<version>/bin "
            "(Debian: apt-get install postgresql; `make test` does it as root)"
        )
    assert folder is not None
    as_user = _as_postgres_user()
    root = Path(tempfile.mkdtemp(prefix="newsflow-postgres-"))
    if as_user:
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
    server = Postgres(folder, root, free_port(), as_user)
    try:
        server.run(
            str(folder / "initdb"), "-D", str(server.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -p {server.port} -k {root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        server.run(
            str(folder / "pg_ctl"), "-D", str(server.data), "-l", str(root / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip
        server.run(
            str(folder / "createdb"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", DATABASE
        )
        yield server
    finally:
        if server.data.is_dir():
            subprocess.run(
                [*as_user, str(folder / "pg_ctl"), "-D", str(server.data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
                cwd=root,
            )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def prefect_on_postgres(postgres: Postgres) -> Iterator[PrefectServer]:
    """A Prefect server whose database is in the PostgreSQL cluster, as several workers' server should be.

    On its default SQLite database, two flow runs created at the same moment make the server answer 503
    ("database is locked") and the client back off 2, 4, 8 s..., so one writer could start after the other
    had finished.
    """
    postgres.createdb("prefect")
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{postgres.port}/prefect"
    server = PrefectServer(server_env={"PREFECT_SERVER_DATABASE_CONNECTION_URL": url}).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.home, ignore_errors=True)


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 with an empty bucket; dummy AWS credentials in the environment."""
    with moto_s3() as endpoint:
        use_s3_endpoint(monkeypatch, endpoint)
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield endpoint


@pytest.fixture(scope="module")
def landings(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two sources with no file in common: 200 Reuters dispatches and 200 BBC stories."""
    work = tmp_path_factory.mktemp("landings")
    return (
        build_landing(corpus_dir, work / "wire", reuters=FILES_PER_SOURCE, bbc=0),
        build_landing(corpus_dir, work / "bbc", reuters=0, bbc=FILES_PER_SOURCE),
    )


def _files(landing: Path) -> set[str]:
    return {path.resolve().as_uri() for path in landing.rglob("*") if path.is_file()}


def _query(sql: str) -> list[tuple[Any, ...]]:
    con = connect_reader(load_settings())
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _bucket_keys(prefix: str) -> set[str]:
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_a_commit_that_conflicts_is_retried_whole_and_lands_once(
    postgres: Postgres,
    isolated_settings: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    postgres.createdb("conflicts")
    monkeypatch.setenv("NEWSFLOW_CATALOG_URL", f"postgres:{postgres.dsn('conflicts')}")
    settings = load_settings()
    first, second = connect_writer(settings), connect_writer(settings)

    def other_run(state: str) -> None:
        commit_batch(
            second,
            article_files=[],
            replaced_article_ids=[],
            tables={},
            refreshed_files=None,
            run_row={"run_id": "other", "state": state},
        )

    other_run("running")
    attempts: list[str] = []
    other_committing = False

    def other_writer_commits_first(name: str) -> None:
        nonlocal other_committing
        if name != "commit" or other_committing:
            return
        attempts.append("COMMIT")
        if len(attempts) == 1:
            other_committing = True
            other_run("completed")
            other_committing = False

    monkeypatch.setattr(warehouse.register, "kill_point", other_writer_commits_first)
    articles = conform(
        pl.DataFrame({"article_id": ["a", "b"], "source": ["wire"] * 2, "content_hash": ["h-a", "h-b"]}),
        ARTICLE_COLUMNS,
    )
    files = write_article_partitions(articles, article_table_root(settings.lake_path), "mine-00000")
    commit_batch(
        first,
        article_files=files,
        replaced_article_ids=[],
        tables={
            "ingested_files": pl.DataFrame({"uri": ["file:///a", "file:///b"], "article_id": ["a", "b"]})
        },
        refreshed_files=None,
        run_row={"run_id": "mine", "state": "running"},
    )

    assert attempts == ["COMMIT", "COMMIT"]
    assert (
        "Catalog write conflict while registering 1 article file(s) of run mine (attempt 1 of" in caplog.text
    )
    for con in (first, second):
        assert con.execute("SELECT article_id FROM articles ORDER BY 1").fetchall() == [("a",), ("b",)]
        assert con.execute("SELECT count(*) FROM ingested_files").fetchone() == (2,)
        assert con.execute("SELECT run_id, state FROM ingest_runs ORDER BY 1").fetchall() == [
            ("mine", "running"),
            ("other", "completed"),
        ]
    first.close()
    second.close()


@pytest.mark.corpus
def test_two_writers_share_a_postgres_catalog_and_s3_data(
    postgres: Postgres,
    prefect_on_postgres: PrefectServer,
    s3_endpoint: str,
    landings: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalog_url = f"postgres:{postgres.dsn(DATABASE)}"
    data_path = f"s3://{BUCKET}/{LAKE_PREFIX}/"
    monkeypatch.setenv("NEWSFLOW_CATALOG_URL", catalog_url)
    monkeypatch.setenv("NEWSFLOW_DATA_PATH", data_path)
    env = ingest_env(prefect_on_postgres, NEWSFLOW_CATALOG_URL=catalog_url, NEWSFLOW_DATA_PATH=data_path)
    sources = dict(zip(("wire", "bbc"), landings, strict=True))
    data_dirs = {name: tmp_path / f"machine-{name}" for name in sources}
    started = time.monotonic()
    children = {
        name: subprocess.Popen(
            ingest_command([landing], data_dirs[name], batch_size=BATCH_SIZE, source_name=name),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, landing in sources.items()
    }
    outputs = {name: child.communicate(timeout=300) for name, child in children.items()}
    seconds = time.monotonic() - started
    conflicts = sum(err.count("Catalog write conflict") for _out, err in outputs.values())
    print(f"two writers in {seconds:.1f} s, {conflicts} commit(s) retried after a conflict")
    for name, child in children.items():
        assert child.returncode == 0, f"{name}: {outputs[name][1][-3000:]}"

    expected = {name: content_hashes(landing) for name, landing in sources.items()}
    every_hash = expected["wire"] | expected["bbc"]
    assert not expected["wire"] & expected["bbc"]
    ((articles, distinct_ids),) = _query("SELECT count(*), count(DISTINCT article_id) FROM articles")
    assert articles == distinct_ids == len(every_hash)
    for name in sources:
        stored = {row[0] for row in _query(f"SELECT content_hash FROM articles WHERE source = '{name}'")}
        assert stored == expected[name], name

    files = _files(landings[0]) | _files(landings[1])
    assert {row[0] for row in _query("SELECT DISTINCT file_uri FROM ingested_files")} == files
    assert _query("SELECT file_uri FROM ingested_files GROUP BY file_uri HAVING count(*) > 1") == []
    assert (
        _query(
            "SELECT uri FROM ingested_files f WHERE status IN ('ingested', 'duplicate') AND NOT EXISTS "
            "(SELECT 1 FROM articles a WHERE a.article_id = f.article_id)"
        )
        == []
    )
    assert _query("SELECT count(*) FROM ingested_files WHERE status = 'ingested'") == [(articles,)]

    runs = _query("SELECT source, state, started_at, finished_at, articles_written FROM ingest_runs")
    assert sorted((source, state) for source, state, *_ in runs) == [
        ("bbc", "completed"),
        ("wire", "completed"),
    ]
    (first, second) = sorted(runs, key=lambda row: row[2])
    windows = (
        f"{first[2]:%H:%M:%S.%f}-{first[3]:%H:%M:%S.%f} and {second[2]:%H:%M:%S.%f}-{second[3]:%H:%M:%S.%f}"
    )
    print(f"runs {windows}")
    assert second[2] < first[3], f"the two runs did not overlap: {windows}"
    assert sum(row[4] for row in runs) == articles

    registered = {row[0] for row in _query("SELECT data_file FROM ducklake_list_files('lake', 'articles')")}
    assert registered and all(path.startswith(f"{data_path}main/articles/year=") for path in registered)
    in_bucket = {f"s3://{BUCKET}/{key}" for key in _bucket_keys(f"{LAKE_PREFIX}/main/articles/")}
    assert in_bucket == registered
    for data_dir in data_dirs.values():
        assert not (data_dir / "catalog.sqlite").exists()
        assert not (data_dir / "lake").exists()
