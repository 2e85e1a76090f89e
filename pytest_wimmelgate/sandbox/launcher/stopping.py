"""Stopping a sandbox in well under a second, leaving no process behind.

Every process named by a pid file gets SIGCONT and SIGTERM at once; what has not exited
after a short grace gets SIGKILL. The database is woken while it stops (secantusd ends
its accept loop only on the next connection, otherwise after 2 s). Each watchdog exits
once its child has: ours are collected, recorded ones (e.g. of a database restarted by
another process) awaited.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pytest_wimmelgate.sandbox.launcher.processes import (
    KILL_WAIT_S,
    STOP_GRACE_S,
    PidRecord,
    finish,
    read_pid_file,
    terminate,
    wait_all_gone,
)
from pytest_wimmelgate.sandbox.launcher.waits import tcp_open

HOST = "127.0.0.1"
DATABASE_PID_FILE = "mongodb.pid"


def stop_all(pids: Path, watchdogs: list[subprocess.Popen[bytes]], grace_s: float = STOP_GRACE_S) -> None:
    """Stop every process of ``pids/*.pid`` and the ``watchdogs`` we started; remove the
    pid files. An interrupt does not skip the rest; it is re-raised at the end."""
    interrupted: BaseException | None = None
    stopped: dict[Path, PidRecord] = {}
    for attempt in range(2):  # the second pass catches a pid file written meanwhile
        try:
            found = {path: record for path, record in records_in(pids).items() if path not in stopped}
            stopped.update(found)
            live = terminate(list(found.values()))
            if attempt == 0:
                _forward_to_unrecorded(watchdogs, found.values())
            finish(live, grace_s, nudge=_database_nudge(found))
        except BaseException as exc:  # keep stopping the rest
            interrupted = interrupted or exc
    try:
        _end_watchdogs(watchdogs, stopped.values())
    except BaseException as exc:
        interrupted = interrupted or exc
    for path in stopped:
        path.unlink(missing_ok=True)
    if interrupted is not None:
        raise interrupted


def records_in(pids: Path) -> dict[Path, PidRecord]:
    """The readable pid files of ``pids``."""
    if not pids.is_dir():
        return {}
    found = {path: read_pid_file(path) for path in sorted(pids.glob("*.pid"))}
    return {path: record for path, record in found.items() if record is not None}


def _forward_to_unrecorded(watchdogs: Sequence[subprocess.Popen[bytes]], records: Iterable[PidRecord]) -> None:
    """SIGTERM to our watchdogs whose child has no pid file yet (start interrupted):
    they forward it to the child as soon as it runs."""
    known = {record.watchdog for record in records}
    for watchdog in watchdogs:
        if watchdog.poll() is None and watchdog.pid not in known:
            watchdog.terminate()


def _end_watchdogs(watchdogs: list[subprocess.Popen[bytes]], records: Iterable[PidRecord]) -> None:
    """Await every watchdog (they exit with their child); SIGKILL only to ours that do not."""
    ours = {w.pid: w for w in watchdogs}
    recorded = [r.watchdog for r in records if r.watchdog is not None and r.watchdog not in ours]
    for pid in wait_all_gone([*ours, *recorded], STOP_GRACE_S):
        if pid in ours:
            ours[pid].kill()
    for watchdog in watchdogs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            watchdog.wait(KILL_WAIT_S)
    watchdogs.clear()


def _database_nudge(records: dict[Path, PidRecord]) -> Callable[[], None] | None:
    """A connection to the stopping database, which wakes its accept loop."""
    database = next((r for path, r in records.items() if path.name == DATABASE_PID_FILE), None)
    if database is None or not database.marker.startswith("--port "):
        return None
    port = int(database.marker.split()[1])

    def nudge() -> None:
        tcp_open(HOST, port, 0.05)

    return nudge
