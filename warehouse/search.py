"""Full-text search: a BM25 index (DuckDB's fts extension) over article titles and bodies.

DuckLake tables cannot hold the fts index, so it lives in its own DuckDB file beside the catalog,
``DATA_DIR/search.duckdb``, written as a temporary file and swapped in with an atomic rename: readers
always see a complete index. Read connections attach it as ``search`` with the table ``article_search`` and
the macro schema ``fts_main_article_search``.

The index is the fts extension's own: ``PRAGMA create_fts_index`` lays out its tables (``docs``, ``terms``,
``dict``, ``stats``) and macros (``match_bm25``, ``tokenize``) on an empty table, and the articles are then
indexed in chunks: Polars cuts the words where the ``tokenize`` macro would (a regex pass several times
quicker than the macro's, on both cores), and each distinct word goes through the extension's own
``tokenize``, stop words and stemmer in SQL, so ``match_bm25`` scores exactly as after ``create_fts_index``
over the same rows (a test compares the two). An ingest indexes each batch it commits into a copy of the
current file (:class:`SearchIndexFeed`); after a reprocess a copy is updated for the articles added, removed
or rewritten since the last refresh; maintenance builds a new file, which also compacts it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from newsflow.faults import kill_point
from newsflow.settings import Settings
from newsflow.timing import timed
from warehouse.catalog import (
    LAKE,
    attach_sql,
    configure_storage,
    limit_memory,
    load_extensions,
    reader,
    registered,
    required_extensions,
    transaction,
)

logger = logging.getLogger(__name__)

SEARCH_TABLE = "article_search"
FTS_SCHEMA = f"fts_main_{SEARCH_TABLE}"
ID_COLUMN = "article_id"
VERSION_COLUMN = "run_id"
INDEXED_FIELDS = ("title", "body")
STEMMER = "porter"
CHUNK_ROWS = 5_000
"""Articles indexed at a time: the memory an index update needs is that of one chunk."""
FTS_WORD = r"[^0-9!@#$%^&*()_+={}\[\]:;<>,.?~\\/|'\"`\-\t\n\f\r ]+"
"""A word as the fts ``tokenize`` macro cuts text: a run of anything but ASCII digits, ASCII punctuation and
RE2's whitespace (``\\s``: tab, line feed, form feed, carriage return, space)."""
_WORD_KEY_SEED = 0x66747377
FEED_MEMORY_SHARE = 0.25
"""The share of ``duckdb_memory_limit`` a search index fed during a run may hold: the run's batches and its
writer hold the rest."""
FULL_REBUILD_FRACTION = 0.5
"""An update touching more than this fraction of the indexed articles rebuilds the index instead."""

_SEARCH_COLUMNS = (ID_COLUMN, *INDEXED_FIELDS, VERSION_COLUMN)
"""What indexing an article reads."""
_STORED_COLUMNS = (ID_COLUMN, VERSION_COLUMN)
"""What ``article_search`` keeps of each article: which version is indexed. Its text is in the lake; the
postings are in the fts tables, which is all ``match_bm25`` reads."""
EXPECTED_LAYOUT: dict[tuple[str, str], tuple[str, ...]] = {
    ("main", SEARCH_TABLE): _STORED_COLUMNS,
    (FTS_SCHEMA, "docs"): ("docid", "name", "len"),
    (FTS_SCHEMA, "terms"): ("docid", "fieldid", "termid"),
    (FTS_SCHEMA, "dict"): ("termid", "term", "df"),
    (FTS_SCHEMA, "stats"): ("num_docs", "avgdl"),
    (FTS_SCHEMA, "fields"): ("fieldid", "field"),
    (FTS_SCHEMA, "stopwords"): ("sw",),
}


_VERSIONS = f"(SELECT {ID_COLUMN}, {VERSION_COLUMN} FROM {LAKE}.articles)"
_SAME_VERSION = (
    f"s.{ID_COLUMN} = l.{ID_COLUMN} AND s.{VERSION_COLUMN} IS NOT DISTINCT FROM l.{VERSION_COLUMN}"
)
_GONE_SQL = f"SELECT s.{ID_COLUMN} FROM {SEARCH_TABLE} AS s ANTI JOIN {_VERSIONS} AS l ON {_SAME_VERSION}"
"""Articles indexed that the lake no longer holds as indexed (removed, or rewritten by a later run)."""
_ARRIVING_SQL = (
    f"SELECT l.{ID_COLUMN}, l.{VERSION_COLUMN} FROM {_VERSIONS} AS l "
    f"ANTI JOIN {SEARCH_TABLE} AS s ON {_SAME_VERSION}"
)
"""Articles of the lake not in the index as they are now (new, or rewritten by a later run)."""


