"""Stopping is bounded and complete: SIGTERM, a short grace, SIGKILL; watchdogs end too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pytest_wimmelgate.sandbox.launcher.processes import PidRecord, is_alive, spawn, wait_for_pid_file
from pytest_wimmelgate.sandbox.launcher.stack import Sandbox
from tests.sandbox.conftest import pids_in, watchdogs_in

STUBBORN = "import signal, sys, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(120)\n"


def _spawn(workdir: Path, name: str) -> tuple[subprocess.Popen[bytes], PidRecord]:
    pid_file = workdir / "pids" / f"{name}.pid"
    watchdog = spawn(
        [sys.executable, "-c", STUBBORN, f"marker-{name}"],
        pid_file=pid_file,
        marker=f"marker-{name}",
        log_file=workdir / "logs" / f"{name}.log",
        owner_pid=os.getpid(),
    )
    return watchdog, wait_for_pid_file(pid_file, watchdog, 10)


def test_stop_kills_what_ignores_sigterm_or_is_paused_and_ends_their_watchdogs(tmp_path: Path) -> None:
    """A process ignoring SIGTERM gets SIGKILL after the grace; a SIGSTOPped one is
    continued first. Each watchdog exits with its child; no pid file stays behind."""
    stubborn_watchdog, stubborn = _spawn(tmp_path, "stubborn")
    paused_watchdog, paused = _spawn(tmp_path, "paused")
    os.kill(paused.pid, signal.SIGSTOP)
    try:
        Sandbox(tmp_path).stop()
        for pid in (stubborn.pid, paused.pid, stubborn.watchdog, paused.watchdog):
            assert pid is not None and not is_alive(pid), pid
        assert not list((tmp_path / "pids").glob("*.pid"))
    finally:
        for watchdog in (stubborn_watchdog, paused_watchdog):
            if watchdog.poll() is None:
                watchdog.kill()
            watchdog.wait(5)


def test_ctrl_c_during_the_parallel_start_leaves_no_process(tmp_path: Path) -> None:
    """SIGINT while the parts are still starting: start() stops what it spawned (also
    children whose pid file appears only then) and re-raises; every pid seen is gone."""
    code = (
        "import sys, pathlib\n"
        "from pytest_wimmelgate.sandbox import Sandbox\n"
        "try:\n"
        "    Sandbox(pathlib.Path(sys.argv[1]), prometheus='auto', alertmanager='auto', traffic_rps=0).start()\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(130)\n"
        "sys.exit(0)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)])
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(seen) < 4 and owner.poll() is None:
            seen.update(pids_in(tmp_path) + watchdogs_in(tmp_path))
            time.sleep(0.005)
        assert seen, "no pid file appeared"
        owner.send_signal(signal.SIGINT)
        assert owner.wait(30) == 130, "the interrupt reached start()"
        for pid in seen:
            assert not is_alive(pid), pid
        assert not list((tmp_path / "pids").glob("*.pid"))
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        Sandbox(tmp_path).stop()
