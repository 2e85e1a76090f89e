"""Plugin overhead: a generated 500-check gate run with the plugin against plain pytest.

Both runs write the same Allure results and a JUnit file: the plain suite carries by
hand the labels and runbook links the plugin derives from the check id, and plain
pytest writes them with ``-p no:wimmelgate --alluredir ... --junitxml ...``. Each side
runs REPEAT times, interleaved, after one warm-up pair; the script prints the median
wall times and their ratio (goal <= 1.10).

    .venv/bin/python benchmarks/plugin_overhead.py [--checks 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_wimmelgate.catalogue.checks import CHECKS, check_by_id, runbook_link

INI = """[pytest]
markers =
    staging_gate: gate
    check(id): check id
"""


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


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"benchmark run failed ({done.returncode}): {' '.join(command)}\n{done.stdout[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wg-bench-") as tmp:
        folder = Path(tmp)
        write_suite(folder, args.checks)
        base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "staging_gate"]
        plain, plugin = [], []
        for run in range(args.repeat + 1):
            p = timed(
                [*base, "-p", "no:wimmelgate", "--alluredir", f"results-{run}", "--junitxml", f"junit-{run}.xml"],
                folder / "plain",
            )
            g = timed([*base, "--wg-env=env.yaml", f"--wg-release-dir=rel-{run}"], folder / "plugin")
            if run:  # the first pair warms caches (imports, file system)
                plain.append(p)
                plugin.append(g)
        plain_median, plugin_median = statistics.median(plain), statistics.median(plugin)
        print(f"checks per run:          {args.checks}")
        print(f"plain pytest + allure:   median {plain_median:.3f} s  ({', '.join(f'{x:.2f}' for x in plain)})")
        print(f"pytest-wimmelgate:       median {plugin_median:.3f} s  ({', '.join(f'{x:.2f}' for x in plugin)})")
        print(f"ratio (plugin / plain):  {plugin_median / plain_median:.3f}  (goal <= 1.10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