@dataclass(frozen=True)
class SearchIndexRefresh:
    """What a refresh of the search index did.

    Attributes:
        articles: Articles in the index afterwards.
        added: Articles indexed by this refresh (new or rewritten ones); every article for a full rebuild.
        removed: Articles taken out of the index (gone from the lake or rewritten since the last refresh).
        incremental: Whether the existing index was updated rather than rebuilt from scratch.
    """

    articles: int
    added: int
    removed: int
    incremental: bool


def search_index_path(settings: Settings) -> Path:
    return (settings.data_dir / "search.duckdb").resolve()


def search_index_exists(settings: Settings) -> bool:
    return search_index_path(settings).is_file()


def refresh_search_index(settings: Settings, *, full: bool = False) -> SearchIndexRefresh:
    """Bring the index in line with the lake's current ``articles`` and swap it in.

    Leaves an index that matches the lake as it is; else updates a copy of it for the articles that changed
    since it was built, unless ``full`` is set, there is no index yet, its layout is not the one this module
    writes (an older version) or more than ``FULL_REBUILD_FRACTION`` of its articles changed: then the index
    is rebuilt from scratch. Copies left by a killed run are removed first (see
    :func:`_remove_stale_temporaries`).

    Args:
        settings: Where the warehouse and the index live.
        full: Rebuild from scratch (maintenance does, to compact the file).

    Returns:
        The number of articles indexed and how they were indexed.
    """
    target = search_index_path(settings)
    _remove_stale_temporaries(target, settings)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        change = None if full else _pending_change(target, settings)
        if change is not None and not change.added and not change.removed:
            return change
        if change is not None and change.added + change.removed <= FULL_REBUILD_FRACTION * change.articles:
            shutil.copyfile(target, temporary)
            refresh = _update_index(temporary, settings)
        else:
            refresh = _build_index(temporary, settings)
        kill_point("search-built")
        os.replace(temporary, target)
        return refresh
    finally:
        _remove_database(temporary)


