"""Reference paths the ingest benchmark compares against, each run in its own process.

* ``floor``: list the folder, read every file's bytes and write them to one Parquet file with pyarrow (no
  decoding, parsing or cleaning): the least any ingest of these files must do.
* ``dlt``: read every file, split it into title (first line) and body (the rest) and load those records
  into DuckDB with dlt: a general-purpose loader doing uncleaned, unenriched records.

Run as ``python -m bench.reference floor|dlt OUT_DIR SOURCE_DIR...``; prints one JSON object with
``seconds``, ``files`` and ``peak_rss_mib``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

CHUNK_FILES = 4_096


def walk_files(root: Path) -> Iterator[str]:
    """Every regular file under ``root``, depth first, hidden names skipped."""
    stack = [str(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    yield entry.path


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def bare_floor(sources: list[Path], out_dir: Path) -> int:
    """Read every file's bytes and write ``(path, content)`` rows to one Parquet file; the file count."""
    schema = pa.schema([("path", pa.string()), ("content", pa.binary())])
    count = 0
    paths: list[str] = []
    with pq.ParquetWriter(out_dir / "floor.parquet", schema, compression="zstd") as writer:
        for path in (path for source in sources for path in walk_files(source)):
            paths.append(path)
            if len(paths) == CHUNK_FILES:
                writer.write_table(pa.table({"path": paths, "content": [_read(p) for p in paths]}, schema))
                count += len(paths)
                paths = []
        if paths:
            writer.write_table(pa.table({"path": paths, "content": [_read(p) for p in paths]}, schema))
            count += len(paths)
    return count


def split_records(sources: list[Path]) -> Iterator[dict[str, str]]:
    """One record per file: ``path``, ``title`` (first line) and ``body`` (the rest), decoded leniently."""
    for path in (path for source in sources for path in walk_files(source)):
        text = _read(path).decode("utf-8", errors="replace")
        title, _, body = text.partition("\n")
        yield {"path": path, "title": title.strip(), "body": body.strip()}


def dlt_load(sources: list[Path], out_dir: Path) -> int:
    """Load :func:`split_records` into a DuckDB file with dlt; the number of rows loaded."""
    import dlt

    pipeline = dlt.pipeline(
        pipeline_name="newsflow_reference",
        destination=dlt.destinations.duckdb(str(out_dir / "dlt.duckdb")),
        dataset_name="news",
        pipelines_dir=str(out_dir / "dlt-pipelines"),
    )
    pipeline.run(split_records(sources), table_name="articles", write_disposition="append")
    with pipeline.sql_client() as client:
        rows = client.execute_sql("SELECT count(*) FROM articles") or [[0]]
    return int(rows[0][0])


def main() -> None:
    kind, out_dir, sources = sys.argv[1], Path(sys.argv[2]), [Path(arg) for arg in sys.argv[3:]]
    out_dir.mkdir(parents=True, exist_ok=True)
    if kind == "dlt":
        os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
        os.environ.setdefault("DLT_DATA_DIR", str(out_dir / "dlt-home"))
        import dlt  # noqa: F401  (imported before the clock starts)
    started = time.perf_counter()
    count = bare_floor(sources, out_dir) if kind == "floor" else dlt_load(sources, out_dir)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "files": count, "peak_rss_mib": peak}))


if __name__ == "__main__":
    main()
