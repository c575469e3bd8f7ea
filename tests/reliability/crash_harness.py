"""Run the real ``newsflow ingest`` CLI as a separate process, kill it, re-run it and check the warehouse.

Used by ``tests/reliability/test_*.py`` (small sets) and ``bench/reliability.py`` (full sets). Nothing here
imports the product except the read-only query path (``warehouse.catalog.connect_reader``) for the checks.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = REPO_ROOT / ".venv" / "bin"
NEWSFLOW = str(VENV_BIN / "newsflow")
PREFECT = str(VENV_BIN / "prefect")
VALID_STATUSES = {"ingested", "duplicate", "quarantined", "skipped"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrefectServer:
    """A ``prefect server start`` on 127.0.0.1, in its own process group, with its own ``PREFECT_HOME``."""

    def __init__(
        self, home: Path | None = None, port: int | None = None, server_env: dict[str, str] | None = None
    ) -> None:
        self.home = home or Path(tempfile.mkdtemp(prefix="newsflow-reliability-prefect-"))
        self.port = port or free_port()
        self.server_env = server_env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.home / "server.log"

    @property
    def api_url(self) -> str:
        """The ``PREFECT_API_URL`` of this server."""
        return f"http://127.0.0.1:{self.port}/api"

    def env(self) -> dict[str, str]:
        """Environment variables that point a Prefect client at this server."""
        return {"PREFECT_HOME": str(self.home), "PREFECT_API_URL": self.api_url}

    def start(self, timeout: float = 120.0) -> PrefectServer:
        """Start the server and wait until ``/api/health`` answers."""
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**base_env(), "PREFECT_HOME": str(self.home), **self.server_env}
        env.pop("PREFECT_API_URL", None)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prefect server exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"prefect server did not start within {timeout:.0f} s")

    def stop(self) -> None:
        """Stop the server's whole process group."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


_SHARED_SERVER: PrefectServer | None = None


def shared_prefect_server() -> PrefectServer:
    """One Prefect server per Python process, started on first use and stopped at exit."""
    global _SHARED_SERVER
    if _SHARED_SERVER is None:
        _SHARED_SERVER = PrefectServer().start()
        atexit.register(_SHARED_SERVER.stop)
    return _SHARED_SERVER


def base_env() -> dict[str, str]:
    """The caller's environment without ``NEWSFLOW_*`` settings, plus quiet Prefect defaults."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_") or k == "NEWSFLOW_CORPUS"}
    env.update(
        {
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
            "NEWSFLOW_ENRICHMENT": "basic",
        }
    )
    return env


def ingest_env(server: PrefectServer | None, **extra: str) -> dict[str, str]:
    """Environment for a ``newsflow ingest`` child: basic enrichment, the shared Prefect server if any."""
    env = base_env()
    if server is not None:
        env.update(server.env())
    env.update(extra)
    return env


def ingest_command(
    sources: Sequence[str | Path], data_dir: Path, batch_size: int = 50, source_name: str | None = None
) -> list[str]:
    """The ``newsflow ingest ... --json`` command line."""
    command = [NEWSFLOW, "ingest", *map(str, sources), "--data-dir", str(data_dir), "--json"]
    command += ["--batch-size", str(batch_size)]
    if source_name is not None:
        command += ["--source-name", source_name]
    return command


@dataclass
class RunResult:
    """What one ``newsflow ingest`` child did."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    killed: bool = False
    lock_seen_after: float | None = None
    """Seconds from start until the child held the writer lock (None when never seen)."""
    first_write_after: float | None = None
    """Seconds from taking the lock until the first article partition folder appeared."""
    lock_released_after: float | None = None
    """Seconds from taking the lock until the child released it."""

    @property
    def summary(self) -> dict[str, Any]:
        """The ``--json`` summary (the last JSON line of stdout)."""
        for line in reversed(self.stdout.splitlines()):
            if line.startswith("{"):
                return dict(json.loads(line))
        raise AssertionError(f"no JSON summary (rc {self.returncode}): {self.stderr[-2000:]}")


