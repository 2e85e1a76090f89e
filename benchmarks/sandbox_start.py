"""Sandbox start and stop times from the launcher API, against the goals of issue 14.

Each run starts the sandbox of ``environments/sandbox.yaml`` as a gate run does
(`gate_run.sandbox_for` with the sections the gate's checks read, then `gate_run.warm_up`)
and stops it, for three gates:

- ``staging_gate``: no monitoring (goal: start <= 1.5 s);
- ``alerting``: Prometheus and Alertmanager, ready once the rules are loaded (<= 3 s);
- ``post_deploy``: Prometheus, ready once the metric gates can measure (<= 3 s).

It prints the median start per gate (and, where the gate waits for metric data, when the
processes were ready), the median stop over all runs (goal <= 0.5 s), the processes
still alive after stop (goal: 0), and the CPU seconds one start+stop costs (all
processes): on a loaded machine the wall times grow, the CPU cost does not. Start =
construction to ready, history seeded; stop = SIGTERM to the last process and watchdog
gone.

    .venv/bin/python benchmarks/sandbox_start.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GATES = (("staging_gate", 1.5), ("alerting", 3.0), ("post_deploy", 3.0))
STOP_GOAL_S = 0.5
#: variables that would change the sandbox.yaml sandbox (an outer shell's settings)
OUTER = ("WIMMELGATE_SANDBOX_PROMETHEUS", "WIMMELGATE_SANDBOX_ALERTMANAGER", "WIMMELGATE_SANDBOX_FAULTS")


def cpu_seconds() -> float:
    """CPU time of this process and of the children it has waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def once(gate: str) -> tuple[float, float, float, int, bool, float]:
    """(start s, processes ready s, stop s, alive after stop, monitoring ready, cpu s) of one sandbox."""
    from pytest_wimmelgate.config.environment import load
    from pytest_wimmelgate.core import selection
    from pytest_wimmelgate.sandbox.launcher import gate_run
    from pytest_wimmelgate.sandbox.launcher.processes import is_alive, read_pid_file

    env = load(str(ROOT / "environments" / "sandbox.yaml"), rootdir=ROOT, origin="benchmark")
    needed = selection.sections_used(selection.selected_checks(gate))
    workdir = Path(tempfile.mkdtemp(prefix="wg-bench-sandbox-"))
    try:
        cpu = cpu_seconds()
        started = time.perf_counter()
        sandbox = gate_run.sandbox_for(env, workdir, needed)
        info = sandbox.start()
        processes_s = time.perf_counter() - started
        ready = True
        if "metrics" in needed:
            ready = sandbox.wait_for_metric_data()
        start_s = time.perf_counter() - started
        records = [read_pid_file(path) for path in (workdir / "pids").glob("*.pid")]
        pids = [r.pid for r in records if r] + [r.watchdog for r in records if r and r.watchdog]
        monitoring = info.prometheus_url is not None or info.alertmanager_url is not None
        stopping = time.perf_counter()
        sandbox.stop()
        stop_s = time.perf_counter() - stopping
        alive = sum(1 for pid in pids if is_alive(pid))
        ok = ready and (monitoring == (gate != "staging_gate"))
        return start_s, processes_s, stop_s, alive, ok, cpu_seconds() - cpu
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name in OUTER:
        os.environ.pop(name, None)
    if shutil.which("prometheus") is None or shutil.which("prometheus-alertmanager") is None:
        print("note: prometheus/prometheus-alertmanager not on PATH: the monitoring rows measure no monitoring")
    starts: dict[str, list[float]] = {gate: [] for gate, _ in GATES}
    processes: dict[str, list[float]] = {gate: [] for gate, _ in GATES}
    cpu: dict[str, list[float]] = {gate: [] for gate, _ in GATES}
    stops: list[float] = []
    orphans = 0
    failures: list[str] = []
    once("staging_gate")  # warm-up: imports and file caches
    for _ in range(args.repeat):
        for gate, _goal in GATES:  # interleaved, so load changes hit every gate alike
            start_s, processes_s, stop_s, alive, ok, cpu_s = once(gate)
            starts[gate].append(start_s)
            processes[gate].append(processes_s)
            cpu[gate].append(cpu_s)
            stops.append(stop_s)
            orphans += alive
            if not ok:
                failures.append(gate)
    print(
        f"sandbox start/stop, median of {args.repeat} runs each (load {os.getloadavg()[0]:.1f}, {os.cpu_count()} cpus)"
    )
    for gate, goal in GATES:
        median = statistics.median(starts[gate])
        verdict = "meets" if median <= goal else "misses"
        ready = statistics.median(processes[gate])
        waited = f"; processes ready at {ready:.2f} s" if median - ready > 0.05 else ""
        fastest = min(starts[gate])
        cost = statistics.median(cpu[gate])
        print(
            f"  start {gate:<13} {median:5.2f} s  (goal <= {goal:g} s: {verdict}; min {fastest:.2f} s{waited};"
            f" {cost:.2f} cpu-s per start+stop)"
        )
    stop = statistics.median(stops)
    verdict = "meets" if stop <= STOP_GOAL_S else "misses"
    print(f"  stop                {stop:5.2f} s  (goal <= {STOP_GOAL_S:g} s: {verdict}; max {max(stops):.2f} s)")
    print(f"  alive after stop    {orphans:5d}    (goal 0)")
    if failures:
        print(f"  not ready (monitoring missing or no metric data): {', '.join(failures)}")
    return 1 if orphans or failures else 0


if __name__ == "__main__":
    sys.exit(main())
