"""Plugin overhead: a generated 500-check gate run with the plugin against plain pytest (issue 14 item 3).

Both sides write the same Allure results and a JUnit file: the plain suite carries by hand the labels and
runbook links the plugin derives from the check id, and plain pytest writes them with ``-p no:wimmelgate
--alluredir ... --junitxml ...``. The plugin side also writes what only it writes (gate summary, decision page,
release note, catalogue coverage, manifest) and runs its leak scan and redaction: the environment holds a
secret-named variable, so redaction and the leak scan do their real work rather than their no-secret shortcut.

Fair by construction:

- every output lands outside the suite folders (pytest would otherwise walk the earlier runs' files while
  collecting, a cost that grows with each run);
- ``--wg-report off`` on the plugin side: the plain side makes no HTML report either (the Allure report's own
  cost is measured by ``gate_wall_time.py``); one extra row shows ``--wg-report auto`` where no Allure CLI is
  installed (the decision page then says why, which asks ``node --version``);
- bytecode as an installed package has it: both sides run with ``PYTHONPYCACHEPREFIX`` (a scratch folder) and
  without ``PYTHONDONTWRITEBYTECODE``, after one warm-up round; ``--compile-each-run`` measures the opposite
  (every process compiles the plugin's modules from source, as under ``PYTHONDONTWRITEBYTECODE=1`` with an
  editable install).

Runs are interleaved (plain, plugin, plugin-auto, ...) so a machine loaded by other work slows both sides
alike; the script prints the load average, the median wall time of each side, the median of the per-round
ratios, and the CPU seconds per run (user + system of the child, less sensitive to load). Goal: <= 1.05.

    .venv/bin/python benchmarks/plugin_overhead.py [--checks 500] [--repeat 7] [--compile-each-run]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_wimmelgate.catalogue.checks import CHECKS, check_by_id, runbook_link

GOAL = 1.05
INI = """[pytest]
markers =
    staging_gate: gate
    check(id): check id
"""
#: a secret-named variable both sides see; the plugin redacts its forms everywhere and scans for them
SECRET = ("WG_BENCH_API_TOKEN", "bench-7f3a9c2e5d1b4a86-secret")


def write_suite(folder: Path, count: int) -> None:
    """``plugin/`` tests name their check id; ``plain/`` tests carry the same labels by hand."""
    ids = [c.id for c in CHECKS if "staging_gate" in c.gates]
    plugin_lines, plain_lines = ["import pytest", ""], ["import allure, pytest", ""]
    for number in range(count):
        check = check_by_id(ids[number % len(ids)])
        assert check is not None
        body = [f"def test_check_{number:04d}():", f"    assert {number} >= 0", ""]
        plugin_lines += ["@pytest.mark.staging_gate", f'@pytest.mark.check("{check.id}")', *body]
        plain_lines += [
            "@pytest.mark.staging_gate",
            f"@allure.epic(*{list(check.gates)!r})",
            f"@allure.feature({check.area!r})",
            f"@allure.tag({check.id!r})",
            f"@allure.label('check', {check.id!r})",
            "@allure.severity(allure.severity_level.CRITICAL)",
            *[f"@allure.link({runbook_link('docs/runbook.md', s)!r}, name='Runbook §{s}')" for s in check.sections],
            *body,
        ]
    for name, lines in (("plugin", plugin_lines), ("plain", plain_lines)):
        (folder / name).mkdir()
        (folder / name / "test_generated.py").write_text("\n".join(lines))
        (folder / name / "pytest.ini").write_text(INI)
    (folder / "plugin" / "env.yaml").write_text("name: bench\nprotected: false\nrunbook_url: docs/runbook.md\n")


def environment(scratch: Path, *, compile_each_run: bool) -> dict[str, str]:
    """The children's environment: bytecode cached in ``scratch`` (or never), the benchmark's secret set."""
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    if compile_each_run:
        environ["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        environ["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    environ[SECRET[0]] = SECRET[1]
    return environ


def timed(command: list[str], cwd: Path, environ: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one pytest process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=environ, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"benchmark run failed ({done.returncode}): {' '.join(command)}\n{done.stdout[-2000:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--compile-each-run", action="store_true", help="no bytecode cache (PYTHONDONTWRITEBYTECODE)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wg-bench-") as tmp:
        folder = Path(tmp)
        write_suite(folder, args.checks)
        out = folder / "out"  # outside both suite folders: collection never walks earlier outputs
        environ = environment(folder, compile_each_run=args.compile_each_run)
        base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "staging_gate"]
        sides: dict[str, tuple[list[str], str]] = {
            "plain": (
                ["-p", "no:wimmelgate", "--alluredir", "{out}/results", "--junitxml", "{out}/junit.xml"],
                "plain",
            ),
            "plugin": (["--wg-env=env.yaml", "--wg-release-dir={out}/rel", "--wg-report=off"], "plugin"),
            "plugin, --wg-report auto": (["--wg-env=env.yaml", "--wg-release-dir={out}/rel"], "plugin"),
        }
        rows: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
        load_before = os.getloadavg()[0]
        for run in range(args.repeat + 1):
            for name, (extra, cwd) in sides.items():
                target = out / f"{run}-{len(rows[name])}-{name.split(',')[0]}"
                command = [*base, *(word.replace("{out}", str(target)) for word in extra)]
                measured = timed(command, folder / cwd, environ)
                if run:  # the first round warms caches (bytecode, file system)
                    rows[name].append(measured)
        load_after = os.getloadavg()[0]
        plain = rows["plain"]
        print(f"checks per run: {args.checks}; rounds: {args.repeat} (+1 warm-up), interleaved")
        print(f"bytecode: {'compiled from source in every process' if args.compile_each_run else 'cached'}")
        print(f"load average (1 min) before/after: {load_before:.2f} / {load_after:.2f} on {os.cpu_count()} cores")
        for name, runs in rows.items():
            wall = statistics.median(m[0] for m in runs)
            cpu = statistics.median(m[1] for m in runs)
            line = f"{name:26s} wall median {wall:.3f} s  cpu median {cpu:.3f} s"
            if name != "plain":
                pair = statistics.median(m[0] / p[0] for m, p in zip(runs, plain, strict=True))
                cpu_ratio = cpu / statistics.median(p[1] for p in plain)
                line += f"  ratio: wall (median of rounds) {pair:.3f}, cpu {cpu_ratio:.3f}"
            print(line)
        print(f"goal: plugin / plain <= {GOAL:.2f} (the 'plugin' row; auto adds the missing-Allure note)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