def _lock_held_by(lock_path: Path, group: int) -> bool:
    """Whether the lock file names a process of process group ``group`` (a dead holder's text stays)."""
    try:
        words = lock_path.read_text(errors="replace").split()
    except FileNotFoundError:
        return False
    if len(words) < 2 or words[0] != "pid" or not words[1].isdigit():
        return False
    try:
        return os.getpgid(int(words[1])) == group
    except ProcessLookupError:
        return False


def run_ingest(
    command: Sequence[str],
    env: dict[str, str],
    data_dir: Path,
    kill_after_lock: float | None = None,
    timeout: float = 300.0,
) -> RunResult:
    """Run one ingest; with ``kill_after_lock``, SIGKILL its process group that long after it takes the lock.

    The writer lock file names its holder's pid, so the child's pid appearing there marks the moment the run
    starts touching the warehouse; kill points are measured from there, which takes the (variable)
    Python and Prefect start-up out of the sweep.
    """
    lock_path = data_dir / ".writer.lock"
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            list(command), stdout=out, stderr=err, env=env, start_new_session=True, cwd=REPO_ROOT
        )
        killed = False
        lock_seen: float | None = None
        first_write: float | None = None
        released: float | None = None
        articles_root = data_dir / "lake" / "main" / "articles"
        try:
            while process.poll() is None:
                now = time.monotonic()
                if now - started > timeout:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                    raise TimeoutError(f"ingest ran over {timeout:.0f} s")
                if lock_seen is None and _lock_held_by(lock_path, process.pid):
                    lock_seen = now
                elif lock_seen is not None and kill_after_lock is None:
                    if first_write is None and articles_root.is_dir() and any(articles_root.iterdir()):
                        first_write = now - lock_seen
                    if released is None and not _lock_held_by(lock_path, process.pid):
                        released = now - lock_seen
                if (
                    kill_after_lock is not None
                    and lock_seen is not None
                    and now - lock_seen >= kill_after_lock
                ):
                    os.killpg(process.pid, signal.SIGKILL)
                    killed = True
                    process.wait()
                    break
                time.sleep(0.002)
        finally:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if killed:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return RunResult(
            returncode=process.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            seconds=seconds,
            killed=killed,
            lock_seen_after=None if lock_seen is None else lock_seen - started,
            first_write_after=first_write,
            lock_released_after=released,
        )


def build_landing(corpus: Path, dest: Path, reuters: int = 200, bbc: int = 100) -> Path:
    """Copy ``reuters`` Reuters files and ``bbc`` BBC files (spread over its sections) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    reuters_files = sorted((corpus / "reuters_dev" / "files").iterdir())[:reuters]
    for path in reuters_files:
        shutil.copy2(path, dest / path.name)
    sections = sorted(p for p in (corpus / "bbc_news_fulltext").iterdir() if p.is_dir())
    per_section = -(-bbc // max(len(sections), 1))
    copied = 0
    (dest / "bbc").mkdir(exist_ok=True)
    for section in sections:
        for path in sorted(section.iterdir())[:per_section]:
            if copied >= bbc:
                break
            shutil.copy2(path, dest / "bbc" / f"{section.name}-{path.name}")
            copied += 1
    return dest


def content_hashes(landing: Path) -> set[str]:
    """SHA-256 of every regular file under ``landing``: what ``articles.content_hash`` must hold."""
    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in landing.rglob("*") if p.is_file()}


def sql(data_dir: Path, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of one query through the read-only path (``warehouse.catalog.connect_reader``)."""
    from newsflow.settings import load_settings
    from warehouse.catalog import connect_reader

    con = connect_reader(load_settings(data_dir=data_dir))
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


@dataclass
class WarehouseState:
    """What the lake holds and what is on disk, for the crash checks."""

    articles: int
    distinct_ids: int
    hashes: set[str]
    registered: set[str]
    on_disk: set[str]
    temporaries: set[str]
    run_states: dict[str, str]
    bad_statuses: list[tuple[Any, ...]]
    files_with_many_latest: int
    ingested_without_article: int

    @property
    def unregistered(self) -> set[str]:
        """Parquet files under ``lake/main/articles`` that the current snapshot does not list."""
        return self.on_disk - self.registered

    @property
    def missing(self) -> set[str]:
        """Registered files that are not on disk."""
        return self.registered - self.on_disk