class SearchIndexFeed:
    """The search index brought up to date batch by batch while an ingest runs.

    :meth:`add` indexes a batch's rows, just committed to the lake, on a thread of its own while the run goes
    on, into a private copy of the current index (or a new, empty one); :meth:`finish` then indexes whatever
    the lake holds that the batches did not bring (and removes what it no longer holds) exactly as
    :func:`refresh_search_index` does, and swaps the copy in. A run ends with the same index as a refresh
    after it, without reading its articles back or indexing them all at its end. The lake is attached only
    then: an attached SQLite catalog would stand in the way of the writer's commits. When the current index
    cannot be copied (a WAL beside it, an older layout) or a batch fails to index, nothing more is fed and
    :meth:`finish` falls back to :func:`refresh_search_index`.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-index")
        self._pending: Future[None] | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._temporary: Path | None = None
        self._existed = False
        self._declined = False
        self._added = 0
        self._removed = 0

    def add(self, articles: pl.DataFrame) -> None:
        """Index ``articles`` (rows with the ``article_search`` columns) after the previous batch."""
        self._wait()
        if not self._declined and articles.height:
            self._pending = self._pool.submit(self._index, articles.select(_SEARCH_COLUMNS))

    def finish(self) -> SearchIndexRefresh:
        """Index what the batches did not bring, swap the index in and say what changed since the last one."""
        self._wait()
        if self._con is None or self._temporary is None:
            self.close()
            return refresh_search_index(self._settings)
        con, temporary = self._con, self._temporary
        try:
            con.execute(attach_sql(self._settings, read_only=True))
            removed, added = _catch_up(con)
            articles = _settle(con)
            con.close()
            self._con = None
            kill_point("search-built")
            os.replace(temporary, search_index_path(self._settings))
        finally:
            self.close()
        return SearchIndexRefresh(
            articles=articles,
            added=self._added + added,
            removed=self._removed + removed,
            incremental=self._existed,
        )

    def close(self) -> None:
        """Stop feeding and remove the private copy (after :meth:`finish`, or when the run failed)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._discard()

    def _discard(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._temporary is not None:
            _remove_database(self._temporary)
            self._temporary = None

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        try:
            pending.result()
        except Exception as error:  # the batch is committed: the refresh at the end indexes it
            logger.warning(
                "Search index not updated batch by batch (%s: %s); refreshing it at the end of the run",
                type(error).__name__,
                error,
            )
            self._declined = True
            self._discard()

    def _index(self, rows: pl.DataFrame) -> None:
        with timed("search_index.batches"):
            self._index_batch(rows)

    def _index_batch(self, rows: pl.DataFrame) -> None:
        if self._con is None:
            self._con = self._open()
            if self._con is None:
                self._declined = True
                return
        con = self._con
        with registered(con, batch_ids=rows.select(ID_COLUMN)):
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE gone AS SELECT {ID_COLUMN} FROM {SEARCH_TABLE} "
                f"SEMI JOIN batch_ids USING ({ID_COLUMN})"
            )
        replaced = _count(con, "SELECT count(*) FROM gone")
        if replaced:
            _remove_documents(con)
        for offset in range(0, rows.height, CHUNK_ROWS):
            _add_chunk(con, rows.slice(offset, CHUNK_ROWS))
        self._removed += replaced
        self._added += rows.height

    def _open(self) -> duckdb.DuckDBPyConnection | None:
        target = search_index_path(self._settings)
        _remove_stale_temporaries(target, self._settings)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        self._existed = target.is_file()
        if self._existed:
            current = _open_updatable(target, self._settings)
            if current is None:
                return None
            current.close()
            shutil.copyfile(target, temporary)
        self._temporary = temporary
        if not self._existed:
            _create_empty_index(temporary, self._settings)
        con = connect_index(temporary, self._settings)
        share = _memory_share(self._settings.duckdb_memory_limit, FEED_MEMORY_SHARE)
        if share is not None:
            con.execute(f"SET memory_limit = '{share}B'")
        return con


def _memory_share(limit: str, share: float) -> int | None:
    """``share`` of a DuckDB memory limit such as ``1GB`` or ``512MiB``, in bytes (None if not understood)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*", limit, re.IGNORECASE)
    if found is None:
        return None
    number, prefix, binary = found.groups()
    base = 1024 if binary else 1000
    return int(float(number) * base ** " kmgt".index(prefix.lower() or " ") * share)


def _remove_stale_temporaries(target: Path, settings: Settings) -> None:
    """Remove copies of the index left by killed runs.

    Under the local writer lock every copy is stale. Writers of a shared catalog take no lock, and two of
    them may share a data dir: there only copies untouched for ``writer_grace_seconds`` count as stale
    (a copy being fed is written to batch after batch).
    """
    cutoff = time.time() - settings.writer_grace_seconds if settings.catalog_is_shared else None
    for stale in target.parent.glob(f".{target.name}.*.tmp*"):
        try:
            if cutoff is None or stale.stat().st_mtime < cutoff:
                stale.unlink()
        except FileNotFoundError:
            continue


def _wal_path(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def _remove_database(database: Path) -> None:
    database.unlink(missing_ok=True)
    _wal_path(database).unlink(missing_ok=True)


def connect_index(database: Path, settings: Settings, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to an index file with the extensions it needs; a writing one under the memory limit."""
    con = duckdb.connect(
        str(database),
        read_only=read_only,
        config={
            "extension_directory": str(settings.extensions_path),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        },
    )
    try:
        con.execute("SET enable_progress_bar = false")
        load_extensions(con, required_extensions(settings))
        configure_storage(con, settings)
        if not read_only:
            limit_memory(con, settings)
    except BaseException:
        con.close()
        raise
    return con


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    (value,) = con.execute(sql).fetchone() or (0,)
    return int(value)


def _build_index(database: Path, settings: Settings) -> SearchIndexRefresh:
    """Index every article into a new database file.

    The new, empty index (:func:`_create_empty_index`) is updated with every article, so a build and an
    update index articles the same way.
    """
    _create_empty_index(database, settings)
    return dataclasses.replace(_update_index(database, settings), incremental=False)


