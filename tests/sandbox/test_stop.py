"""Stopping is bounded and complete: SIGTERM, a short grace, SIGKILL; watchdogs end too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from pytest_wimmelgate.sandbox.launcher.processes import PidRecord, is_alive, spawn, wait_for_pid_file
from pytest_wimmelgate.sandbox.launcher.stack import Sandbox

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