def inspect_warehouse(data_dir: Path) -> WarehouseState:
    """Read the warehouse (read-only) and list the article files on disk."""
    root = data_dir / "lake" / "main" / "articles"
    on_disk: set[str] = set()
    temporaries: set[str] = set()
    if root.is_dir():
        for path in root.rglob("*"):
            if path.is_file():
                (temporaries if path.name.endswith(".tmp") else on_disk).add(str(path.resolve()))
    if not (data_dir / "catalog.sqlite").is_file():
        return WarehouseState(0, 0, set(), set(), on_disk, temporaries, {}, [], 0, 0)
    from newsflow.settings import load_settings
    from warehouse.catalog import connect_reader

    con = connect_reader(load_settings(data_dir=data_dir))
    try:
        ((articles, distinct_ids),) = con.execute(
            "SELECT count(*), count(DISTINCT article_id) FROM articles"
        ).fetchall()
        hashes = {row[0] for row in con.execute("SELECT content_hash FROM articles").fetchall()}
        registered = {
            str(Path(row[0]).resolve())
            for row in con.execute("SELECT data_file FROM ducklake_list_files('lake', 'articles')").fetchall()
        }
        run_states = dict(con.execute("SELECT run_id, state FROM ingest_runs").fetchall())
        bad_statuses = con.execute(
            "SELECT uri, status, reason FROM ingested_files WHERE status NOT IN "
            "('ingested', 'duplicate', 'quarantined', 'skipped') "
            "OR (status IN ('quarantined', 'skipped') AND reason IS NULL)"
        ).fetchall()
        ((many,),) = con.execute(
            "SELECT count(*) FROM (SELECT file_uri, seen_at FROM ingested_files "
            "GROUP BY file_uri, seen_at, record_key HAVING count(*) > 1)"
        ).fetchall()
        ((orphaned,),) = con.execute(
            "SELECT count(*) FROM ingested_files f WHERE status = 'ingested' AND NOT EXISTS "
            "(SELECT 1 FROM articles a WHERE a.article_id = f.article_id)"
        ).fetchall()
    finally:
        con.close()
    return WarehouseState(
        int(articles),
        int(distinct_ids),
        hashes,
        registered,
        on_disk,
        temporaries,
        run_states,
        bad_statuses,
        int(many),
        int(orphaned),
    )


def classify_kill_point(state: WarehouseState, batches_total: int) -> str:
    """Where a kill landed, judged from what it left behind."""
    if not state.run_states and not state.on_disk and not state.temporaries:
        return "before first commit (nothing written)"
    if state.temporaries:
        return "while writing Parquet (temporary file)"
    if state.unregistered:
        return "between write and register (unregistered file)"
    if any(s == "completed" for s in state.run_states.values()):
        return "after the final commit"
    if not state.registered:
        return "before first commit (nothing written)"
    return f"between batches ({len(state.registered)} files registered)"


@dataclass
class CrashOutcome:
    """One kill point: what was killed, where it landed, what the repair run found."""

    offset: float
    killed: bool
    phase: str
    lost: int
    duplicated: int
    problems: list[str] = field(default_factory=list)

    @property
    def recovered(self) -> bool:
        """The repair run completed and every check passed."""
        return not self.problems


