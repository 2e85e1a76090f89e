"""Start and stop a whole sandbox: database, S3, backend, Prometheus, Alertmanager.

`Sandbox(workdir).start()` returns a `SandboxInfo`; `stop()` ends every process it (or a
fault-control function in another process) started, found by the pid files in
``<workdir>/pids``. Every child runs under a watchdog that ends it when the starting
process dies, so an interrupted test run leaves nothing behind.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from pytest_wimmelgate.sandbox.launcher import monitoring
from pytest_wimmelgate.sandbox.launcher.control import (
    database_pid,
    pause_database,
    pause_s3,
    restart_database,
    resume_database,
    resume_s3,
)
from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from pytest_wimmelgate.sandbox.launcher.processes import (
    SandboxError,
    free_ports,
    read_pid_file,
    reap,
    running_records,
    spawn,
    stop_record,
    stop_records,
    wait_for_pid_file,
    wait_until,
)
from pytest_wimmelgate.sandbox.launcher.waits import (
    ensure_bucket,
    http_answers,
    http_ok,
    mongo_client,
    mongo_pings,
    prometheus_has_scraped,
    s3_client,
)
from pytest_wimmelgate.sandbox.service.fault_switches import FAULTS_ENV, parse_faults

__all__ = [
    "BackendProcess",
    "Sandbox",
    "SandboxError",
    "SandboxInfo",
    "database_pid",
    "pause_database",
    "pause_s3",
    "restart_database",
    "resume_database",
    "resume_s3",
    "start_backend",
]

MODES = ("auto", "on", "off")
START_TIMEOUT_S = 20.0
DATABASE = "wimmelwelt_sandbox"
BUCKET = "wimmelwelt-sandbox"
REGION = "eu-central-1"
SECANTUSD = "secantusd-py"
BACKEND_MODULE = "pytest_wimmelgate.sandbox.service.server"
S3_MODULE = "pytest_wimmelgate.sandbox.launcher.s3server"
SCRAPE_JOB = monitoring.SCRAPE_JOB
# stop order: monitoring, then backends, then their dependencies
_STOP_STAGES = (("prometheus", "alertmanager"), ("backend",), ("s3", "mongodb"))


def find_secantusd() -> str:
    """``$WIMMELGATE_SECANTUSD``, next to this Python, or on PATH."""
    explicit = os.environ.get("WIMMELGATE_SECANTUSD")
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / SECANTUSD
    if beside.exists():
        return str(beside)
    found = shutil.which(SECANTUSD)
    if found is None:
        raise SandboxError(
            f"{SECANTUSD} not found: install the sandbox extra (pip install 'pytest-wimmelgate[sandbox]')"
        )
    return found


def _binary(mode: str, name: str) -> str | None:
    if mode not in MODES:
        raise SandboxError(f"{name}: mode {mode!r}, expected one of {', '.join(MODES)}")
    if mode == "off":
        return None
    found = monitoring.find_binary(name)
    if found is None and mode == "on":
        raise SandboxError(f"{name} not found on PATH (requested with mode 'on')")
    return found


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
            FAULTS_ENV: faults,
        }
    )
    return env


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
    timeout_s: float = START_TIMEOUT_S,
) -> BackendProcess:
    """Another backend on the sandbox's database and storage, e.g. with other faults or
    version N-1. It ends with the calling process; `Sandbox.stop` stops it too."""
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
    )
    pid_file = info.workdir / "pids" / f"{name}.pid"
    watchdog = spawn(
        [sys.executable, "-m", BACKEND_MODULE, "--port", str(port)],
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
            lambda: http_ok(process.base_url + "/health"),
            what="sandbox backend",
            log_file=process_log,
            timeout_s=timeout_s,
            alive=lambda: watchdog.poll() is None,
        )
    except BaseException:
        process.stop()
        raise
    return process


class Sandbox:
    """The reference Wimmelwelt backend with real dependencies, as a context manager.

    ``storage``: ``s3`` or ``local``; ``faults``: a WIMMELGATE_SANDBOX_FAULTS spec;
    ``prometheus``/``alertmanager``: ``auto`` (when the binary is on PATH), ``on`` or
    ``off``. Data lives in ``workdir``, so a database restart keeps it.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        storage: str = "s3",
        faults: str = "",
        traffic_rps: float = 5.0,
        version: str = "0.0.0-sandbox",
        commit: str = "sandbox",
        prometheus: str = "auto",
        alertmanager: str = "auto",
        scrape_interval_s: float = 1.0,
        smoke_user: str = "smoke",
        smoke_password: str | None = None,
        login_limit: int = 5,
        start_timeout_s: float = START_TIMEOUT_S,
    ) -> None:
        self.workdir = Path(workdir).resolve()
        self.storage = storage
        self.faults = faults
        self.traffic_rps = traffic_rps
        self.version = version
        self.commit = commit
        self.prometheus = prometheus
        self.alertmanager = alertmanager
        self.scrape_interval_s = scrape_interval_s
        self.smoke_user = smoke_user
        self.smoke_password = smoke_password or secrets.token_urlsafe(18)
        self.login_limit = login_limit
        self.start_timeout_s = start_timeout_s
        self.info: SandboxInfo | None = None
        self._watchdogs: list[subprocess.Popen[bytes]] = []

    # -- context manager ------------------------------------------------------------------

    def __enter__(self) -> SandboxInfo:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- start ----------------------------------------------------------------------------

    def start(self) -> SandboxInfo:
        """Start every component and wait until each is ready; stops all on failure."""
        if self.info is not None:
            return self.info
        if self.storage not in ("s3", "local"):
            raise SandboxError(f"storage {self.storage!r}, expected s3 or local")
        try:
            parse_faults(self.faults)
        except ValueError as exc:
            raise SandboxError(str(exc)) from None
        prometheus = _binary(self.prometheus, monitoring.PROMETHEUS_BINARY)
        alertmanager = _binary(self.alertmanager, monitoring.ALERTMANAGER_BINARY)
        secantusd = find_secantusd()
        busy = running_records(self.workdir / "pids")
        if busy:
            raise SandboxError(
                f"workdir {self.workdir} is in use by a running sandbox "
                f"(pid {busy[0].pid}); stop it or use another workdir"
            )
        try:
            self.info = self._start(secantusd, prometheus, alertmanager)
        except BaseException:
            self.stop()
            raise
        return self.info

    def _dirs(self) -> dict[str, Path]:
        dirs = {name: self.workdir / name for name in ("logs", "pids", "config", "files")}
        dirs["mongodb"] = self.workdir / "data" / "mongodb"
        dirs["prometheus"] = self.workdir / "data" / "prometheus"
        dirs["alertmanager"] = self.workdir / "data" / "alertmanager"
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        return dirs

    def _spawn(
        self, name: str, command: list[str], marker: str, *, env: dict[str, str] | None = None
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log_file = self.workdir / "logs" / f"{name}.log"
        watchdog = spawn(
            command,
            pid_file=self.workdir / "pids" / f"{name}.pid",
            marker=marker,
            log_file=log_file,
            owner_pid=os.getpid(),
            env=env,
            cwd=self.workdir,
        )
        self._watchdogs.append(watchdog)
        wait_for_pid_file(self.workdir / "pids" / f"{name}.pid", watchdog, self.start_timeout_s)
        return watchdog, log_file

    def _wait(self, what: str, ready: Callable[[], bool], watchdog: subprocess.Popen[bytes], log_file: Path) -> None:
        wait_until(
            ready, what=what, log_file=log_file, timeout_s=self.start_timeout_s, alive=lambda: watchdog.poll() is None
        )

    def _start(self, secantusd: str, prometheus: str | None, alertmanager: str | None) -> SandboxInfo:
        dirs = self._dirs()
        db_port, s3_port, backend_port, prom_port, am_port = free_ports(5)
        empty_toml = dirs["config"] / "secantusd.toml"
        empty_toml.write_text("# empty: keeps secantusd from auto-loading ./secantusd.toml\n")
        db_command = [
            secantusd,
            "--host",
            "127.0.0.1",
            "--port",
            str(db_port),
            "--storage-path",
            str(dirs["mongodb"]),
            "--enable-test-commands",
            "--config",
            str(empty_toml),
        ]
        db, db_log = self._spawn("mongodb", db_command, f"--port {db_port}")
        s3, s3_log = self._spawn("s3", [sys.executable, "-m", S3_MODULE, "--port", str(s3_port)], f"--port {s3_port}")
        rules_file, am_config = monitoring.install_configs(dirs["config"])
        pids = dirs["pids"]
        info = SandboxInfo(
            base_url=f"http://127.0.0.1:{backend_port}",
            mongodb_uri=f"mongodb://127.0.0.1:{db_port}/{DATABASE}",
            s3_endpoint=f"http://127.0.0.1:{s3_port}",
            s3_bucket=BUCKET,
            s3_region=REGION,
            s3_access_key_id="sandbox-" + secrets.token_hex(6),
            s3_secret_access_key=secrets.token_hex(16),
            storage_mode=self.storage,
            local_storage_path=dirs["files"],
            prometheus_url=f"http://127.0.0.1:{prom_port}" if prometheus else None,
            alertmanager_url=f"http://127.0.0.1:{am_port}" if alertmanager else None,
            workdir=self.workdir,
            version=self.version,
            commit=self.commit,
            smoke_user=self.smoke_user,
            smoke_password=self.smoke_password,
            auth_secret=secrets.token_hex(32),
            faults=parse_faults(self.faults).spec(),
            backend_log_file=dirs["logs"] / "backend.jsonl",
            db_pid_file=pids / "mongodb.pid",
            s3_pid_file=pids / "s3.pid",
            backend_pid_file=pids / "backend.pid",
            prometheus_pid_file=pids / "prometheus.pid" if prometheus else None,
            alertmanager_pid_file=pids / "alertmanager.pid" if alertmanager else None,
            rules_file=rules_file,
            alertmanager_config_file=am_config,
            db_command=tuple(db_command),
            owner_pid=os.getpid(),
        )
        client = mongo_client(info.mongodb_uri)
        try:
            self._wait("sandbox database (secantusd)", lambda: mongo_pings(client), db, db_log)
        finally:
            client.close()
        self._wait("sandbox S3 server (moto)", lambda: http_answers(info.s3_endpoint), s3, s3_log)
        bucket_client = s3_client(info.s3_endpoint, REGION, info.s3_access_key_id, info.s3_secret_access_key)
        ensure_bucket(bucket_client, BUCKET, REGION)
        env = backend_environ(
            info,
            faults=self.faults,
            traffic_rps=self.traffic_rps,
            version=self.version,
            commit=self.commit,
            storage_mode=self.storage,
            log_file=info.backend_log_file,
            login_limit=self.login_limit,
        )
        backend, backend_log = self._spawn(
            "backend",
            [sys.executable, "-m", BACKEND_MODULE, "--port", str(backend_port)],
            f"--port {backend_port}",
            env=env,
        )
        self._wait("sandbox backend", lambda: http_ok(info.base_url + "/health"), backend, backend_log)
        self._start_monitoring(info, prometheus, alertmanager, prom_port, am_port)
        info.save()
        _write_env_file(info)
        return info

    def _start_monitoring(
        self, info: SandboxInfo, prometheus: str | None, alertmanager: str | None, prom_port: int, am_port: int
    ) -> None:
        """Alertmanager, then Prometheus (pointed at it); both waited for together."""
        waits: list[tuple[str, Callable[[], bool], subprocess.Popen[bytes], Path]] = []
        if alertmanager and info.alertmanager_url:
            command = monitoring.alertmanager_command(
                alertmanager,
                config=info.alertmanager_config_file,
                data=self.workdir / "data" / "alertmanager",
                port=am_port,
            )
            watchdog, log = self._spawn("alertmanager", command, f"127.0.0.1:{am_port}")
            am_ready = info.alertmanager_url + "/-/ready"
            waits.append(("Alertmanager", lambda: http_ok(am_ready), watchdog, log))
        if prometheus and info.prometheus_url:
            config = self.workdir / "config" / "prometheus.yml"
            config.write_text(
                monitoring.render_prometheus_config(
                    backend_target=info.base_url.split("://", 1)[1],
                    rules_file=info.rules_file,
                    alertmanager_target=f"127.0.0.1:{am_port}" if alertmanager else None,
                    scrape_interval_s=self.scrape_interval_s,
                ),
                encoding="utf-8",
            )
            command = monitoring.prometheus_command(
                prometheus, config=config, data=self.workdir / "data" / "prometheus", port=prom_port
            )
            watchdog, log = self._spawn("prometheus", command, f"127.0.0.1:{prom_port}")
            prom_url = info.prometheus_url
            waits.append(("Prometheus", lambda: http_ok(prom_url + "/-/ready"), watchdog, log))
            # Prometheus 2.x applies discovered targets only after ~5 s: wait for the
            # first scrape, so queries right after start() find data.
            waits.append(
                (
                    "Prometheus (first scrape of the backend)",
                    lambda: prometheus_has_scraped(prom_url, SCRAPE_JOB),
                    watchdog,
                    log,
                )
            )
        for what, ready, watchdog, log in waits:
            self._wait(what, ready, watchdog, log)

    # -- stop -----------------------------------------------------------------------------

    def stop(self) -> None:
        """End every sandbox process (paused ones too), also after a failed start.

        An interrupt (Ctrl-C) during stop does not skip the remaining processes; it is
        re-raised once all are stopped.
        """
        interrupted: BaseException | None = None
        for stage in _pid_files_by_stage(self.workdir / "pids"):
            try:
                records = [read_pid_file(path) for path in stage]
                stop_records([record for record in records if record is not None])
                for path in stage:
                    path.unlink(missing_ok=True)
            except BaseException as exc:  # keep stopping the rest
                interrupted = interrupted or exc
        for watchdog in self._watchdogs:
            try:
                reap(watchdog)
            except BaseException as exc:
                interrupted = interrupted or exc
        self._watchdogs.clear()
        self.info = None
        if interrupted is not None:
            raise interrupted


def _pid_files_by_stage(pids: Path) -> list[list[Path]]:
    """Pid files grouped in stop order; the processes of one stage stop together."""
    if not pids.is_dir():
        return []
    stages: list[list[Path]] = [[] for _ in _STOP_STAGES]
    for path in sorted(pids.glob("*.pid")):
        index = next(
            (i for i, prefixes in enumerate(_STOP_STAGES) if path.stem.startswith(prefixes)), len(_STOP_STAGES) - 1
        )
        stages[index].append(path)
    return [stage for stage in stages if stage]


def _write_env_file(info: SandboxInfo) -> Path:
    """``<workdir>/sandbox.env`` with ``export NAME=value`` lines (mode 0600)."""
    import shlex

    path = info.workdir / "sandbox.env"
    path.touch(mode=0o600, exist_ok=True)
    lines = [f"export {name}={shlex.quote(value)}" for name, value in info.environ().items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
