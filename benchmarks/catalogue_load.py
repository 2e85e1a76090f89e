"""What reading the catalogue costs: it happens in ``pytest_configure`` of every pytest run of a project.

Prints medians over REPEAT rounds, measured in this one process (interleaved, so load on a
shared machine hits each alike), and the ratios between them:

- the built-in ``wimmelwelt.yaml`` read and validated as a run reads it (libyaml, duplicate keys refused);
- the same through the plugin's pure-Python strict loader (`config.yamlfile`), for comparison;
- a project's file (the ``wimmelgate init`` template's ``wimmelgate-catalogue.yaml``) laid over it;
- the import of ``yaml`` itself, in a fresh interpreter (wall time less that of an empty interpreter).

    .venv/bin/python benchmarks/catalogue_load.py [--repeat 50]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    from pytest_wimmelgate.catalogue import checks, loading
    from pytest_wimmelgate.config import yamlfile

    files = resources.files("pytest_wimmelgate")
    text = files.joinpath(loading.BUILTIN_FILE).read_text(encoding="utf-8")
    team_text = files.joinpath("init/template/wimmelgate-catalogue.yaml").read_text(encoding="utf-8")
    base = checks.builtin()
    with tempfile.TemporaryDirectory() as scratch:
        team = Path(scratch) / "wimmelgate-catalogue.yaml"
        team.write_text(team_text, encoding="utf-8")
        rounds: dict[str, Callable[[], Any]] = {
            "built-in, libyaml (as a run reads it)": loading.load_builtin,
            "built-in, pure-Python strict loader": lambda: loading.parse(yamlfile.load(text), "x", base=None),
            "project file over the built-in": lambda: loading.load_file(team, "team", base),
        }
        samples: dict[str, list[float]] = {name: [] for name in rounds}
        for _ in range(args.repeat):
            for name, run in rounds.items():
                started = time.perf_counter()
                run()
                samples[name].append(time.perf_counter() - started)
    medians = {name: median_ms(values) for name, values in samples.items()}
    for name, value in medians.items():
        print(f"{name:<40} {value:7.2f} ms (median of {args.repeat})")
    names = list(medians)
    print(f"{'pure-Python / libyaml':<40} {medians[names[1]] / medians[names[0]]:7.1f} x")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import yaml"], check=True)
    bare = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    nothing = time.perf_counter() - started
    print(f"{'import yaml (fresh interpreter)':<40} {(bare - nothing) * 1000:7.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