def check_recovered(
    data_dir: Path, expected: set[str], running_before: set[str], final_run: str
) -> list[str]:
    """Every invariant the warehouse must meet after a repair run; returns what is wrong (empty: none)."""
    state = inspect_warehouse(data_dir)
    problems: list[str] = []
    if state.hashes != expected:
        problems.append(
            f"content hashes: {len(expected - state.hashes)} missing, "
            f"{len(state.hashes - expected)} unexpected"
        )
    if state.articles != len(expected):
        problems.append(f"{state.articles} article rows for {len(expected)} distinct good files")
    if state.articles != state.distinct_ids:
        problems.append(f"{state.articles - state.distinct_ids} duplicate article_id rows")
    if state.unregistered:
        problems.append(f"unregistered article files left: {sorted(state.unregistered)[:3]}")
    if state.temporaries:
        problems.append(f"temporary files left: {sorted(state.temporaries)[:3]}")
    if state.missing:
        problems.append(f"registered files missing on disk: {sorted(state.missing)[:3]}")
    if state.bad_statuses:
        problems.append(f"ingested_files rows with bad status or no reason: {state.bad_statuses[:3]}")
    if state.files_with_many_latest:
        problems.append(f"{state.files_with_many_latest} files with several rows for one sighting")
    if state.ingested_without_article:
        problems.append(f"{state.ingested_without_article} 'ingested' rows without an article")
    if state.run_states.get(final_run) != "completed":
        problems.append(f"repair run {final_run} is {state.run_states.get(final_run)!r}")
    for run_id in running_before:
        if state.run_states.get(run_id) != "crashed":
            problems.append(f"killed run {run_id} is {state.run_states.get(run_id)!r}, not 'crashed'")
    still_running = [run for run, s in state.run_states.items() if s == "running"]
    if still_running:
        problems.append(f"runs still 'running': {still_running}")
    return problems


HOOK_PHASES = {
    "parquet-written": "while writing Parquet (kill point in the writer)",
    "commit": "during the catalog commit (kill point before COMMIT)",
    "committed": "right after a catalog commit (kill point)",
    "search-built": "while rebuilding the search index (kill point before the swap)",
    "maintenance-merged": "during maintenance: files merged, snapshots not yet expired (kill point)",
    "maintenance-expired": "during maintenance: snapshots expired, files not yet cleaned (kill point)",
}
"""The named kill points of ``newsflow.faults`` and the phase each one stands for."""