def _create_empty_index(database: Path, settings: Settings) -> None:
    """``PRAGMA create_fts_index`` on an empty table: the extension's tables and macros, no article yet.

    The indexed fields are then dropped from the table, which keeps only :data:`_STORED_COLUMNS`: a copy of
    every title and body made the index file larger than the lake's Parquet (928 MB at 222,500 articles,
    most of it text), and each run copies the file. The lake is not attached: a feed creates its index
    while the run's writer commits.
    """
    columns = ", ".join(f"{column} VARCHAR" for column in _SEARCH_COLUMNS)
    fields = ", ".join(f"'{field}'" for field in INDEXED_FIELDS)
    con = connect_index(database, settings)
    try:
        con.execute(f"CREATE TABLE {SEARCH_TABLE} ({columns})")
        con.execute(
            f"PRAGMA create_fts_index('{SEARCH_TABLE}', '{ID_COLUMN}', {fields}, "
            f"stemmer = '{STEMMER}', overwrite = 1)"
        )
        for field in INDEXED_FIELDS:
            con.execute(f"ALTER TABLE {SEARCH_TABLE} DROP COLUMN {field}")
    finally:
        con.close()


def _recount(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DELETE FROM {FTS_SCHEMA}.stats")
    con.execute(
        f"INSERT INTO {FTS_SCHEMA}.stats SELECT count(docs.docid) AS num_docs, "
        f"sum(docs.len) / count(docs.len) AS avgdl FROM {FTS_SCHEMA}.docs AS docs"
    )


def _pending_change(database: Path, settings: Settings) -> SearchIndexRefresh | None:
    """What an incremental refresh of the index at ``database`` would do, or None when it cannot.

    Looks without copying the file (no index, a WAL beside it, or another layout give None), so a run that
    changed nothing pays a read of the article ids and run ids, not a copy of the index.
    """
    con = _open_updatable(database, settings)
    if con is None:
        return None
    try:
        con.execute(attach_sql(settings, read_only=True))
        return SearchIndexRefresh(
            articles=_count(con, f"SELECT count(*) FROM {SEARCH_TABLE}"),
            added=_count(con, f"SELECT count(*) FROM ({_ARRIVING_SQL})"),
            removed=_count(con, f"SELECT count(*) FROM ({_GONE_SQL})"),
            incremental=True,
        )
    finally:
        con.close()


def _open_updatable(database: Path, settings: Settings) -> duckdb.DuckDBPyConnection | None:
    """A read-only connection to the index at ``database`` when a copy of it can be updated: the file
    exists, has no WAL beside it and has the layout this module writes; else None."""
    if not database.is_file() or _wal_path(database).exists():
        return None
    con = connect_index(database, settings, read_only=True)
    try:
        if _has_expected_layout(con):
            return con
    except BaseException:
        con.close()
        raise
    con.close()
    return None


def _has_expected_layout(con: duckdb.DuckDBPyConnection) -> bool:
    rows = con.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() ORDER BY schema_name, table_name, column_index"
    ).fetchall()
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for schema, table, column in rows:
        found[(schema, table)] = (*found.get((schema, table), ()), column)
    if any(found.get(key) != columns for key, columns in EXPECTED_LAYOUT.items()):
        return False
    fields = con.execute(f"SELECT field FROM {FTS_SCHEMA}.fields ORDER BY fieldid").fetchall()
    return tuple(field for (field,) in fields) == INDEXED_FIELDS


def _update_index(database: Path, settings: Settings) -> SearchIndexRefresh:
    """Update the index in ``database`` (a copy of the current one, or a new empty one) for what changed.

    An article changed when its ``run_id`` differs from the one indexed: every ingest and reprocess run
    stamps the rows it writes with its own new ``run_id``. Its old postings are removed and the new row is
    indexed as a build indexes it; ``dict.df`` is adjusted by the documents each term gained and lost, and
    ``stats`` is recomputed. The copy is private until it is swapped in, so its statements commit one by one
    (DuckDB can then write finished data out rather than hold a whole update in memory).
    """
    con = connect_index(database, settings)
    try:
        con.execute(attach_sql(settings, read_only=True))
        removed, added = _catch_up(con)
        articles = _settle(con)
    finally:
        con.close()
    return SearchIndexRefresh(articles=articles, added=added, removed=removed, incremental=True)


