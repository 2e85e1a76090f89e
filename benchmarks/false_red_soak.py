"""False reds: the staging gate N times on a healthy, already running sandbox; count the NO-GOs.

A gate that goes red on a healthy target by its own doing (its own fault counted against it,
a check racing another, a timeout on a loaded machine) teaches people to re-run until green.
This runs ``pytest -m staging_gate`` ``--runs`` times, one process after the other, against
one sandbox and prints each run's verdict and duration, the reasons of every NO-GO, and the
count. Goal: 0 of 50.

The sandbox is the one the ``SANDBOX_*`` variables point at (``source <workdir>/gates.env``
after ``wimmelgate sandbox``); without them the benchmark starts one for all runs and stops
it at the end, as staging is always up.

    .venv/bin/python benchmarks/false_red_soak.py --runs 50 [--workers 2] [--gates staging_gate]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_gate(gates: str, workers: int, release_dir: Path, environ: dict[str, str]) -> tuple[int, dict, float]:
    """(exit status, gate-summary.json, wall seconds) of one gate process."""
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
            gates,
            "-n",
            str(workers),
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
    written = sorted(set(release_dir.rglob("gate-summary.json")) - before)
    if not written:
        return done.returncode, {"verdict": "NO SUMMARY", "reasons": [done.stdout[-500:] + done.stderr[-500:]]}, wall
    return done.returncode, json.loads(written[-1].read_text()), wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--workers", type=int, default=0, help="pytest-xdist workers per run (-n)")
    parser.add_argument("--gates", default="staging_gate", help="marker expression (default staging_gate)")
    args = parser.parse_args()

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wg-soak-")))
        environ = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
        if environ.get("SANDBOX_BASE_URL"):
            where = f"the running sandbox at {environ['SANDBOX_BASE_URL']}"
        else:
            from pytest_wimmelgate.sandbox.launcher.gate_run import variables_of
            from pytest_wimmelgate.sandbox.launcher.history import seed
            from pytest_wimmelgate.sandbox.launcher.stack import Sandbox

            box = Sandbox(tmp / "sandbox", prometheus="off", alertmanager="off")
            info = box.start()
            stack.callback(box.stop)
            seed(info)
            environ.update(variables_of(info))
            where = f"a sandbox started for the soak at {info.base_url}"
        print(f"false-red soak: {args.runs} x pytest -m {args.gates!r} -n {args.workers} against {where}")
        release = tmp / "releases"
        red: list[tuple[int, list[str]]] = []
        walls: list[float] = []
        for number in range(1, args.runs + 1):
            status, summary, wall = run_gate(args.gates, args.workers, release, environ)
            walls.append(wall)
            verdict = summary.get("verdict")
            print(f"  run {number:>3}/{args.runs}  {verdict:<6} exit {status}  {wall:6.1f} s", flush=True)
            if verdict != "GO" or status != 0:
                reasons = [str(r) for r in summary.get("reasons", [])]
                red.append((number, reasons))
                for reason in reasons:
                    print(f"             {reason}", flush=True)
        causes = collections.Counter(r.split(":")[0] for _, reasons in red for r in reasons)
        print()
        print(f"NO-GO on a healthy sandbox: {len(red)} of {args.runs} runs (goal: 0 of 50)")
        if causes:
            print("red checks: " + ", ".join(f"{check} x{count}" for check, count in causes.most_common()))
        walls.sort()
        print(f"run wall time: median {walls[len(walls) // 2]:.1f} s, max {walls[-1]:.1f} s")
    return 0 if not red else 1


if __name__ == "__main__":
    sys.exit(main())
