"""Ingest benchmark: articles/s end to end and per step, peak RSS, references, incremental runs, queries.

Run with ``make bench`` (or ``.venv/bin/python -m bench.ingest [--runs 3] [--scales 10,100] [--basic]``).
Each measured ingest is a separate ``newsflow ingest`` process against a running Prefect server; the time
inside the flow comes from ``ingest_runs`` and the wall time around the process is reported beside it, so
Prefect's start-up is visible on its own. Beside every run, two reference paths do the same files in their
own processes (``bench/reference.py``): the bare floor (read the bytes, write one Parquet file) and dlt
loading title/body records into DuckDB; the table prints our flow time as a ratio to each. After the largest
corpus: a no-op re-run, an incremental run with 1,000 new files, and the analyst queries before and after
maintenance (``bench/queries.py``).
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
from bench.shared_corpus import default_corpus

REPO = Path(__file__).resolve().parents[1]
NEWSFLOW = str(Path(sys.executable).with_name("newsflow"))


@dataclass
class Measured:
    wall_seconds: float
    flow_seconds: float
    peak_rss_mib: float
    summary: dict[str, object]


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
    rss_mib = json.loads(lines[-1])["maxrss_kb"] / 1024
    return Measured(wall, _flow_seconds(data_dir, str(summary["run_id"])), rss_mib, summary), rss_mib


STAGES = (
    "setup",
    "discover",
    "diff",
    "read",
    "parse",
    "clean",
    "enrich",
    "stories",
    "identify",
    "write",
    "register",
    "search_index",
)


def _stages(data_dir: Path, run_id: str) -> dict[str, float]:
    """Seconds per step of one run (steps of different batches overlap, so they may add up to more)."""
    from newsflow.settings import load_settings
    from warehouse.catalog import reader

    with reader(load_settings(data_dir=data_dir)) as con:
        row = con.execute("SELECT stage_seconds FROM ingest_runs WHERE run_id = ?", [run_id]).fetchone()
    if not row or not row[0]:
        return {}
    stages: dict[str, float] = json.loads(row[0])
    return stages


def run_reference(kind: str, sources: list[str], out_dir: Path, env: dict[str, str]) -> dict[str, float]:
    """One run of a reference path (``floor`` or ``dlt``) in its own process: seconds, files, peak RSS."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.reference", kind, str(out_dir), *sources],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    shutil.rmtree(out_dir, ignore_errors=True)
    if done.returncode:
        raise RuntimeError(f"reference {kind} failed: {done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


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


@dataclass
class Case:
    label: str
    sources: list[str]
    level: str
    references: bool = True

    @property
    def env(self) -> dict[str, str]:
        """The enrichment level; ``basic`` is the first pass, without the search index."""
        return {
            "NEWSFLOW_ENRICHMENT": self.level,
            "NEWSFLOW_SEARCH_INDEX": str(self.level != "basic").lower(),
        }


@dataclass
class CaseResult:
    case: Case
    articles: int
    runs: list[Measured]
    floors: list[float]
    dlts: list[float]
    stages: dict[str, float]
    noop: Measured
    noop_stages: dict[str, float]
    files: int
    data_dir: Path


def measure_case(case: Case, runs: int, work: Path, env: dict[str, str], keep: bool) -> CaseResult:
    """``runs`` fresh ingests of the case, each beside the floor and dlt on the same files, then a no-op."""
    results: list[Measured] = []
    floors: list[float] = []
    dlts: list[float] = []
    data_dir = work
    for run in range(runs):
        if run:
            shutil.rmtree(data_dir, ignore_errors=True)
        data_dir = Path(tempfile.mkdtemp(dir=work))
        measured, _rss = measure_peak_rss(case.sources, data_dir, {**env, **case.env})
        results.append(measured)
        print(f"    {case.label}: run {run + 1}: {measured.flow_seconds:.2f} s in flow", flush=True)
        if case.references:
            floors.append(run_reference("floor", case.sources, work / "reference", env)["seconds"])
            dlts.append(run_reference("dlt", case.sources, work / "reference", env)["seconds"])
    last = results[-1]
    stages = _stages(data_dir, str(last.summary["run_id"]))
    noop = run_ingest(case.sources, data_dir, {**env, **case.env})
    noop_stages = _stages(data_dir, str(noop.summary["run_id"]))
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    return CaseResult(
        case=case,
        articles=int(str(last.summary["articles_written"])),
        runs=results,
        floors=floors,
        dlts=dlts,
        stages=stages,
        noop=noop,
        noop_stages=noop_stages,
        files=int(str(last.summary["files_seen"])),
        data_dir=data_dir,
    )


def print_table(results: list[CaseResult], runs: int) -> None:
    print(f"\nIngest (running Prefect server; flow seconds exclude start-up; medians of {runs} runs)")
    header = (
        f"  {'corpus':<44} {'files':>7} {'articles':>8} {'flow s':>7} {'art/s':>6} {'RSS MiB':>7}"
        f" {'floor s':>7} {'x floor':>7} {'dlt s':>6} {'x dlt':>6}"
    )
    print(header)
    for result in results:
        flow = statistics.median(m.flow_seconds for m in result.runs)
        rss = statistics.median(m.peak_rss_mib for m in result.runs)
        line = (
            f"  {result.case.label:<44} {result.files:>7} {result.articles:>8} {flow:>7.2f}"
            f" {result.articles / flow:>6.0f} {rss:>7.0f}"
        )
        if result.floors:
            floor = statistics.median(result.floors)
            dlt = statistics.median(result.dlts)
            line += f" {floor:>7.2f} {flow / floor:>7.1f} {dlt:>6.2f} {flow / dlt:>6.2f}"
        print(line)
    print("\n  per run (flow seconds / peak RSS MiB):")
    for result in results:
        runs_text = ", ".join(f"{m.flow_seconds:.2f}/{m.peak_rss_mib:.0f}" for m in result.runs)
        print(f"    {result.case.label}: {runs_text}")
    print("\n  seconds per step, last run (steps of different batches overlap):")
    for result in results:
        steps = ", ".join(f"{name} {result.stages[name]:.2f}" for name in STAGES if name in result.stages)
        enrich = ", ".join(
            f"{name.split('.', 1)[1]} {seconds:.2f}"
            for name, seconds in result.stages.items()
            if name.startswith("enrich.")
        )
        print(f"    {result.case.label}: {steps}")
        if enrich:
            print(f"      enrich: {enrich}")
    print("\n  no-op re-run (nothing new):")
    for result in results:
        listing = result.noop_stages.get("discover", 0.0) + result.noop_stages.get("diff", 0.0)
        print(
            f"    {result.case.label}: flow {result.noop.flow_seconds:.2f} s,"
            f" wall {result.noop.wall_seconds:.2f} s,"
            f" files_new={result.noop.summary['files_new']}, listing+diff {listing:.2f} s"
            f" ({listing / max(result.files, 1) * 100_000:.2f} s per 100k files)"
        )


def measure_incremental(
    bbc: Path, generated: Path, copies: int, data_dir: Path, env: dict[str, str], new_files: int
) -> tuple[Measured, dict[str, float]]:
    """Add ``new_files`` new articles beside an ingested corpus and time the run that picks them up."""
    incoming = generated / "incoming"
    shutil.rmtree(incoming, ignore_errors=True)
    build_corpus(bbc, incoming, 1, first_copy=copies, limit=new_files)
    try:
        measured = run_ingest([str(generated)], data_dir, env)
        return measured, _stages(data_dir, str(measured.summary["run_id"]))
    finally:
        shutil.rmtree(incoming, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scales", default="10,100", help="copies of BBC to generate, comma-separated")
    parser.add_argument("--basic", action="store_true", help="also measure basic enrichment at every scale")
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--work-dir", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args()

    corpus = default_corpus()
    bbc = corpus / "bbc_news_fulltext"
    if not bbc.is_dir():
        sys.exit(f"BBC corpus not found at {bbc} (set NEWSFLOW_CORPUS)")
    work: Path = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    scales = [int(value) for value in args.scales.split(",") if value]
    generated: dict[int, tuple[Path, int]] = {}
    for copies in scales:
        folder = work / f"bbc{copies}x"
        t0 = time.perf_counter()
        files = build_corpus(bbc, folder, copies)
        generated[copies] = (folder, files)
        print(f"corpus: {files:,} files in {folder} (ready in {time.perf_counter() - t0:.1f} s)", flush=True)

    prefect_home = Path(tempfile.mkdtemp(prefix="newsflow-bench-prefect-"))
    env = {
        **os.environ,
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }
    env.pop("PREFECT_API_URL", None)
    empty = work / "empty"
    empty.mkdir(exist_ok=True)

    if not args.skip_startup:
        print("\nPrefect start-up (ingest of an empty folder, wall seconds)")
        ephemeral = [
            run_ingest([str(empty)], Path(tempfile.mkdtemp(dir=work)), env).wall_seconds
            for _ in range(args.runs)
        ]
        print(f"  ephemeral server : {_fmt(ephemeral)}", flush=True)
    with prefect_server(env) as api_url:
        served_env = {**env, "PREFECT_API_URL": api_url}
        if not args.skip_startup:
            served = [
                run_ingest([str(empty)], Path(tempfile.mkdtemp(dir=work)), served_env)
                for _ in range(args.runs)
            ]
            print(f"  running server   : {_fmt([m.wall_seconds for m in served])}")
            print(f"  of which in flow : {_fmt([m.flow_seconds for m in served])}", flush=True)

        html_pages = [
            str(corpus / "trafilatura_eval_dev" / "html"),
            str(corpus / "scrapinghub_article_extraction_benchmark" / "html"),
        ]
        cases = [Case("HTML pages (245 files), full + search", html_pages, "full")]
        for copies in scales:
            folder, files = generated[copies]
            if args.basic or copies == min(scales):
                cases.append(
                    Case(f"{copies}x BBC ({files:,} files), basic, no search", [str(folder)], "basic")
                )
            cases.append(Case(f"{copies}x BBC ({files:,} files), full + search", [str(folder)], "full"))
        largest = cases[-1]
        print("\nMeasuring (each run is a fresh warehouse):", flush=True)
        results = [measure_case(case, args.runs, work, served_env, keep=case is largest) for case in cases]
        print_table(results, args.runs)

        big = results[-1]
        copies = max(scales)
        incremental, incremental_stages = measure_incremental(
            bbc, generated[copies][0], copies, big.data_dir, served_env, 1_000
        )
        print(
            f"\nIncremental: 1,000 new files beside {big.articles:,} ingested: flow"
            f" {incremental.flow_seconds:.2f} s, wall {incremental.wall_seconds:.2f} s,"
            f" articles_written={incremental.summary['articles_written']}; steps: "
            + ", ".join(f"{n} {incremental_stages[n]:.2f}" for n in STAGES if n in incremental_stages),
            flush=True,
        )
    done = subprocess.run(
        [sys.executable, "-m", "bench.queries", "--data-dir", str(big.data_dir), "--maintain"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    print(f"\nQueries over {big.articles:,} articles ({big.case.label}):")
    print(done.stdout.rstrip() or done.stderr[-2000:])
    shutil.rmtree(big.data_dir, ignore_errors=True)
    shutil.rmtree(prefect_home, ignore_errors=True)


if __name__ == "__main__":
    main()
