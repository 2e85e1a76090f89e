"""A tiny supervisor: runs one command, records its pid, ends it when the owner is gone.

``python -m pytest_wimmelgate.sandbox.launcher.watchdog --owner PID --pid-file F --marker M
[--detach] -- cmd...``

The pid file names the command itself (and, on its third line, the watchdog), so pausing
or killing it from any process acts on the real server. SIGTERM to the watchdog is
forwarded to the command; the watchdog exits as soon as the command has, and removes the
pid file if it still names its command.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from pytest_wimmelgate.sandbox.launcher.processes import PidRecord, is_alive, read_pid_file, write_pid_file

POLL_S = 0.5
GRACE_S = 1.0


def _terminate(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGCONT)
    child.terminate()
    try:
        child.wait(GRACE_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(GRACE_S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wimmelgate-watchdog")
    parser.add_argument("--owner", type=int, required=True)
    parser.add_argument("--pid-file", type=Path, required=True)
    parser.add_argument("--marker", default="")
    parser.add_argument(
        "--detach", action="store_true", help="fork and let the parent return at once (not our caller's child)"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")

    if args.detach and os.fork() > 0:
        os._exit(0)
    stopping: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)

    child = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    write_pid_file(args.pid_file, PidRecord(child.pid, args.marker, watchdog=os.getpid()))
    try:
        while True:
            if stopping or not is_alive(args.owner):
                _terminate(child)
            try:
                return child.wait(POLL_S)
            except subprocess.TimeoutExpired:
                continue
    finally:
        _forget(args.pid_file, child.pid)


def _forget(pid_file: Path, pid: int) -> None:
    """Remove the pid file of an ended command, unless a restarted command has taken it over.

    Without this, a stop that ran before this watchdog wrote its file (an owner interrupted
    during start-up) would leave a file naming a process that no longer exists.
    """
    record = read_pid_file(pid_file)
    if record is not None and record.pid == pid:
        pid_file.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
