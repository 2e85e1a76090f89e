"""Child processes of the sandbox: free ports, spawning, pid files, stopping by pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

WATCHDOG_MODULE = "pytest_wimmelgate.sandbox.launcher.watchdog"
# a caller's AWS profile would make boto3 in the children look for it and fail
DROPPED_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_SESSION_TOKEN",
)


class SandboxError(RuntimeError):
    """A sandbox component could not be started, found or controlled (one-line message)."""


@dataclass(frozen=True)
class PidRecord:
    """What a pid file holds: the pid and a marker its command line must contain."""

    pid: int
    marker: str


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (held open together while picking)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def write_pid_file(path: Path, record: PidRecord) -> None:
    """Write atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{record.pid}\n{record.marker}\n", encoding="utf-8")
    os.replace(tmp, path)


def read_pid_file(path: Path) -> PidRecord | None:
    """The record in ``path``, or None when it is absent or malformed."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        return PidRecord(pid=int(lines[0]), marker=lines[1] if len(lines) > 1 else "")
    except (OSError, ValueError, IndexError):
        return None


def is_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return True
    state = stat.rsplit(")", 1)[-1].split()[:1]
    return state != ["Z"] and state != ["X"]


def command_line(pid: int) -> str | None:
    """The command line of ``pid`` joined by spaces, None if unreadable (not Linux)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode("utf-8", "replace")


def owns(record: PidRecord) -> bool:
    """True when the pid is alive and still runs the command its pid file named."""
    if not is_alive(record.pid):
        return False
    cmdline = command_line(record.pid)
    return cmdline is None or record.marker in cmdline


def running_records(pids: Path) -> list[PidRecord]:
    """The records in ``pids/*.pid`` whose processes are still running."""
    records = [read_pid_file(path) for path in sorted(pids.glob("*.pid"))]
    return [record for record in records if record is not None and owns(record)]


def send_signal(record: PidRecord, sig: signal.Signals) -> bool:
    """Signal the recorded process if it is still ours; False when it is gone."""
    if not owns(record):
        return False
    try:
        os.kill(record.pid, sig)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pid: int, timeout_s: float) -> bool:
    """Poll until ``pid`` has exited; False when it is still alive at the deadline."""
    deadline = time.monotonic() + timeout_s
    while is_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def stop_record(record: PidRecord, timeout_s: float = 5.0) -> None:
    """SIGCONT (it may be paused), SIGTERM, and SIGKILL after ``timeout_s``."""
    stop_records([record], timeout_s)


def stop_records(records: Sequence[PidRecord], timeout_s: float = 5.0) -> None:
    """Stop several processes at once: SIGCONT+SIGTERM to all, SIGKILL to stragglers."""
    live = [r for r in records if send_signal(r, signal.SIGCONT)]
    for record in live:
        send_signal(record, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for record in live:
        if not wait_gone(record.pid, max(0.0, deadline - time.monotonic())):
            send_signal(record, signal.SIGKILL)
            wait_gone(record.pid, 2.0)


def package_root() -> str:
    """The directory holding the ``pytest_wimmelgate`` package (for children's PYTHONPATH)."""
    return str(Path(__file__).resolve().parents[3])


def child_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The parent's environment plus ``extra``, with this package importable."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_VARIABLES}
    env.update(extra or {})
    path = env.get("PYTHONPATH", "")
    root = package_root()
    if root not in path.split(os.pathsep):
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, path) if p)
    return env


def spawn(
    command: Sequence[str],
    *,
    pid_file: Path,
    marker: str,
    log_file: Path,
    owner_pid: int,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    detach: bool = False,
) -> subprocess.Popen[bytes]:
    """Start ``command`` under a watchdog that writes ``pid_file`` and ends it with its owner.

    The watchdog runs in its own session (a terminal Ctrl-C reaches only the parent, which
    then stops everything in order) and terminates the command once ``owner_pid`` is gone.
    With ``detach`` the watchdog forks away, so the returned process exits at once and
    the command does not end with the calling process (only with ``owner_pid``).
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    watchdog = [
        sys.executable,
        "-m",
        WATCHDOG_MODULE,
        "--owner",
        str(owner_pid),
        "--pid-file",
        str(pid_file),
        "--marker",
        marker,
        *(["--detach"] if detach else []),
        "--",
        *command,
    ]
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            watchdog,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_environ(env),
            cwd=str(cwd) if cwd else None,
            start_new_session=True,
        )


def wait_for_pid_file(pid_file: Path, watchdog: subprocess.Popen[bytes] | None, timeout_s: float) -> PidRecord:
    """The record the watchdog wrote; SandboxError if it died or took too long.

    Pass ``watchdog=None`` for a detached watchdog (its launcher exits at once).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        record = read_pid_file(pid_file)
        if record is not None and (watchdog is None or record.pid != watchdog.pid):
            return record
        if watchdog is not None and watchdog.poll() is not None:
            raise SandboxError(f"watchdog for {pid_file.name} exited ({watchdog.returncode})")
        if time.monotonic() >= deadline:
            raise SandboxError(f"no pid file {pid_file} within {timeout_s:g} s")
        time.sleep(0.02)


def wait_until(
    ready: Callable[[], bool],
    *,
    what: str,
    log_file: Path,
    timeout_s: float = 20.0,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Poll ``ready`` with short sleeps; one clear SandboxError naming ``what`` and its log."""
    deadline = time.monotonic() + timeout_s
    while True:
        if ready():
            return
        if alive is not None and not alive():
            raise SandboxError(f"{what} exited during start-up; see {log_file}")
        if time.monotonic() >= deadline:
            raise SandboxError(f"{what} not ready within {timeout_s:g} s; see {log_file}")
        time.sleep(0.05)


def reap(watchdog: subprocess.Popen[bytes], timeout_s: float = 3.0) -> None:
    """End and collect a watchdog we started (it forwards SIGTERM to its child)."""
    if watchdog.poll() is None:
        watchdog.terminate()
        try:
            watchdog.wait(timeout_s)
        except subprocess.TimeoutExpired:
            watchdog.kill()
            watchdog.wait(timeout_s)
