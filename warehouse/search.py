"""Full-text search: a BM25 index (DuckDB's fts extension) over article titles and bodies.

DuckLake tables cannot hold the fts index, so it lives in its own DuckDB file beside the catalog,
``DATA_DIR/search.duckdb``, rebuilt into a temporary file and swapped in with an atomic rename: readers
always see a complete index. Read connections attach it as ``search`` with the table ``article_search`` and
the macro schema ``fts_main_article_search``.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa

from newsflow.faults import kill_point
from newsflow.settings import Settings
from warehouse.catalog import (
    LAKE,
    attach_sql,
    configure_storage,
    load_extensions,
    reader,
    required_extensions,
)

SEARCH_TABLE = "article_search"


def search_index_path(settings: Settings) -> Path:
    return (settings.data_dir / "search.duckdb").resolve()


def rebuild_search_index(settings: Settings) -> int:
    """Rebuild the index from the lake's current ``articles``; returns the number of articles indexed.

    Called under the writer lock, so temporaries of an earlier build that was killed are removed first.
    """
    target = search_index_path(settings)
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        con = duckdb.connect(
            str(temporary),
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
            con.execute(attach_sql(settings, read_only=True))
            con.execute(
                f"CREATE TABLE {SEARCH_TABLE} AS SELECT article_id, title, body FROM {LAKE}.articles "
                "ORDER BY article_id"
            )
            con.execute(f"DETACH {LAKE}")
            (count,) = con.execute(f"SELECT count(*) FROM {SEARCH_TABLE}").fetchone() or (0,)
            con.execute(
                f"PRAGMA create_fts_index('{SEARCH_TABLE}', 'article_id', 'title', 'body', overwrite = 1)"
            )
            con.execute("CHECKPOINT")
        finally:
            con.close()
        kill_point("search-built")
        os.replace(temporary, target)
        return int(count)
    finally:
        temporary.unlink(missing_ok=True)
        temporary.with_name(temporary.name + ".wal").unlink(missing_ok=True)


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
