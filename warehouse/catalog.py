"""Connections to the DuckLake warehouse: extensions, attach, table definitions, the read-only path."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import duckdb_extensions
import polars as pl

from newsflow.settings import Settings
from warehouse.retry import Logger, retry_on_conflict

LAKE = "lake"
SIGNATURE_ROWS_PER_MOVE = 4_000_000
STALE_DRAFT_SECONDS = 600
REMOTE_PREFIXES = ("s3://", "s3a://", "gs://", "gcs://", "r2://", "http://", "https://")


class WarehouseMissingError(RuntimeError):
    """The data dir holds no warehouse yet."""


def _sql_files(layer: str) -> list[tuple[str, str]]:
    folder = resources.files("warehouse") / "sql" / layer
    return sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )


def _sql_statements(layer: str, name: str) -> list[str]:
    text = (resources.files("warehouse") / "sql" / layer / name).read_text(encoding="utf-8")
    code = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return [statement.strip() for statement in code.split(";") if statement.strip()]


def required_extensions(settings: Settings) -> list[str]:
    """The DuckDB extensions the configured catalog and data path need."""
    names = ["ducklake", "fts"]
    catalog = settings.catalog
    if catalog.startswith("sqlite:"):
        names.append("sqlite")
    elif catalog.startswith(("postgres:", "postgresql:")):
        names.append("postgres")
    if is_remote(settings.lake_path):
        names.append("httpfs")
    return names


def is_remote(path: str) -> bool:
    """True for an object-store or HTTP location, False for a local folder."""
    return path.startswith(REMOTE_PREFIXES)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def s3_secret_sql(settings: Settings) -> str | None:
    """``CREATE TEMPORARY SECRET`` for an ``s3://`` data path, from the environment; None for other paths.

    Credentials come from ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN`` (none:
    anonymous access), the region from ``AWS_REGION`` or ``AWS_DEFAULT_REGION``, the endpoint of an
    S3-compatible store from the ``s3_endpoint_url`` setting, ``AWS_ENDPOINT_URL_S3`` or
    ``AWS_ENDPOINT_URL``. The secret lives in the connection's memory only and is scoped to the lake.
    """
    if not settings.lake_path.startswith(("s3://", "s3a://")):
        return None
    env = os.environ
    options = {"TYPE": "s3", "SCOPE": _literal(settings.lake_path)}
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        options["REGION"] = _literal(region)
    for option, variable in (
        ("KEY_ID", "AWS_ACCESS_KEY_ID"),
        ("SECRET", "AWS_SECRET_ACCESS_KEY"),
        ("SESSION_TOKEN", "AWS_SESSION_TOKEN"),
    ):
        if env.get(variable):
            options[option] = _literal(env[variable])
    endpoint = settings.s3_endpoint_url or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        options["ENDPOINT"] = _literal(parts.netloc + parts.path.rstrip("/"))
        options["USE_SSL"] = "true" if parts.scheme == "https" else "false"
    options["URL_STYLE"] = _literal(settings.s3_url_style or ("path" if endpoint else "vhost"))
    body = ", ".join(f"{key} {value}" for key, value in options.items())
    return f"CREATE OR REPLACE TEMPORARY SECRET newsflow_lake ({body})"


def configure_storage(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Give ``con`` what it needs to read and write the lake's files (an S3 secret for ``s3://``)."""
    statement = s3_secret_sql(settings)
    if statement is not None:
        con.execute(statement)


