"""Print or save query results in the formats ``newsflow query`` offers."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

MAX_TABLE_ROWS = 1000


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    text = str(value)
    return text if len(text) <= 200 else text[:199] + "…"


def _json_text(value: object) -> str:
    plain = value.to_list() if isinstance(value, pl.Series) else value
    return json.dumps(plain, default=str, ensure_ascii=False)


def result_table(result: pa.Table) -> Table:
    table = Table(show_lines=False)
    for name in result.column_names:
        table.add_column(name, overflow="fold")
    for row in result.slice(0, MAX_TABLE_ROWS).to_pylist():
        table.add_row(*(_cell(value) for value in row.values()))
    if result.num_rows > MAX_TABLE_ROWS:
        table.caption = f"{result.num_rows} rows, first {MAX_TABLE_ROWS} shown"
    else:
        table.caption = f"{result.num_rows} row{'s' if result.num_rows != 1 else ''}"
    return table


def write_result(result: pa.Table, output_format: str, output: Path | None, console: Console) -> None:
    if output_format == "parquet":
        assert output is not None
        pq.write_table(result, output, compression="zstd")
        return
    if output_format == "table":
        if output is None:
            console.print(result_table(result))
        else:
            with open(output, "w", encoding="utf-8") as handle:
                Console(file=handle, width=200).print(result_table(result))
        return
    frame = pl.from_arrow(result)
    assert isinstance(frame, pl.DataFrame)
    buffer = io.StringIO()
    if output_format == "csv":
        nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
        frame.with_columns(
            pl.col(name).map_elements(_json_text, return_dtype=pl.String()) for name in nested
        ).write_csv(buffer)
    else:
        frame.write_json(buffer)
    text = buffer.getvalue()
    if output is None:
        console.file.write(text if text.endswith("\n") else text + "\n")
    else:
        Path(output).write_text(text, encoding="utf-8")
