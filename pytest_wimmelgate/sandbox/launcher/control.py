"""Cross-process fault control of a running sandbox, by the pids in its pid files.

Every function takes a `SandboxInfo` and works from any process (a pytest-xdist worker
that did not start the sandbox included): nothing here relies on in-memory handles.
"""

from __future__ import annotations

import signal
from pathlib import Path

from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from pytest_wimmelgate.sandbox.launcher.processes import (
    PidRecord,
    SandboxError,
    owns,
    read_pid_file,
    send_signal,
    spawn,
    wait_for_pid_file,
    wait_gone,
    wait_until,
)
from pytest_wimmelgate.sandbox.launcher.waits import mongo_client, mongo_pings

RESTART_TIMEOUT_S = 20.0


def _running(pid_file: Path, what: str) -> PidRecord:
    record = read_pid_file(pid_file)
    if record is None or not owns(record):
        raise SandboxError(f"{what} is not running (pid file {pid_file})")
    return record


def pause_database(info: SandboxInfo) -> None:
    """SIGSTOP the database: connections hang, clients time out (a blocked DB)."""
    send_signal(_running(info.db_pid_file, "sandbox database"), signal.SIGSTOP)


def resume_database(info: SandboxInfo) -> bool:
    """SIGCONT the database; False when it is not running (safe in teardown)."""
    record = read_pid_file(info.db_pid_file)
    return record is not None and send_signal(record, signal.SIGCONT)


def pause_s3(info: SandboxInfo) -> None:
    """SIGSTOP the S3 server: reads and writes time out (a blocked S3)."""
    send_signal(_running(info.s3_pid_file, "sandbox S3 server"), signal.SIGSTOP)


def resume_s3(info: SandboxInfo) -> bool:
    """SIGCONT the S3 server; False when it is not running."""
    record = read_pid_file(info.s3_pid_file)
    return record is not None and send_signal(record, signal.SIGCONT)


def database_pid(info: SandboxInfo) -> int | None:
    """The pid of the running database, or None."""
    record = read_pid_file(info.db_pid_file)
    return record.pid if record is not None and owns(record) else None


def restart_database(info: SandboxInfo, timeout_s: float = RESTART_TIMEOUT_S) -> None:
    """Primary failure: SIGKILL the database, start it again on the same port and storage.

    The new process ends with the sandbox's owner like the first one and is recorded in
    the same pid file, so `Sandbox.stop` stops it. Returns once it answers ``ping``.
    """
    log_file = info.workdir / "logs" / "mongodb.log"
    record = read_pid_file(info.db_pid_file)
    if record is not None and owns(record):
        send_signal(record, signal.SIGCONT)
        send_signal(record, signal.SIGKILL)
        if not wait_gone(record.pid, 5.0):
            raise SandboxError(f"sandbox database pid {record.pid} survived SIGKILL")
    info.db_pid_file.unlink(missing_ok=True)
    launcher = spawn(
        info.db_command,
        pid_file=info.db_pid_file,
        marker=f"--port {info.db_port}",
        log_file=log_file,
        owner_pid=info.owner_pid,
        cwd=info.workdir,
        detach=True,
    )
    launcher.wait(10)
    new = wait_for_pid_file(info.db_pid_file, None, timeout_s)
    client = mongo_client(info.mongodb_uri)
    try:
        wait_until(
            lambda: mongo_pings(client),
            what="sandbox database (restarted)",
            log_file=log_file,
            timeout_s=timeout_s,
            alive=lambda: owns(new),
        )
    finally:
        client.close()