def load_extensions(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    installed = {
        name
        for (name,) in con.execute(
            "SELECT extension_name FROM duckdb_extensions() WHERE installed"
        ).fetchall()
    }
    aliases = {"sqlite": "sqlite_scanner", "postgres": "postgres_scanner"}
    for name in names:
        if name not in installed and aliases.get(name) not in installed:
            duckdb_extensions.import_extension(name, con=con)
        con.load_extension(name)


def new_connection(settings: Settings) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that loads extensions only from the local extension directory."""
    settings.extensions_path.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        config={
            "extension_directory": str(settings.extensions_path),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )
    con.execute("SET enable_progress_bar = false")
    load_extensions(con, required_extensions(settings))
    configure_storage(con, settings)
    return con


def limit_memory(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Bound a writing connection's memory; what does not fit spills under the data dir."""
    spill = settings.data_dir / ".duckdb-spill"
    con.execute(f"SET memory_limit = '{quoted(settings.duckdb_memory_limit)}'")
    con.execute(f"SET temp_directory = '{quoted(str(spill))}'")


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """Each frame readable by SQL on ``con`` under its keyword's name for the ``with`` block."""
    for name, frame in frames.items():
        con.register(name, frame.to_arrow())
    try:
        yield
    finally:
        for name in frames:
            con.unregister(name)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The ``with`` block as one transaction: committed at its end, rolled back when it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


def quoted(text: str) -> str:
    """``text`` as the inside of a single-quoted SQL string literal."""
    return text.replace("'", "''")


def attach_sql(settings: Settings, read_only: bool, catalog: str | None = None) -> str:
    """ATTACH the lake, its data path taken from the settings, so a data dir can be moved or copied."""
    options = [f"DATA_PATH '{quoted(settings.lake_path)}'", "OVERRIDE_DATA_PATH true"]
    if read_only:
        options.insert(0, "READ_ONLY")
    return f"ATTACH 'ducklake:{quoted(catalog or settings.catalog)}' AS {LAKE} ({', '.join(options)})"


def sqlite_catalog_path(settings: Settings) -> Path | None:
    if settings.catalog.startswith("sqlite:"):
        return Path(settings.catalog.removeprefix("sqlite:"))
    return None


def catalog_exists(settings: Settings) -> bool:
    path = sqlite_catalog_path(settings)
    return path is None or path.is_file()


def _declared_columns(ddl: str) -> tuple[str, list[tuple[str, str]]]:
    head, body = ddl.split("(", 1)
    table = head.split("EXISTS", 1)[1].strip()
    columns = []
    for line in body.rsplit(")", 1)[0].splitlines():
        line = line.strip().rstrip(",")
        if line:
            name, column_type = line.split(None, 1)
            columns.append((name, column_type))
    return table, columns


def migrate_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and add columns that newer table definitions declare."""
    existing: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = ?", [LAKE]
    ).fetchall():
        existing.setdefault(table, set()).add(column)
    for _name, ddl in _sql_files("tables"):
        table, columns = _declared_columns(ddl)
        if table not in existing:
            con.execute(ddl)
            continue
        for column, column_type in columns:
            if column not in existing[table]:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {column_type}")


def split_article_signatures(con: duckdb.DuckDBPyConnection) -> None:
    """Move a lake's ``article_signatures`` rows into ``article_anchors`` and ``article_sketches``.

    Lakes made before those two tables kept each MinHash sketch as one row per value; the stories of
    their articles keep matching new ones after the move. Sketches are gathered a slice of articles at a
    time (``SIGNATURE_ROWS_PER_MOVE`` rows each) so the move stays within the writer's memory limit.
    """
    tables = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [LAKE]
        ).fetchall()
    }
    if "article_signatures" not in tables:
        return
    gather, anchors, drop = _sql_statements("migrations", "01_split_article_signatures.sql")
    found = con.execute("SELECT count(*) FROM article_signatures").fetchone()
    parts = (int(found[0]) if found else 0) // SIGNATURE_ROWS_PER_MOVE + 1
    for part in range(parts):
        con.execute(gather, {"part": part, "parts": parts})
    con.execute(anchors)
    con.execute(drop)


def partition_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Give each table the DuckLake partitioning its ``sql/partitions`` file declares, when it lacks it.

    The partition keys (``year(published_at), month(published_at)`` for articles) let date filters skip
    whole files and keep compaction from merging files across months. Lakes made before partitioning keep
    their older files as they are; files added from then on carry their partition values.
    """
    partitioned = {
        name
        for (name,) in con.execute(
            f"SELECT t.table_name FROM __ducklake_metadata_{LAKE}.ducklake_partition_info AS p "
            f"JOIN __ducklake_metadata_{LAKE}.ducklake_table AS t ON p.table_id = t.table_id "
            "WHERE p.end_snapshot IS NULL AND t.end_snapshot IS NULL"
        ).fetchall()
    }
    for _name, ddl in _sql_files("partitions"):
        table = ddl.split("TABLE", 1)[1].split()[0]
        if table not in partitioned:
            con.execute(ddl)


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create the analysts' views, and re-create those whose ``.sql`` file changed since.

    Each view's comment holds the SHA-256 of the file that defined it, so an unchanged view costs nothing
    (every catalog change is a DuckLake snapshot).
    """
    current = dict(
        con.execute(
            "SELECT view_name, comment FROM duckdb_views() WHERE database_name = ?", [LAKE]
        ).fetchall()
    )
    for _name, ddl in _sql_files("views"):
        view = ddl.split("VIEW", 1)[1].split()[0]
        digest = "sha256:" + hashlib.sha256(ddl.encode()).hexdigest()
        if current.get(view) != digest:
            con.execute(ddl)
            con.execute(f"COMMENT ON VIEW {view} IS '{digest}'")


def _define(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"USE {LAKE}")
    with transaction(con):
        migrate_tables(con)
        split_article_signatures(con)
        partition_tables(con)
        create_views(con)


def _attach_and_define(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    attached = {name for (name,) in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
    if LAKE not in attached:
        con.execute(attach_sql(settings, read_only=False))
    _define(con)


def create_sqlite_catalog(settings: Settings) -> None:
    """Build a new SQLite catalog whole, then give it its name, so no reader ever sees half of one.

    Created in place, the file would exist before DuckLake's metadata and our tables are in it, and a query
    during the first run would fail on an unfinished warehouse instead of finding none. The catalog is made
    in a private folder beside its final path and hard-linked there; of writers creating it at once, the
    first link wins and the others drop their copy. Nothing is done when the catalog exists. Drafts that a
    killed writer left are removed once they are ``STALE_DRAFT_SECONDS`` old.
    """
    path = sqlite_catalog_path(settings)
    if path is None or path.is_file():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}.creating-"
    for stale in path.parent.glob(f"{prefix}*"):
        with suppress(OSError):
            if time.time() - stale.stat().st_mtime > STALE_DRAFT_SECONDS:
                shutil.rmtree(stale)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=prefix) as folder:
        draft = Path(folder) / path.name
        con = new_connection(settings)
        try:
            con.execute(attach_sql(settings, read_only=False, catalog=f"sqlite:{draft}"))
            _define(con)
            con.execute("USE memory")
            con.execute(f"DETACH {LAKE}")
        finally:
            con.close()
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        except OSError:
            if not path.exists():
                draft.replace(path)


def connect_writer(settings: Settings, logger: Logger | None = None) -> duckdb.DuckDBPyConnection:
    """A read-write connection with the lake attached as the default catalog and every table created.

    Writers starting at once on a new shared catalog race to create DuckLake's metadata and our tables;
    the loser sees a conflict and tries again, finding them made (``warehouse.retry``).
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not is_remote(settings.lake_path):
        Path(settings.lake_path).mkdir(parents=True, exist_ok=True)
    create_sqlite_catalog(settings)
    con = new_connection(settings)
    try:
        limit_memory(con, settings)
        retry_on_conflict(
            lambda: _attach_and_define(con, settings), "creating the warehouse's tables and views", logger
        )
    except BaseException:
        con.close()
        raise
    return con


def roll_back_interrupted_catalog(settings: Settings) -> bool:
    """Roll back what a killed writer left in a SQLite catalog's journal; True when there was one to try.

    A writer killed inside a commit leaves a hot rollback journal, which SQLite undoes on the next read,
    and a read-only reader cannot undo it ("attempt to write a readonly database"). One read through an
    ordinary connection rolls it back, restoring the last committed catalog, which is what every reader
    would see anyway; a live writer's journal is not hot, so this never touches a commit in progress.
    """
    path = sqlite_catalog_path(settings)
    if path is None:
        return False
    with closing(sqlite3.connect(path, timeout=60)) as catalog:
        catalog.execute("PRAGMA schema_version").fetchone()
    return True


def connect_reader(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A connection that can read the lake and nothing else.

    The lake is attached READ_ONLY, then external access is switched off (file access only under the lake's
    data path) and the configuration locked, so no statement can write to the lake, attach, install, load
    or touch a file elsewhere. ``newsflow.query`` also refuses any statement but a read, before running it.
    """
    if not catalog_exists(settings):
        raise WarehouseMissingError(
            f"no warehouse in {settings.data_dir}: run `newsflow ingest` first (or pass --data-dir)"
        )
    con = new_connection(settings)
    try:
        try:
            con.execute(attach_sql(settings, read_only=True))
        except duckdb.Error as error:
            if "creating a new DuckLake is explicitly disabled" in str(error):
                raise WarehouseMissingError(
                    f"no warehouse in {settings.catalog} yet: run `newsflow ingest` first"
                ) from None
            if "readonly database" not in str(error) or not roll_back_interrupted_catalog(settings):
                raise
            con.execute(attach_sql(settings, read_only=True))
    except BaseException:
        con.close()
        raise
    con.execute(f"USE {LAKE}")
    search_index = (settings.data_dir / "search.duckdb").resolve()
    if search_index.is_file():
        con.execute(f"ATTACH '{quoted(str(search_index))}' AS search (READ_ONLY)")
        con.execute("USE search")
        con.execute(f"SET search_path = 'search.main,{LAKE}.main'")
    con.execute("SET allowed_directories = ?", [[settings.lake_path]])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


@contextmanager
def reader(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect_reader(settings)
    try:
        yield con
    finally:
        con.close()
