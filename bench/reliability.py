"""Reliability figures: crash sweep (kill points), concurrent ingests with a reader, the hostile corpus.

Run as ``.venv/bin/python -m bench.reliability [--kill-points 40] [--trials 20] [--only crash,concurrency]``:
40 timed kill points plus 11 named ones in ingest and 6 in maintenance by default.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench.shared_corpus import default_corpus
from tests.reliability.crash_harness import (
    build_landing,
    concurrency_trial,
    crash_sweep,
    hooked_sweep,
    ingest_env,
    maintenance_sweep,
    scratch_dir,
    shared_prefect_server,
)


def crash_figures(kill_points: int, env: dict[str, str]) -> bool:
    """Run the timed kill sweep, the named kill points and the maintenance kills; print their figures."""
    with scratch_dir("newsflow-rel-crash-") as work:
        landing = build_landing(default_corpus(), work / "landing" / "wire")
        report = crash_sweep(landing, work, env, kill_points)
        hooked = hooked_sweep(landing, work, env)
        small = build_landing(default_corpus(), work / "landing-small" / "wire", reuters=100, bbc=40)
        maintenance = maintenance_sweep(small, work, env)
    outcomes = [*report.outcomes, *hooked, *maintenance]
    print("== crash safety ==")
    print(
        f"kill points tried: {len(outcomes)} (timed: {len(report.outcomes)}, named: {len(hooked)}, "
        f"maintenance: {len(maintenance)}); killed mid-run: {sum(o.killed for o in outcomes)}, "
        f"recovered: {sum(o.recovered for o in outcomes)}, lost rows: {sum(o.lost for o in outcomes)}, "
        f"duplicated rows: {sum(o.duplicated for o in outcomes)}"
    )
    print("timed sweep: " + "\n".join(report.lines()[1:]))
    phases: dict[str, int] = {}
    for outcome in [*hooked, *maintenance]:
        phases[outcome.phase] = phases.get(outcome.phase, 0) + 1
    for phase, count in sorted(phases.items()):
        print(f"  {count:3d} x {phase}")
    for outcome in [*hooked, *maintenance]:
        if outcome.problems:
            print(f"  FAILED ({outcome.phase}): {outcome.problems}")
    print(flush=True)
    return all(o.recovered and not o.lost and not o.duplicated for o in outcomes)


def concurrency_figures(trials: int, env: dict[str, str]) -> bool:
    """Run concurrent-ingest trials and print their figure; True when every trial passed."""
    passed = reads = errors = 0
    with scratch_dir("newsflow-rel-conc-") as work:
        landing = build_landing(default_corpus(), work / "landing" / "wire", reuters=150, bbc=50)
        for trial in range(trials):
            outcome = concurrency_trial(landing, work / f"trial-{trial:02d}", env, writers=2 + trial % 2)
            passed += outcome.ok
            reads += outcome.reads
            errors += len(outcome.read_errors)
            if not outcome.ok:
                print(f"  trial {trial} FAILED: {outcome}", flush=True)
    print("== concurrency ==")
    print(f"trials: {trials}, passed: {passed}, reads: {reads}, read errors: {errors}", flush=True)
    return passed == trials


def hostile_figures(env: dict[str, str]) -> bool:
    """Ingest the hostile corpus once and print the final status of every input."""
    from tests.reliability.hostile import run_hostile_corpus

    with scratch_dir("newsflow-rel-hostile-") as work:
        summary = run_hostile_corpus(work, env)
    print("== hostile inputs ==")
    for line in summary.lines():
        print(line, flush=True)
    return summary.ok


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sets and print their figures; exit 1 when any set failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--kill-points", type=int, default=40, help="timed kill points (named ones come on top)"
    )
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--only", default="crash,concurrency,hostile")
    args = parser.parse_args(argv)
    chosen = set(args.only.split(","))
    corpus = default_corpus()
    if not corpus.is_dir():
        print(f"shared corpus not found at {corpus}", file=sys.stderr)
        return 2
    started = time.monotonic()
    env = ingest_env(shared_prefect_server())
    ok = True
    if "crash" in chosen:
        ok &= crash_figures(args.kill_points, env)
    if "concurrency" in chosen:
        ok &= concurrency_figures(args.trials, env)
    if "hostile" in chosen:
        ok &= hostile_figures(env)
    print(f"total {time.monotonic() - started:.0f} s; {'all passed' if ok else 'FAILURES above'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
