"""The read-only query path: one statement, read statements only, over a locked-down connection."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from newsflow.settings import Settings
from warehouse.catalog import reader

READ_STATEMENTS = {
    duckdb.StatementType.SELECT,
    duckdb.StatementType.EXPLAIN,
}


class QueryRefusedError(ValueError):
    """The statement would do more than read."""


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but one read statement, by DuckDB's own parse of it (not by matching text)."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryRefusedError(f"could not parse the query: {str(error).splitlines()[0]}") from None
    if len(statements) != 1:
        raise QueryRefusedError(f"give exactly one statement (got {len(statements)})")
    kind = statements[0].type
    if kind not in READ_STATEMENTS:
        name = str(kind).rsplit(".", 1)[-1]
        raise QueryRefusedError(f"newsflow query is read-only: {name} statements are refused")


def run_query(settings: Settings, sql: str) -> pa.Table:
    """Run one read statement against the warehouse and return its result."""
    with reader(settings) as con:
        check_read_only(con, sql)
        try:
            return con.execute(sql).to_arrow_table()
        except duckdb.Error as error:
            message = str(error).splitlines()[0]
            if isinstance(error, duckdb.PermissionException) or "read-only" in message:
                raise QueryRefusedError(f"refused: {message}") from None
            raise