def _catch_up(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Remove and add what the attached lake's ``articles`` hold otherwise; the numbers removed and added."""
    with transaction(con):
        con.execute(f"CREATE OR REPLACE TEMP TABLE gone AS {_GONE_SQL}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE arriving AS {_ARRIVING_SQL}")
    removed = _count(con, "SELECT count(*) FROM gone")
    added = _count(con, "SELECT count(*) FROM arriving")
    if removed:
        _remove_documents(con)
    if added:
        _add_documents(con)
    return removed, added


def _settle(con: duckdb.DuckDBPyConnection) -> int:
    """Recompute ``stats``, detach the lake and checkpoint; the number of articles indexed."""
    _recount(con)
    articles = _count(con, f"SELECT count(*) FROM {SEARCH_TABLE}")
    con.execute(f"DETACH {LAKE}")
    con.execute("CHECKPOINT")
    return articles


def _remove_documents(con: duckdb.DuckDBPyConnection) -> None:
    """Take the articles in the temp table ``gone`` out of the index, their terms' ``df`` included."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE gone_docs AS SELECT docid FROM {FTS_SCHEMA}.docs "
        f"WHERE name IN (SELECT {ID_COLUMN} FROM gone)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lost_df AS SELECT termid, count(DISTINCT docid) AS lost "
        f"FROM {FTS_SCHEMA}.terms WHERE docid IN (SELECT docid FROM gone_docs) GROUP BY termid"
    )
    con.execute(f"DELETE FROM {FTS_SCHEMA}.terms WHERE docid IN (SELECT docid FROM gone_docs)")
    con.execute(f"DELETE FROM {FTS_SCHEMA}.docs WHERE docid IN (SELECT docid FROM gone_docs)")
    con.execute(f"DELETE FROM {SEARCH_TABLE} WHERE {ID_COLUMN} IN (SELECT {ID_COLUMN} FROM gone)")
    con.execute(
        f"UPDATE {FTS_SCHEMA}.dict AS d SET df = d.df - x.lost FROM lost_df AS x WHERE d.termid = x.termid"
    )
    con.execute(f"DELETE FROM {FTS_SCHEMA}.dict WHERE df <= 0")


def _add_documents(con: duckdb.DuckDBPyConnection) -> None:
    """Index the lake's rows for the articles in the temp table ``arriving`` under fresh docids.

    The rows are read in chunks of ``CHUNK_ROWS`` on a second connection while this one writes.
    """
    reading = con.cursor()
    try:
        reading.register("arriving_rows", con.execute("SELECT * FROM arriving").to_arrow_table())
        columns = ", ".join(f"a.{column}" for column in _SEARCH_COLUMNS)
        chunks = reading.execute(
            f"SELECT {columns} FROM {LAKE}.articles AS a SEMI JOIN arriving_rows AS r "
            f"ON a.{ID_COLUMN} = r.{ID_COLUMN} AND a.{VERSION_COLUMN} IS NOT DISTINCT FROM r.{VERSION_COLUMN}"
        ).to_arrow_reader(CHUNK_ROWS)
        for chunk in chunks:
            if chunk.num_rows:
                _add_chunk(con, pl.from_arrow(pa.Table.from_batches([chunk])))  # type: ignore[arg-type]
    finally:
        reading.close()


def index_words(articles: pl.DataFrame) -> pl.DataFrame:
    """Every word of the indexed fields as the fts extension's ``tokenize`` macro cuts text.

    Args:
        articles: rows with the :data:`INDEXED_FIELDS`.

    Returns:
        ``doc`` (the article's row, UInt32), ``fieldid`` (the field's position in :data:`INDEXED_FIELDS`)
        and ``word`` as written (not yet lower-cased, unaccented or stemmed), by field, then in text order.
        Each field of each half of the rows is cut on its own Polars thread.
    """
    half = -(-articles.height // 2)
    parts = [
        articles.lazy()
        .slice(offset, half)
        .select(
            doc=pl.int_range(pl.len(), dtype=pl.UInt32) + offset,
            fieldid=pl.lit(fieldid, pl.UInt8),
            word=pl.col(field).str.extract_all(FTS_WORD),
        )
        .explode("word")
        .drop_nulls("word")
        for fieldid, field in enumerate(INDEXED_FIELDS)
        for offset in (0, half)
    ]
    return pl.concat(pl.collect_all(parts))


def _add_chunk(con: duckdb.DuckDBPyConnection, docs: pl.DataFrame) -> None:
    """Index ``docs`` (the ``article_search`` columns) under docids after the highest one.

    The words are cut in Polars; each distinct word then goes through the extension's own steps in SQL
    (``tokenize``, which lower-cases and strips accents, the stop words and the stemmer), so the postings,
    ``df``, ``len`` and scores are those ``create_fts_index`` gives.
    """
    first = _count(con, f"SELECT coalesce(max(docid), -1) + 1 FROM {FTS_SCHEMA}.docs")
    words = index_words(docs).with_columns(key=pl.col("word").hash(_WORD_KEY_SEED))
    vocabulary = words.select("key", "word").gather(words["key"].arg_unique())
    words = words.drop("word")
    with registered(con, chunk_words=vocabulary):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE chunk_terms AS SELECT key, stem(w, '{STEMMER}') AS term FROM "
            f"(SELECT key, unnest({FTS_SCHEMA}.tokenize(word)) AS w FROM chunk_words) "
            f"WHERE len(w) > 0 AND w NOT IN (SELECT sw FROM {FTS_SCHEMA}.stopwords)"
        )
    con.execute(
        f"INSERT INTO {FTS_SCHEMA}.dict (termid, term, df) "
        f"SELECT (SELECT coalesce(max(termid), -1) FROM {FTS_SCHEMA}.dict) "
        f"+ row_number() OVER (ORDER BY n.term), n.term, 0 "
        f"FROM (SELECT DISTINCT term FROM chunk_terms) AS n "
        f"ANTI JOIN {FTS_SCHEMA}.dict AS d ON n.term = d.term"
    )
    termids = con.execute(
        f"SELECT c.key, d.termid FROM chunk_terms AS c JOIN {FTS_SCHEMA}.dict AS d USING (term)"
    ).pl()
    postings = words.join(termids, on="key").select(
        docid=pl.col("doc").cast(pl.Int64) + first, fieldid=pl.col("fieldid").cast(pl.Int64), termid="termid"
    )
    gained = postings.group_by("termid").agg(gained=pl.col("docid").n_unique().cast(pl.Int64))
    lengths = postings.group_by("docid").agg(len=pl.len().cast(pl.Int64))
    indexed = docs.with_columns(docid=pl.int_range(pl.len(), dtype=pl.Int64) + first)
    documents = indexed.select("docid", name=ID_COLUMN).join(lengths, on="docid", how="left")
    with registered(
        con,
        chunk_postings=postings,
        chunk_gained=gained,
        chunk_docs=documents.with_columns(pl.col("len").fill_null(0)),
        chunk_articles=indexed.select("docid", *_STORED_COLUMNS),
    ):
        con.execute(f"INSERT INTO {FTS_SCHEMA}.terms SELECT docid, fieldid, termid FROM chunk_postings")
        con.execute(
            f"UPDATE {FTS_SCHEMA}.dict AS d SET df = d.df + g.gained FROM chunk_gained AS g "
            "WHERE d.termid = g.termid"
        )
        con.execute(f"INSERT INTO {FTS_SCHEMA}.docs SELECT docid, name, len FROM chunk_docs")
        columns = ", ".join(_STORED_COLUMNS)
        con.execute(f"INSERT INTO {SEARCH_TABLE} SELECT {columns} FROM chunk_articles ORDER BY docid")


SEARCH_SQL = f"""
SELECT a.title, a.source, a.published_at, a.uri, round(s.score, 3) AS score, a.article_id
FROM (
    SELECT article_id, fts_main_{SEARCH_TABLE}.match_bm25(article_id, ?) AS score
    FROM {SEARCH_TABLE}
) AS s
JOIN articles AS a USING (article_id)
WHERE s.score IS NOT NULL
ORDER BY s.score DESC, a.published_at DESC NULLS LAST
LIMIT ?
"""


class SearchIndexMissingError(RuntimeError):
    """No search index has been built yet."""


def search_articles(settings: Settings, text: str, limit: int = 10) -> pa.Table:
    """Articles ranked by BM25 over title and body, best first."""
    if not search_index_path(settings).is_file():
        raise SearchIndexMissingError(
            f"no search index in {settings.data_dir}: it is built after an ingest that writes articles"
        )
    with reader(settings) as con:
        return con.execute(SEARCH_SQL, [text, limit]).to_arrow_table()
