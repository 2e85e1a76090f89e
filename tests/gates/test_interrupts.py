"""Signals during SG-3 (the database blocked on purpose) never leave the database blocked.

The findings: SIGTERM (what CI sends on cancel or timeout) during SG-3 left the sandbox
database stopped (state T) and the run folder without a summary. Now SIGTERM, SIGHUP and
SIGINT, with and without xdist (the signal goes to the main process only, as CI sends it),
lift the fault, write a NO-GO summary naming the signal and exit 2; a SIGKILL of the gate
process leaves the fault to the guard, which lifts it within the fault's bound.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_wimmelgate.sandbox.launcher import control
from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from pytest_wimmelgate.sandbox.launcher.waits import mongo_client, mongo_pings
from tests.gates.conftest import ROOT

FAULT_BOUND_S = 5 + 15  # environments/sandbox.yaml: block_bound_s + recovery_bound_s


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return "gone"


class GateRun:
    """A staging gate run of SG-3 in its own session (signals reach only the pid we send them to)."""

    def __init__(self, tmp_path: Path, environ: dict[str, str], workers: int, *args: str) -> None:
        self.release_dir = tmp_path / "rel"
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
            str(self.release_dir),
            str(ROOT / "suites"),
            "-m",
            "staging_gate",
            "-k",
            "blocked_database",
            "-n",
            str(workers),
            *args,
        ]
        self.output = tmp_path / "gate-output.txt"
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(
                command, cwd=tmp_path, env=environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_until_database_blocked(self, sandbox: SandboxInfo, bound_s: float = 90) -> None:
        deadline = time.monotonic() + bound_s
        while time.monotonic() < deadline:
            pid = control.database_pid(sandbox)
            if pid is not None and _state(pid) == "T":
                return
            if self.process.poll() is not None:
                pytest.fail(f"the gate ended before SG-3 blocked the database:\n{self.text()[-3000:]}")
            time.sleep(0.01)
        pytest.fail(f"SG-3 did not block the database within {bound_s:g} s:\n{self.text()[-3000:]}")

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def summary(self) -> dict[str, Any] | None:
        found = sorted(self.release_dir.rglob("gate-summary.json"))
        return json.loads(found[-1].read_text()) if found else None

    def end(self) -> None:
        """Our own leftovers (xdist workers of a killed controller): end the run's process group."""
        with contextlib.suppress(OSError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def gate_environ(sandbox_env: dict[str, str]) -> dict[str, str]:
    environ = dict(os.environ)
    environ.pop("PYTEST_ADDOPTS", None)
    return environ


@pytest.fixture
def database_back(sandbox: SandboxInfo) -> Iterator[None]:
    """Whatever a test did, the shared sandbox's database runs again for the next test."""
    yield
    control.resume_database(sandbox)


def _database_answers(sandbox: SandboxInfo, bound_s: float) -> float | None:
    """Seconds until the database answers a ping (None: not within ``bound_s``)."""
    started = time.monotonic()
    client = mongo_client(sandbox.mongodb_uri)
    try:
        while time.monotonic() - started < bound_s:
            pid = control.database_pid(sandbox)
            if pid is not None and _state(pid) != "T" and mongo_pings(client):
                return time.monotonic() - started
            time.sleep(0.1)
    finally:
        client.close()
    return None


def _readiness_200(sandbox: SandboxInfo, bound_s: float) -> bool:
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{sandbox.base_url}/readiness", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("workers", [0, 2], ids=["n0", "n2"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_mid_sg3_lifts_the_fault_and_writes_a_no_go_summary(
    tmp_path: Path,
    sandbox: SandboxInfo,
    gate_environ: dict[str, str],
    database_back: None,
    sig: signal.Signals,
    workers: int,
) -> None:
    run = GateRun(tmp_path, gate_environ, workers)
    try:
        run.wait_until_database_blocked(sandbox)
        os.kill(run.process.pid, sig)
        status = run.process.wait(90)
    finally:
        run.end()
    pid = control.database_pid(sandbox)
    assert pid is not None and _state(pid) != "T", f"the database was left stopped:\n{run.text()[-3000:]}"
    assert _database_answers(sandbox, 10) is not None, "the database does not answer a ping"
    assert _readiness_200(sandbox, 15), "readiness did not return to 200"
    assert status == 2, run.text()[-3000:]
    summary = run.summary()
    assert summary is not None, f"no gate-summary.json:\n{run.text()[-3000:]}"
    assert summary["verdict"] == "NO-GO"
    assert f"interrupted: interrupted by {sig.name}" in summary["reasons"], summary["reasons"]
    intervals = summary["fault_intervals"]
    assert [(i["check"], i["target"]) for i in intervals] == [("SG-3", "database")]
    assert intervals[0]["ended_at"] is not None, "the journal did not see the fault lifted"
    assert "Traceback" not in run.text()


@pytest.mark.parametrize("workers", [0, 2], ids=["n0", "n2"])
def test_sigkill_mid_sg3_leaves_the_database_answering_within_the_fault_bound(
    tmp_path: Path, sandbox: SandboxInfo, gate_environ: dict[str, str], database_back: None, workers: int
) -> None:
    run = GateRun(tmp_path, gate_environ, workers)
    try:
        run.wait_until_database_blocked(sandbox)
        os.kill(run.process.pid, signal.SIGKILL)
        run.process.wait(10)
        answered_after = _database_answers(sandbox, FAULT_BOUND_S)
    finally:
        run.end()
    assert answered_after is not None, f"the database stayed blocked beyond {FAULT_BOUND_S} s after SIGKILL"
    assert _readiness_200(sandbox, 15)
