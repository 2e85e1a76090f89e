"""Staging gate wall time against its longest single check, with -n 0 and -n 2.

The benchmark starts one sandbox (as staging is always up) and runs the staging gate
against it as a fresh process, REPEAT times each with ``-n 0`` and ``-n 2``. It prints
the median wall time from process start to exit, the longest check's duration (from
gate-summary.json of the same runs), and both ratios. Goal: ``-n 2`` gate <= 2x its
longest check. A last line reports a run that starts its own sandbox, for scale.

    .venv/bin/python benchmarks/gate_wall_time.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_gate(workers: str, release_dir: Path, environ: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, longest check seconds, verdict) of one staging gate process."""
    before = set(release_dir.rglob("gate-summary.json"))
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "staging_gate",
            "-n",
            workers,
            f"--wg-release-dir={release_dir}",
            "--wg-report=off",
        ],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    [summary_path] = set(release_dir.rglob("gate-summary.json")) - before
    summary = json.loads(summary_path.read_text())
    if done.returncode != 0:
        sys.exit(f"staging gate was {summary['verdict']} (exit {done.returncode}):\n{done.stdout[-2000:]}")
    longest = max(c["duration_s"] for c in summary["checks"])
    return wall, longest, summary["verdict"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from pytest_wimmelgate.sandbox.launcher.gate_run import variables_of
    from pytest_wimmelgate.sandbox.launcher.history import seed
    from pytest_wimmelgate.sandbox.launcher.stack import Sandbox

    with tempfile.TemporaryDirectory(prefix="wg-walltime-") as tmp:
        box = Sandbox(Path(tmp) / "sandbox", prometheus="off", alertmanager="off")
        info = box.start()
        try:
            seed(info)
            environ = {**os.environ, **variables_of(info)}
            release = Path(tmp) / "releases"
            results: dict[str, list[tuple[float, float, str]]] = {"0": [], "2": []}
            for _ in range(args.repeat):
                for workers in results:
                    results[workers].append(run_gate(workers, release, environ))
        finally:
            box.stop()
        own = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
        own["WIMMELGATE_SANDBOX_PROMETHEUS"] = "off"
        with_start = run_gate("2", Path(tmp) / "own", own)
    longest = statistics.median(r[1] for rows in results.values() for r in rows)
    print(f"longest single check (median):   {longest:.2f} s")
    for workers, rows in results.items():
        wall = statistics.median(r[0] for r in rows)
        print(
            f"staging gate -n {workers} (median of {len(rows)}): {wall:.2f} s  "
            f"ratio to longest check {wall / longest:.2f}  verdicts {sorted({r[2] for r in rows})}"
        )
    print(
        f"goal: -n 2 ratio <= 2.0; -n 0 / -n 2 speed-up "
        f"{statistics.median(r[0] for r in results['0']) / statistics.median(r[0] for r in results['2']):.2f}"
    )
    print(f"for scale, -n 2 starting its own sandbox (no Prometheus): {with_start[0]:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
