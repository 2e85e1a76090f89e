"""The backend process of a sandbox: its environment, and extra backends on the same data.

The launcher never depends on a dialect's API paths: a backend is up once
``GET /_sandbox/ready`` answers 200 (it serves and its users are seeded, in every dialect).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from pytest_wimmelgate.sandbox.launcher.processes import (
    free_ports,
    read_pid_file,
    reap,
    spawn,
    stop_record,
    wait_for_pid_file,
    wait_until,
)
from pytest_wimmelgate.sandbox.launcher.waits import http_ok
from pytest_wimmelgate.sandbox.service.fault_switches import FAULTS_ENV, parse_faults

BACKEND_MODULE = "pytest_wimmelgate.sandbox.service.server"
READY_PATH = "/_sandbox/ready"
DIALECT_ENV = "WIMMELGATE_SANDBOX_DIALECT"
DEFAULT_DIALECT = "wimmelwelt"
START_TIMEOUT_S = 20.0


def backend_environ(
    info: SandboxInfo,
    *,
    faults: str,
    traffic_rps: float,
    version: str,
    commit: str,
    storage_mode: str,
    log_file: Path,
    login_limit: int,
    dialect: str = DEFAULT_DIALECT,
) -> dict[str, str]:
    """The environment of a backend process serving ``info``'s database and storage."""
    env = info.environ()
    env.update(
        {
            "FILE_STORAGE_MODE": storage_mode,
            "FILE_STORAGE_FALLBACK": "local",
            "WIMMELGATE_SANDBOX_HOST": "127.0.0.1",
            "LOG_LEVEL": "info",
            "WIMMELGATE_SANDBOX_LOG_FILE": str(log_file),
            "WIMMELGATE_SANDBOX_VERSION": version,
            "WIMMELGATE_SANDBOX_COMMIT": commit,
            "WIMMELGATE_SANDBOX_LOGIN_LIMIT": str(login_limit),
            "WIMMELGATE_SANDBOX_TRAFFIC_RPS": f"{traffic_rps:g}",
            DIALECT_ENV: dialect,
            FAULTS_ENV: faults,
        }
    )
    return env


def backend_command(port: int) -> list[str]:
    return [sys.executable, "-m", BACKEND_MODULE, "--port", str(port)]


def backend_ready(base_url: str) -> bool:
    return http_ok(base_url + READY_PATH)


@dataclass
class BackendProcess:
    """A backend process started by `start_backend` (a context manager)."""

    base_url: str
    pid_file: Path
    log_file: Path
    watchdog: subprocess.Popen[bytes]

    def stop(self) -> None:
        record = read_pid_file(self.pid_file)
        if record is not None:
            stop_record(record)
        reap(self.watchdog)
        self.pid_file.unlink(missing_ok=True)

    def __enter__(self) -> BackendProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_backend(
    info: SandboxInfo,
    *,
    faults: str = "",
    version: str | None = None,
    commit: str | None = None,
    storage: str | None = None,
    traffic_rps: float = 0.0,
    login_limit: int = 5,
    dialect: str | None = None,
    timeout_s: float = START_TIMEOUT_S,
) -> BackendProcess:
    """Another backend on the sandbox's database and storage, e.g. with other faults or
    version N-1 (same dialect unless given). It ends with the calling process;
    `Sandbox.stop` stops it too."""
    parse_faults(faults)
    port = free_ports(1)[0]
    name = f"backend-{port}"
    log_file = info.workdir / "logs" / f"{name}.jsonl"
    process_log = info.workdir / "logs" / f"{name}.log"
    env = backend_environ(
        info,
        faults=faults,
        traffic_rps=traffic_rps,
        version=version or info.version,
        commit=commit or info.commit,
        storage_mode=storage or info.storage_mode,
        log_file=log_file,
        login_limit=login_limit,
        dialect=dialect or info.dialect,
    )
    pid_file = info.workdir / "pids" / f"{name}.pid"
    watchdog = spawn(
        backend_command(port),
        pid_file=pid_file,
        marker=f"--port {port}",
        log_file=process_log,
        owner_pid=os.getpid(),
        env=env,
        cwd=info.workdir,
    )
    process = BackendProcess(f"http://127.0.0.1:{port}", pid_file, log_file, watchdog)
    try:
        wait_for_pid_file(pid_file, watchdog, timeout_s)
        wait_until(
            lambda: backend_ready(process.base_url),
            what="sandbox backend",
            log_file=process_log,
            timeout_s=timeout_s,
            alive=lambda: watchdog.poll() is None,
        )
    except BaseException:
        process.stop()
        raise
    return process
