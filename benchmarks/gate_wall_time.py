"""Staging gate wall time, process start to exit, against its longest single check (issue 14 item 2).

Goals: with ``-n 0`` the gate takes <= 1.5x its longest check; ``-n 2`` is no slower than ``-n 0``.

Each scenario runs ``python -m pytest -m staging_gate`` as a fresh process REPEAT times, interleaved with the
other scenarios so that a machine loaded by other work slows them alike:

- the sandbox already running (as staging is always up: ``SANDBOX_*`` variables, like ``wimmelgate sandbox``),
  ``-n 0`` and ``-n 2``, with ``--wg-report off``;
- the same ``-n 0`` with the full Allure report (``--wg-report auto``; the project's pinned Allure 3 when
  installed): the difference is the report generation, a fixed cost of Node outside the gate's own work;
- the run starting (and stopping) its own sandbox, ``-n 0`` and ``-n 2``, report off.

For each: the median wall time, the longest check (``duration_s`` in the same runs' gate-summary.json), their
ratio, and where the time went (median of each run's own split, from a timing plugin loaded with ``-p``):
``start`` = process start to the first test (imports, options, environment, sandbox, collection, xdist
workers), ``checks`` = first test start to last test end, ``finish`` = verdict, artifacts, report, sandbox
stop and exit. Bytecode
is cached for the children as an installed package has it (``PYTHONPYCACHEPREFIX`` in a scratch folder,
``PYTHONDONTWRITEBYTECODE`` dropped); one warm-up run per scenario is not counted.

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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RATIO_GOAL = 1.5
PHASES_PLUGIN = """
import json, os, time
import pytest

_marks = {}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logstart(nodeid, location):
    _marks.setdefault("first_test", time.time())  # on the xdist controller too: workers forward it


@pytest.hookimpl(trylast=True)
def pytest_runtest_logfinish(nodeid, location):
    _marks["last_test"] = time.time()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):
        with open(os.environ["WG_BENCH_PHASES"], "w") as handle:
            json.dump(_marks, handle)
"""


@dataclass(frozen=True)
class Run:
    wall_s: float
    longest_s: float
    start_s: float
    checks_s: float
    finish_s: float


@dataclass(frozen=True)
class Scenario:
    name: str
    workers: str
    report: str
    own_sandbox: bool


SCENARIOS = (
    Scenario("running sandbox, -n 0", "0", "off", own_sandbox=False),
    Scenario("running sandbox, -n 2", "2", "off", own_sandbox=False),
    Scenario("running sandbox, -n 0, Allure report", "0", "auto", own_sandbox=False),
    Scenario("own sandbox, -n 0", "0", "off", own_sandbox=True),
    Scenario("own sandbox, -n 2", "2", "off", own_sandbox=True),
)


def run_gate(scenario: Scenario, release_dir: Path, environ: dict[str, str], scratch: Path) -> Run:
    """One staging gate process; fails the benchmark unless it is GO."""
    phases = scratch / "phases.json"
    phases.unlink(missing_ok=True)
    before = set(release_dir.rglob("gate-summary.json"))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "wg_bench_phases"]
    command += ["-m", "staging_gate", "-n", scenario.workers, f"--wg-release-dir={release_dir}"]
    command += [f"--wg-report={scenario.report}"]
    started = time.time()
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**environ, "WG_BENCH_PHASES": str(phases)},
        capture_output=True,
        text=True,
        check=False,
    )
    ended = time.time()
    new = set(release_dir.rglob("gate-summary.json")) - before
    if done.returncode != 0 or len(new) != 1:
        sys.exit(f"{scenario.name}: exit {done.returncode}, {len(new)} run folders\n{done.stdout[-3000:]}")
    summary = json.loads(new.pop().read_text())
    marks = json.loads(phases.read_text())
    return Run(
        wall_s=ended - started,
        longest_s=max(c["duration_s"] for c in summary["checks"]),
        start_s=marks["first_test"] - started,
        checks_s=marks["last_test"] - marks["first_test"],
        finish_s=ended - marks["last_test"],
    )


def children_environ(scratch: Path) -> dict[str, str]:
    """The outer environment for the children: cached bytecode, the timing plugin importable, no steering."""
    drop = ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "PYTEST_ADDOPTS")
    environ = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("SANDBOX_", "WIMMELGATE_"))}
    environ["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(scratch), environ.get("PYTHONPATH")) if p)
    return environ


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from pytest_wimmelgate.sandbox.launcher.gate_run import variables_of
    from pytest_wimmelgate.sandbox.launcher.history import seed
    from pytest_wimmelgate.sandbox.launcher.stack import Sandbox

    rows: dict[str, list[Run]] = {s.name: [] for s in SCENARIOS}
    with tempfile.TemporaryDirectory(prefix="wg-walltime-") as tmp:
        scratch = Path(tmp)
        (scratch / "wg_bench_phases.py").write_text(PHASES_PLUGIN)
        own = children_environ(scratch)
        box = Sandbox(scratch / "sandbox", prometheus="off", alertmanager="off")
        info = box.start()
        load_before = os.getloadavg()[0]
        try:
            seed(info)
            running = {**own, **variables_of(info)}
            for round_number in range(args.repeat + 1):  # round 0 warms bytecode and file caches
                for scenario in SCENARIOS:
                    environ = own if scenario.own_sandbox else running
                    measured = run_gate(scenario, scratch / "releases", environ, scratch)
                    if round_number:
                        rows[scenario.name].append(measured)
        finally:
            box.stop()
        load_after = os.getloadavg()[0]
    print(f"staging gate, median of {args.repeat} runs per scenario (interleaved; one warm-up round not counted)")
    print(f"load average (1 min) before/after: {load_before:.2f} / {load_after:.2f} on {os.cpu_count()} cores")
    medians: dict[str, float] = {}
    for name, runs in rows.items():
        wall = medians[name] = statistics.median(r.wall_s for r in runs)
        longest = statistics.median(r.longest_s for r in runs)
        split = "  ".join(
            f"{part} {statistics.median(getattr(r, part + '_s') for r in runs):.2f}"
            for part in ("start", "checks", "finish")
        )
        print(f"{name:38s} {wall:5.2f} s = {wall / longest:.2f}x longest check ({longest:.2f} s)   {split}")
    for where in ("running sandbox", "own sandbox"):
        serial, parallel = medians[f"{where}, -n 0"], medians[f"{where}, -n 2"]
        ratio = serial / statistics.median(r.longest_s for r in rows[f"{where}, -n 0"])
        print(
            f"goal, {where}: -n 0 {ratio:.2f}x longest check (<= {RATIO_GOAL}: "
            f"{'met' if ratio <= RATIO_GOAL else 'not met'}); -n 2 {parallel:.2f} s vs -n 0 {serial:.2f} s "
            f"({'met' if parallel <= serial else 'not met'}: -n 2 no slower)"
        )
    report = medians["running sandbox, -n 0, Allure report"] - medians["running sandbox, -n 0"]
    print(f"Allure report generation (Node, --wg-report auto minus off, -n 0): {report:+.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
