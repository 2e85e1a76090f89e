"""Child processes of the sandbox: free ports, spawning, pid files, stopping by pid.

Stopping is bounded: SIGTERM to every process at once, a short grace, then SIGKILL, so a
sandbox stops in well under a second and leaves no process behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

WATCHDOG_MODULE = "pytest_wimmelgate.sandbox.launcher.watchdog"
#: how long a process may take to exit after SIGTERM before it gets SIGKILL
STOP_GRACE_S = 0.35
#: how long a SIGKILLed process may take to disappear
KILL_WAIT_S = 1.0
POLL_S = 0.01
NUDGE_EVERY = 5
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
    """What a pid file holds: the pid, a marker its command line must contain, and the
    pid of the watchdog supervising it (absent in files of older versions)."""

    pid: int
    marker: str
    watchdog: int | None = None


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
    watchdog = "" if record.watchdog is None else str(record.watchdog)
    tmp.write_text(f"{record.pid}\n{record.marker}\n{watchdog}\n", encoding="utf-8")
    os.replace(tmp, path)


def read_pid_file(path: Path) -> PidRecord | None:
    """The record in ``path``, or None when it is absent or malformed."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        watchdog = int(lines[2]) if len(lines) > 2 and lines[2].strip() else None
        return PidRecord(pid=int(lines[0]), marker=lines[1] if len(lines) > 1 else "", watchdog=watchdog)
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
    return wait_all_gone([pid], timeout_s) == []


def wait_all_gone(pids: Sequence[int], timeout_s: float, nudge: Callable[[], None] | None = None) -> list[int]:
    """Poll until every pid has exited or ``timeout_s`` passed; the pids still alive.
    ``nudge`` runs every few polls while any is alive (to wake a process up)."""
    deadline = time.monotonic() + timeout_s
    alive = [pid for pid in pids if is_alive(pid)]
    polls = 0
    while alive and time.monotonic() < deadline:
        if nudge is not None and polls % NUDGE_EVERY == 0:
            nudge()
        polls += 1
        time.sleep(POLL_S)
        alive = [pid for pid in alive if is_alive(pid)]
    return alive


def stop_record(record: PidRecord, timeout_s: float = STOP_GRACE_S) -> None:
    """SIGCONT (it may be paused), SIGTERM, and SIGKILL after ``timeout_s``."""
    stop_records([record], timeout_s)


def terminate(records: Sequence[PidRecord]) -> list[PidRecord]:
    """SIGCONT and SIGTERM to each recorded process still ours; returns those signalled."""
    live = [r for r in records if send_signal(r, signal.SIGCONT)]
    return [r for r in live if send_signal(r, signal.SIGTERM)]


def finish(
    records: Sequence[PidRecord], grace_s: float = STOP_GRACE_S, *, nudge: Callable[[], None] | None = None
) -> None:
    """Wait up to ``grace_s`` for terminated processes to exit, then SIGKILL the rest."""
    left = set(wait_all_gone([r.pid for r in records], grace_s, nudge))
    stragglers = [r for r in records if r.pid in left]
    for record in stragglers:
        send_signal(record, signal.SIGKILL)
    wait_all_gone([r.pid for r in stragglers], KILL_WAIT_S)


def stop_records(records: Sequence[PidRecord], timeout_s: float = STOP_GRACE_S) -> None:
    """Stop several processes at once: SIGCONT+SIGTERM to all, SIGKILL to stragglers."""
    finish(terminate(records), timeout_s)


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
    cancelled: threading.Event | None = None,
    interval_s: float = 0.02,
) -> None:
    """Poll ``ready`` with short sleeps; one clear SandboxError naming ``what`` and its log.

    ``cancelled`` ends the wait early (another component of the same start failed).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        if ready():
            return
        if cancelled is not None and cancelled.is_set():
            raise StartCancelled(what)
        if alive is not None and not alive():
            raise SandboxError(f"{what} exited during start-up{_last_line(log_file)}; see {log_file}")
        if time.monotonic() >= deadline:
            raise SandboxError(f"{what} not ready within {timeout_s:g} s; see {log_file}")
        time.sleep(interval_s)


class StartCancelled(SandboxError):
    """A wait given up because another part of the same start failed first."""


def _last_line(log_file: Path) -> str:
    """``: <the log's last line>`` (what a failing process said last), or nothing."""
    try:
        with open(log_file, "rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - 2048))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    last = next((line.strip() for line in reversed(lines) if line.strip()), "")
    return f": {last[:300]}" if last else ""


def reap(watchdog: subprocess.Popen[bytes], timeout_s: float = STOP_GRACE_S) -> None:
    """End and collect a watchdog we started (it forwards SIGTERM to its child)."""
    if watchdog.poll() is None:
        watchdog.terminate()
        try:
            watchdog.wait(timeout_s)
        except subprocess.TimeoutExpired:
            watchdog.kill()
            watchdog.wait(KILL_WAIT_S)