def hooked_kill_points(batches_total: int, arrivals: int = 3) -> list[str]:
    """``NEWSFLOW_KILL_AT`` values for an ingest: each writer/commit point at its first, middle and last
    arrival (one commit per batch plus the final one), and the search index swap."""
    picks = sorted({1, max(1, (batches_total + 1) // 2), batches_total})[:arrivals]
    points = [f"{name}:{n}" for name in ("parquet-written", "commit", "committed") for n in picks]
    return [*points, "commit:" + str(batches_total + 1), "search-built:1"]


def crash_and_recover(
    landing: Path,
    data_dir: Path,
    env: dict[str, str],
    offset: float,
    expected: set[str],
    batch_size: int = 50,
    batches_total: int = 1,
    kill_at: str | None = None,
) -> CrashOutcome:
    """Kill an ingest ``offset`` seconds after it takes the writer lock (or at the named kill point
    ``kill_at``), re-run it, check the warehouse."""
    command = ingest_command([landing], data_dir, batch_size)
    if kill_at is None:
        first = run_ingest(command, env, data_dir, kill_after_lock=offset)
    else:
        first = run_ingest(command, {**env, "NEWSFLOW_KILL_AT": kill_at}, data_dir)
        first.killed = first.returncode == -signal.SIGKILL
    if not first.killed and first.returncode != 0:
        return CrashOutcome(offset, False, "failed", 0, 0, [f"first run failed: {first.stderr[-1000:]}"])
    after_kill = inspect_warehouse(data_dir)
    if kill_at is not None and first.killed:
        phase = HOOK_PHASES[kill_at.split(":")[0]]
    elif first.killed:
        phase = classify_kill_point(after_kill, batches_total)
    else:
        phase = "finished before the kill"
    running_before = {run for run, s in after_kill.run_states.items() if s == "running"}
    repair = run_ingest(command, env, data_dir)
    if repair.returncode != 0:
        failure = f"repair run failed: {repair.stderr[-1000:]}"
        return CrashOutcome(offset, first.killed, phase, 0, 0, [failure])
    state = inspect_warehouse(data_dir)
    lost = len(expected - state.hashes)
    duplicated = (state.articles - state.distinct_ids) + max(state.articles - len(state.hashes), 0)
    problems = check_recovered(data_dir, expected, running_before, repair.summary["run_id"])
    return CrashOutcome(offset, first.killed, phase, lost, duplicated, problems)


def kill_offsets(first_write: float, span: float, points: int) -> list[float]:
    """Kill offsets (seconds after the lock is taken): one in the set-up before anything is written, the
    rest spread evenly from just before the first Parquet write to the end of the lock-held span."""
    if points <= 1:
        return [first_write / 2]
    start = first_write * 0.9
    step = (span - start) / (points - 1)
    return [round(first_write / 2, 4)] + [round(start + k * step, 4) for k in range(points - 1)]


@dataclass
class SweepReport:
    """The figure a sweep prints."""

    outcomes: list[CrashOutcome]
    reference_seconds: float
    first_write: float
    lock_span: float

    def lines(self) -> list[str]:
        """Human-readable figure lines."""
        tried = len(self.outcomes)
        killed = sum(o.killed for o in self.outcomes)
        recovered = sum(o.recovered for o in self.outcomes)
        phases: dict[str, int] = {}
        for outcome in self.outcomes:
            key = outcome.phase
            if key.startswith("between batches"):
                key = key.split(" (")[0]
            phases[key] = phases.get(key, 0) + 1
        out = [
            f"kill points tried: {tried} (killed mid-run: {killed}), recovered: {recovered}, "
            f"lost rows: {sum(o.lost for o in self.outcomes)}, "
            f"duplicated rows: {sum(o.duplicated for o in self.outcomes)}",
            f"reference run {self.reference_seconds:.1f} s, writer lock held {self.lock_span:.2f} s, "
            f"first write {self.first_write:.2f} s after the lock",
        ]
        out += [f"  {count:3d} x {phase}" for phase, count in sorted(phases.items())]
        out += [f"  FAILED +{o.offset:.3f} s ({o.phase}): {o.problems}" for o in self.outcomes if o.problems]
        return out


def reference_run(
    landing: Path, work: Path, env: dict[str, str], batch_size: int = 50
) -> tuple[float, float, float]:
    """One uninterrupted run: (its wall time, seconds from lock to first write, seconds the lock was held)."""
    data_dir = work / "reference"
    result = run_ingest(ingest_command([landing], data_dir, batch_size), env, data_dir)
    if result.returncode != 0:
        raise RuntimeError(f"reference ingest failed: {result.stderr[-2000:]}")
    span = result.lock_released_after or (result.seconds - (result.lock_seen_after or 0.0))
    first_write = result.first_write_after if result.first_write_after is not None else span / 3
    shutil.rmtree(data_dir, ignore_errors=True)
    return result.seconds, first_write, span


def crash_sweep(
    landing: Path, work: Path, env: dict[str, str], points: int, batch_size: int = 50
) -> SweepReport:
    """Kill at ``points`` offsets spread over a reference run's lock-held time; each in a fresh data dir."""
    expected = content_hashes(landing)
    seconds, first_write, span = reference_run(landing, work, env, batch_size)
    batches_total = -(-len(expected) // batch_size)
    outcomes = []
    for number, offset in enumerate(kill_offsets(first_write, span, points)):
        data_dir = work / f"kill-{number:03d}"
        outcomes.append(
            crash_and_recover(landing, data_dir, env, offset, expected, batch_size, batches_total)
        )
        shutil.rmtree(data_dir, ignore_errors=True)
    return SweepReport(outcomes, seconds, first_write, span)


def hooked_sweep(landing: Path, work: Path, env: dict[str, str], batch_size: int = 50) -> list[CrashOutcome]:
    """One kill at each named kill point of an ingest (see :func:`hooked_kill_points`), each recovered."""
    expected = content_hashes(landing)
    batches_total = -(-len(expected) // batch_size)
    outcomes = []
    for number, kill_at in enumerate(hooked_kill_points(batches_total)):
        data_dir = work / f"hook-{number:03d}"
        outcomes.append(
            crash_and_recover(
                landing, data_dir, env, 0.0, expected, batch_size, batches_total, kill_at=kill_at
            )
        )
        shutil.rmtree(data_dir, ignore_errors=True)
    return outcomes


def maintenance_command(data_dir: Path) -> list[str]:
    """The maintenance flow as its own process, expiring every snapshot but the current one."""
    code = "import sys; from flows.maintenance import maintenance; maintenance(sys.argv[1], 0)"
    return [str(VENV_BIN / "python"), "-c", code, str(data_dir)]


def query_fingerprint(data_dir: Path) -> list[tuple[Any, ...]]:
    """What analysts would see: row counts and content digests of every table and a view."""
    return sql(
        data_dir,
        "SELECT 'articles', count(*), sum(hash(article_id, content_hash, title, story_id)) FROM articles "
        "UNION ALL SELECT 'entities', count(*), sum(hash(article_id, entity, mentions)) "
        "FROM article_entities "
        "UNION ALL SELECT 'files', count(*), sum(hash(uri, status, article_id)) FROM ingested_files "
        "UNION ALL SELECT 'per month', count(*), sum(hash(m, n)) FROM (SELECT date_trunc('month', "
        "published_at) AS m, count(*) AS n FROM articles GROUP BY m) "
        "ORDER BY 1",
    )


def maintenance_crash(
    landing: Path, data_dir: Path, env: dict[str, str], kill_at: str | None, offset: float = 0.0
) -> CrashOutcome:
    """Ingest in small batches, kill maintenance (at a named point, or ``offset`` seconds after it takes
    the lock), then check that queries answer as before, run maintenance again and check once more."""
    expected = content_hashes(landing)
    loaded = run_ingest(ingest_command([landing], data_dir, batch_size=20), env, data_dir)
    if loaded.returncode != 0:
        return CrashOutcome(offset, False, "failed", 0, 0, [f"ingest failed: {loaded.stderr[-1000:]}"])
    before = query_fingerprint(data_dir)
    files_before = len(inspect_warehouse(data_dir).registered)
    command = maintenance_command(data_dir)
    if kill_at is None:
        first = run_ingest(command, env, data_dir, kill_after_lock=offset)
        phase = "during maintenance (timed kill)" if first.killed else "finished before the kill"
    else:
        first = run_ingest(command, {**env, "NEWSFLOW_KILL_AT": kill_at}, data_dir)
        first.killed = first.returncode == -signal.SIGKILL
        phase = HOOK_PHASES[kill_at.split(":")[0]] if first.killed else "finished before the kill"
    problems: list[str] = []
    if not first.killed and first.returncode != 0:
        problems.append(f"maintenance failed: {first.stderr[-1000:]}")
    if query_fingerprint(data_dir) != before:
        problems.append("query results changed after the killed maintenance")
    if inspect_warehouse(data_dir).missing:
        problems.append("registered files missing after the killed maintenance")
    again = run_ingest(command, env, data_dir)
    if again.returncode != 0:
        problems.append(f"maintenance re-run failed: {again.stderr[-1000:]}")
    if query_fingerprint(data_dir) != before:
        problems.append("query results changed after maintenance")
    state = inspect_warehouse(data_dir)
    if len(state.registered) >= files_before:
        problems.append(f"maintenance left {len(state.registered)} files of {files_before}")
    repair = run_ingest(ingest_command([landing], data_dir, batch_size=20), env, data_dir)
    if repair.returncode != 0 or repair.summary["files_new"] != 0:
        problems.append(f"ingest after maintenance: rc {repair.returncode}, {repair.stderr[-500:]}")
    else:
        problems += check_recovered(data_dir, expected, set(), repair.summary["run_id"])
    lost = len(expected - state.hashes)
    duplicated = state.articles - state.distinct_ids
    return CrashOutcome(offset, first.killed, phase, lost, duplicated, problems)


def maintenance_sweep(landing: Path, work: Path, env: dict[str, str], timed: int = 3) -> list[CrashOutcome]:
    """Kill maintenance at each of its named kill points and at ``timed`` moments while it holds the lock."""
    outcomes = []
    points: list[tuple[str | None, float]] = [
        ("maintenance-merged", 0.0),
        ("maintenance-expired", 0.0),
        ("search-built", 0.0),
    ]
    points += [(None, 0.3 + 0.4 * k) for k in range(timed)]
    for number, (kill_at, offset) in enumerate(points):
        data_dir = work / f"maintenance-{number:03d}"
        outcomes.append(maintenance_crash(landing, data_dir, env, kill_at, offset))
        shutil.rmtree(data_dir, ignore_errors=True)
    return outcomes


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A temporary directory removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class ConcurrencyTrial:
    """Two or more ingests at once into one data dir while a reader reads the whole time."""

    writers_ok: int
    writers: int
    reads: int
    read_errors: list[str]
    decreases: int
    duplicate_reads: int
    final_articles: int
    final_distinct: int
    lost: int
    lock_waits: list[float]
    """Seconds from start until each writer held the lock: the later ones waited for the earlier."""

    @property
    def ok(self) -> bool:
        """Every writer completed, every read succeeded and saw a consistent snapshot, nothing lost."""
        return (
            self.writers_ok == self.writers
            and not self.read_errors
            and self.decreases == 0
            and self.duplicate_reads == 0
            and self.final_articles == self.final_distinct
            and self.lost == 0
        )


def overlapping_landings(landing: Path, dest: Path, writers: int) -> list[Path]:
    """``writers`` folders, each with a different but overlapping half of ``landing``'s files."""
    files = sorted(p for p in landing.rglob("*") if p.is_file())
    size = max(len(files) // 2, 1)
    step = max((len(files) - size) // max(writers - 1, 1), 1)
    folders = []
    for number in range(writers):
        folder = dest / f"feed{number}"
        folder.mkdir(parents=True, exist_ok=True)
        for path in files[number * step : number * step + size]:
            shutil.copy2(path, folder / path.name)
        folders.append(folder)
    return folders


def concurrency_trial(
    landing: Path, work: Path, env: dict[str, str], writers: int = 2, batch_size: int = 50
) -> ConcurrencyTrial:
    """Start ``writers`` ingests of overlapping folders at once, read in a loop until they end, check."""
    import threading

    folders = overlapping_landings(landing, work / "landing", writers)
    expected = set().union(*(content_hashes(folder) for folder in folders))
    data_dir = work / "data"
    stop = threading.Event()
    counts: list[int] = []
    errors: list[str] = []
    duplicate_reads = 0

    def read_loop() -> None:
        nonlocal duplicate_reads
        while not stop.is_set():
            try:
                if (data_dir / "catalog.sqlite").is_file():
                    ((total, distinct),) = sql(
                        data_dir, "SELECT count(*), count(DISTINCT article_id) FROM articles"
                    )
                    counts.append(int(total))
                    duplicate_reads += int(total != distinct)
            except Exception as error:
                text = str(error)
                errors.append(f"{type(error).__name__}: {text.splitlines()[0] if text else ''}")
            time.sleep(0.02)

    reader = threading.Thread(target=read_loop, daemon=True)
    reader.start()
    results: list[RunResult] = []
    threads = [
        threading.Thread(
            target=lambda folder=folder: results.append(
                run_ingest(ingest_command([folder], data_dir, batch_size), env, data_dir)
            )
        )
        for folder in folders
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    reader.join()
    state = inspect_warehouse(data_dir)
    decreases = sum(1 for a, b in itertools.pairwise(counts) if b < a)
    return ConcurrencyTrial(
        writers_ok=sum(r.returncode == 0 for r in results),
        writers=writers,
        reads=len(counts),
        read_errors=errors,
        decreases=decreases,
        duplicate_reads=duplicate_reads,
        final_articles=state.articles,
        final_distinct=state.distinct_ids,
        lost=len(expected - state.hashes) + len(state.hashes - expected),
        lock_waits=sorted(r.lock_seen_after or 0.0 for r in results),
    )
