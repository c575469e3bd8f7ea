from __future__ import annotations

from pathlib import Path

import pytest

from newsflow.query import QueryRefusedError, run_query
from newsflow.settings import load_settings
from warehouse.catalog import WarehouseMissingError, connect_writer


@pytest.fixture
def warehouse(isolated_settings: Path) -> Path:
    con = connect_writer(load_settings())
    con.execute("INSERT INTO ingest_runs (run_id, state) VALUES ('r1', 'completed')")
    con.close()
    return isolated_settings


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM articles",
        "INSERT INTO ingest_runs (run_id) VALUES ('x')",
        "UPDATE ingest_runs SET state = 'x'",
        "DROP TABLE articles",
        "CREATE TABLE t AS SELECT 1",
        "ATTACH '/tmp/other.db' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "COPY (SELECT 1) TO '/tmp/newsflow-leak.csv'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SET enable_external_access = true",
        "CALL ducklake_expire_snapshots('lake', older_than => now())",
        "SELECT 1; DELETE FROM articles",
        "x'; DROP TABLE articles; --",
    ],
)
def test_query_refuses_anything_but_reading(warehouse: Path, sql: str) -> None:
    with pytest.raises((QueryRefusedError, Exception)) as caught:
        run_query(load_settings(), sql)
    assert str(caught.value)
    assert run_query(load_settings(), "SELECT run_id, state FROM ingest_runs").to_pylist() == [
        {"run_id": "r1", "state": "completed"}
    ]
    assert not Path("/tmp/newsflow-leak.csv").exists()


@pytest.mark.parametrize(
    "sql",
    ["SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM read_parquet('/etc/*.parquet')"],
)
def test_file_reads_outside_the_lake_are_refused_by_the_engine(warehouse: Path, sql: str) -> None:
    with pytest.raises(QueryRefusedError, match="disabled by configuration"):
        run_query(load_settings(), sql)


def test_query_reads_tables_by_bare_name(warehouse: Path) -> None:
    result = run_query(load_settings(), "SELECT count(*) AS n FROM articles")
    assert result.to_pylist() == [{"n": 0}]


def test_query_without_warehouse_says_so(tmp_path: Path) -> None:
    with pytest.raises(WarehouseMissingError, match="run `newsflow ingest` first"):
        run_query(load_settings(data_dir=tmp_path / "empty"), "SELECT 1")
