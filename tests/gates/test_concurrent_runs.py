"""Two gate runs at the same time against one backend are both GO.

The finding: two concurrent staging gates against one sandbox gave false NO-GOs in 2 of 3
rounds (SG-2 503, SG-4 503, "SG-3 answered 503 before the database was blocked"): the lock
that keeps ordinary checks away from a destructive one was per run folder. Now it is keyed
by the target and machine-wide, so run B's checks wait while run A's SG-3 has the database
blocked, and the other way round.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.gates.conftest import ROOT


def _start(folder: Path, environ: dict[str, str], workers: int) -> subprocess.Popen[bytes]:
    folder.mkdir()
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(ROOT),
        "-c",
        str(ROOT / "pyproject.toml"),
        "--wg-release-dir",
        str(folder / "rel"),  # different release folders: only the target is shared
        str(ROOT / "suites"),
        "-m",
        "staging_gate",
        "-n",
        str(workers),
    ]
    out = open(folder / "output.txt", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(command, cwd=folder, env=environ, stdout=out, stderr=subprocess.STDOUT)


def _summary(folder: Path) -> dict[str, Any]:
    (found,) = (folder / "rel").rglob("gate-summary.json")
    return dict(json.loads(found.read_text()))


@pytest.mark.parametrize("workers", [(0, 0), (2, 0)], ids=["n0+n0", "n2+n0"])
def test_two_concurrent_staging_gates_against_one_sandbox_are_both_go(
    tmp_path: Path, sandbox_env: dict[str, str], workers: tuple[int, int]
) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    runs = {name: (tmp_path / name, _start(tmp_path / name, environ, n)) for name, n in zip("AB", workers, strict=True)}
    statuses = {name: process.wait(600) for name, (_, process) in runs.items()}
    for name, (folder, _) in runs.items():
        summary = _summary(folder)
        output = (folder / "output.txt").read_text(errors="replace")
        assert statuses[name] == 0 and summary["verdict"] == "GO", f"run {name}: {summary['reasons']}\n{output[-3000:]}"
    faults = [i for name in runs for i in _summary(runs[name][0])["fault_intervals"]]
    assert len(faults) == 2, faults
    first, second = sorted(faults, key=lambda i: i["started_at"])
    assert first["ended_at"] <= second["started_at"], "the two runs had their faults on the database at once"
