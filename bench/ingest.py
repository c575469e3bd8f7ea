"""Ingest benchmark: articles/s end to end, peak RSS, no-op re-run, and Prefect start-up.

Run with ``make bench`` (or ``.venv/bin/python -m bench.ingest [--runs 3] [--copies 10]``). Each measured
ingest is a separate ``newsflow ingest`` process; the time inside the flow comes from ``ingest_runs`` and the
wall time around the process is reported beside it, so Prefect's start-up is visible on its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.corpus import build_corpus

REPO = Path(__file__).resolve().parents[1]
NEWSFLOW = str(Path(sys.executable).with_name("newsflow"))


@dataclass
class Measured:
    wall_seconds: float
    flow_seconds: float
    peak_rss_mb: float
    summary: dict[str, object]


def _corpus_root() -> Path:
    return Path(os.environ.get("NEWSFLOW_CORPUS", REPO.parent / "shared" / "corpus")).resolve()


def run_ingest(sources: list[str], data_dir: Path, env: dict[str, str]) -> Measured:
    started = time.perf_counter()
    done = subprocess.run(
        [NEWSFLOW, "ingest", *sources, "--data-dir", str(data_dir), "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"ingest failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return Measured(wall, _flow_seconds(data_dir, str(summary["run_id"])), float("nan"), summary)


def _flow_seconds(data_dir: Path, run_id: str) -> float:
    from newsflow.settings import load_settings
    from warehouse.catalog import reader

    with reader(load_settings(data_dir=data_dir)) as con:
        row = con.execute("SELECT duration_seconds FROM ingest_runs WHERE run_id = ?", [run_id]).fetchone()
    return float(row[0]) if row else float("nan")


def measure_peak_rss(sources: list[str], data_dir: Path, env: dict[str, str]) -> tuple[Measured, float]:
    """Run one ingest in a child whose own peak RSS (ru_maxrss of that child alone) is read back."""
    code = (
        "import json, resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stdout.write(p.stdout)\n"
        "sys.stderr.write(p.stderr)\n"
        "print(json.dumps({'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n"
        "sys.exit(p.returncode)\n"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, NEWSFLOW, "ingest", *sources, "--data-dir", str(data_dir), "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"ingest failed: {done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    summary = json.loads(lines[-2])
    rss_mb = json.loads(lines[-1])["maxrss_kb"] / 1024
    return Measured(wall, _flow_seconds(data_dir, str(summary["run_id"])), rss_mb, summary), rss_mb


def _stages(data_dir: Path) -> str:
    """Seconds per step of the first run in ``data_dir`` (steps overlap, so they may add up to more)."""
    from newsflow.settings import load_settings
    from warehouse.catalog import reader

    with reader(load_settings(data_dir=data_dir)) as con:
        row = con.execute("SELECT stage_seconds FROM ingest_runs ORDER BY started_at LIMIT 1").fetchone()
    if not row or not row[0]:
        return "-"
    stages = json.loads(row[0])
    return ", ".join(f"{name} {seconds:.2f}" for name, seconds in stages.items() if "." not in name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def prefect_server(env: dict[str, str]):  # type: ignore[no-untyped-def]
    port = _free_port()
    server_env = {**env, "PREFECT_SERVER_API_HOST": "127.0.0.1", "PREFECT_SERVER_API_PORT": str(port)}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("prefect")),
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        import urllib.request

        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("prefect server did not start")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _fmt(values: list[float]) -> str:
    return f"{statistics.median(values):8.2f}" + (
        f"  (runs: {', '.join(f'{v:.2f}' for v in values)})" if len(values) > 1 else ""
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--work-dir", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args()

    bbc = _corpus_root() / "bbc_news_fulltext"
    if not bbc.is_dir():
        sys.exit(f"BBC corpus not found at {bbc} (set NEWSFLOW_CORPUS)")
    work: Path = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    generated = work / f"bbc{args.copies}x"
    t0 = time.perf_counter()
    files = build_corpus(bbc, generated, args.copies)
    print(f"corpus: {files} files in {generated} (built in {time.perf_counter() - t0:.1f} s)")

    prefect_home = Path(tempfile.mkdtemp(prefix="newsflow-bench-prefect-"))
    env = {**os.environ, "PREFECT_HOME": str(prefect_home), "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("PREFECT_API_URL", None)
    empty = work / "empty"
    empty.mkdir(exist_ok=True)

    print("\nPrefect start-up (ingest of an empty folder, wall seconds)")
    ephemeral = [
        run_ingest([str(empty)], Path(tempfile.mkdtemp(dir=work)), env).wall_seconds for _ in range(args.runs)
    ]
    print(f"  ephemeral server : {_fmt(ephemeral)}")
    with prefect_server(env) as api_url:
        served_env = {**env, "PREFECT_API_URL": api_url}
        served = [
            run_ingest([str(empty)], Path(tempfile.mkdtemp(dir=work)), served_env) for _ in range(args.runs)
        ]
        print(f"  running server   : {_fmt([m.wall_seconds for m in served])}")
        print(f"  of which in flow : {_fmt([m.flow_seconds for m in served])}")

        rows = []
        bbc_sources = [str(bbc / d) for d in ("business", "entertainment", "politics", "sport", "tech")]
        html_pages = [
            str(_corpus_root() / "trafilatura_eval_dev" / "html"),
            str(_corpus_root() / "scrapinghub_article_extraction_benchmark" / "html"),
        ]
        cases = (
            ("HTML pages (245 files, 181 gzipped), full enrichment", html_pages, "full"),
            ("BBC (2,225 files), full enrichment", bbc_sources, "full"),
            (f"{args.copies}x BBC ({files:,} files), basic enrichment", [str(generated)], "basic"),
            (f"{args.copies}x BBC ({files:,} files), full enrichment", [str(generated)], "full"),
        )
        for label, sources, level in cases:
            case_env = {**served_env, "NEWSFLOW_ENRICHMENT": level}
            results: list[Measured] = []
            for _ in range(args.runs):
                data_dir = Path(tempfile.mkdtemp(dir=work))
                measured, _rss = measure_peak_rss(sources, data_dir, case_env)
                results.append(measured)
            noop = run_ingest(sources, data_dir, case_env)
            articles = int(results[0].summary["articles_written"])  # type: ignore[call-overload]
            rows.append((label, articles, results, noop, _stages(data_dir)))
            shutil.rmtree(data_dir, ignore_errors=True)

    print("\nIngest (running Prefect server; flow seconds exclude start-up; medians of", args.runs, "runs)")
    for label, articles, results, noop, stages in rows:
        flow = [m.flow_seconds for m in results]
        print(f"  {label}")
        print(f"    articles written : {articles}")
        print(f"    flow seconds     : {_fmt(flow)}")
        print(f"    articles/s       : {articles / statistics.median(flow):8.0f}")
        print(f"    wall seconds     : {_fmt([m.wall_seconds for m in results])}")
        print(f"    peak RSS MB      : {_fmt([m.peak_rss_mb for m in results])}")
        print(
            f"    no-op re-run     : flow {noop.flow_seconds:.2f} s, wall {noop.wall_seconds:.2f} s, "
            f"files_new={noop.summary['files_new']}"
        )
        print(f"    seconds per step : {stages}")
    shutil.rmtree(prefect_home, ignore_errors=True)


if __name__ == "__main__":
    main()
