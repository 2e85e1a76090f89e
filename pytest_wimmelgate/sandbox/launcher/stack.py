"""Start and stop a whole sandbox: database, S3, backend, and Prometheus/Alertmanager if asked.

`Sandbox(workdir).start()` returns a `SandboxInfo`. Ports are allocated up front and every
process is spawned at once; then each is awaited on a thread of its own (the backend
waits for its database by itself), so a start takes as long as its slowest part.
`stop()` ends every process it (or a fault-control function in another process) started,
found by the pid files in ``<workdir>/pids``: SIGTERM to all at once, SIGKILL after a
short grace, and their watchdogs with them. Every child runs under a watchdog that ends
it when the starting process dies, so an interrupted test run leaves nothing behind.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from pytest_wimmelgate.sandbox.launcher import monitoring, warmup
from pytest_wimmelgate.sandbox.launcher.backend import (
    DEFAULT_DIALECT,
    START_TIMEOUT_S,
    BackendProcess,
    backend_command,
    backend_environ,
    backend_ready,
    start_backend,
)
from pytest_wimmelgate.sandbox.launcher.control import (
    database_pid,
    pause_database,
    pause_s3,
    restart_database,
    resume_database,
    resume_s3,
)
from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from pytest_wimmelgate.sandbox.launcher.parallel import Tasks
from pytest_wimmelgate.sandbox.launcher.processes import (
    STOP_GRACE_S,
    SandboxError,
    free_ports,
    running_records,
    spawn,
    wait_for_pid_file,
    wait_until,
)
from pytest_wimmelgate.sandbox.launcher.stopping import stop_all
from pytest_wimmelgate.sandbox.launcher.waits import (
    ensure_bucket,
    http_answers,
    http_ok,
    mongo_client,
    mongo_pings,
    s3_client,
    tcp_open,
)
from pytest_wimmelgate.sandbox.service.fault_switches import parse_faults

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

MODES = monitoring.MODES
DATABASE = "wimmelwelt_sandbox"
BUCKET = "wimmelwelt-sandbox"
REGION = "eu-central-1"
SECANTUSD = "secantusd-py"
S3_MODULE = "pytest_wimmelgate.sandbox.launcher.s3server"
SCRAPE_JOB = monitoring.SCRAPE_JOB
HOST = "127.0.0.1"
TCP_POLL_S = 0.02
HTTP_POLL_S = 0.05


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


class Sandbox:
    """The reference Wimmelwelt backend with real dependencies, as a context manager.

    ``storage``: ``s3`` or ``local``; ``faults``: a WIMMELGATE_SANDBOX_FAULTS spec;
    ``prometheus``/``alertmanager``: ``auto`` (when the binary is on PATH), ``on`` or
    ``off``; ``dialect``: the API dialect of the backend (WIMMELGATE_SANDBOX_DIALECT);
    ``history``: seed the operational history (`history.seed`) during the start. Data
    lives in ``workdir``, so a database restart keeps it.

    `start` returns once the database answers ``ping``, the bucket exists, the backend
    answers ``/_sandbox/ready``, Alertmanager is ready and Prometheus has loaded its rules;
    metric data takes longer (`wait_for_metric_data`).
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
        scrape_interval_s: float = monitoring.SCRAPE_INTERVAL_S,
        smoke_user: str = "smoke",
        smoke_password: str | None = None,
        login_limit: int = 5,
        dialect: str = DEFAULT_DIALECT,
        history: bool = False,
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
        self.dialect = dialect
        self.history = history
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
        prometheus = monitoring.binary_for(self.prometheus, monitoring.PROMETHEUS_BINARY)
        alertmanager = monitoring.binary_for(self.alertmanager, monitoring.ALERTMANAGER_BINARY)
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

    def wait_for_metric_data(self, bound_s: float = warmup.WARM_UP_BOUND_S) -> bool:
        """Until the metric gates can measure (see `warmup`); False without Prometheus
        or when ``bound_s`` passes first."""
        if self.info is None or not self.info.prometheus_url:
            return False
        return warmup.wait_for_metric_data(
            self.info.prometheus_url,
            job=SCRAPE_JOB,
            scrape_interval_s=self.scrape_interval_s,
            span_s=warmup.warm_up_span(self.traffic_rps),
            bound_s=bound_s,
        )

    def _dirs(self) -> dict[str, Path]:
        dirs = {name: self.workdir / name for name in ("logs", "pids", "config", "files")}
        for name in ("mongodb", "prometheus", "alertmanager"):
            dirs[name] = self.workdir / "data" / name
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
        return watchdog, log_file

    def _await(
        self,
        tasks: Tasks,
        name: str,
        what: str,
        ready: Callable[[], bool],
        process: tuple[subprocess.Popen[bytes], Path],
        port: int | None = None,
    ) -> None:
        """The process's pid file, then ``ready`` (failing fast when it exits). With
        ``port``, a cheap TCP poll first: an HTTP probe costs the launcher CPU every time."""
        watchdog, log_file = process
        wait_for_pid_file(self.workdir / "pids" / f"{name}.pid", watchdog, self.start_timeout_s)
        probes = [(lambda: tcp_open(HOST, port), TCP_POLL_S)] if port else []
        for probe, interval in [*probes, (ready, HTTP_POLL_S)]:
            wait_until(
                probe,
                what=what,
                log_file=log_file,
                timeout_s=self.start_timeout_s,
                alive=lambda: watchdog.poll() is None,
                cancelled=tasks.cancelled,
                interval_s=interval,
            )

    def _describe(
        self, secantusd: str, dirs: dict[str, Path], ports: list[int], prometheus: bool, alertmanager: bool
    ) -> SandboxInfo:
        db_port, s3_port, backend_port, prom_port, am_port = ports
        rules_file, am_config = monitoring.install_configs(dirs["config"])
        pids = dirs["pids"]
        empty_toml = dirs["config"] / "secantusd.toml"
        empty_toml.write_text("# empty: keeps secantusd from auto-loading ./secantusd.toml\n")
        db_command = (
            *(secantusd, "--host", HOST, "--port", str(db_port), "--storage-path", str(dirs["mongodb"])),
            *("--enable-test-commands", "--config", str(empty_toml)),
        )
        return SandboxInfo(
            base_url=f"http://{HOST}:{backend_port}",
            mongodb_uri=f"mongodb://{HOST}:{db_port}/{DATABASE}",
            s3_endpoint=f"http://{HOST}:{s3_port}",
            s3_bucket=BUCKET,
            s3_region=REGION,
            s3_access_key_id="sandbox-" + secrets.token_hex(6),
            s3_secret_access_key=secrets.token_hex(16),
            storage_mode=self.storage,
            local_storage_path=dirs["files"],
            prometheus_url=f"http://{HOST}:{prom_port}" if prometheus else None,
            alertmanager_url=f"http://{HOST}:{am_port}" if alertmanager else None,
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
            db_command=db_command,
            owner_pid=os.getpid(),
            dialect=self.dialect,
        )

    def _start(self, secantusd: str, prometheus: str | None, alertmanager: str | None) -> SandboxInfo:
        ports = free_ports(5)
        info = self._describe(secantusd, self._dirs(), ports, bool(prometheus), bool(alertmanager))
        tasks = Tasks()
        # everything is spawned before anything is awaited
        db = self._spawn("mongodb", list(info.db_command), f"--port {info.db_port}")
        s3 = self._spawn("s3", [sys.executable, "-m", S3_MODULE, "--port", str(ports[1])], f"--port {ports[1]}")
        env = backend_environ(
            info,
            faults=self.faults,
            traffic_rps=self.traffic_rps,
            version=self.version,
            commit=self.commit,
            storage_mode=self.storage,
            log_file=info.backend_log_file,
            login_limit=self.login_limit,
            dialect=self.dialect,
        )
        backend = self._spawn("backend", backend_command(ports[2]), f"--port {ports[2]}", env=env)
        self._spawn_monitoring(tasks, info, prometheus, alertmanager)
        database_up = threading.Event()
        tasks.run("database", lambda: self._await_database(tasks, info, db, database_up))
        tasks.run("storage", lambda: self._await_storage(tasks, info, s3, database_up))
        tasks.run(
            "backend",
            lambda: self._await(
                tasks, "backend", "sandbox backend", lambda: backend_ready(info.base_url), backend, ports[2]
            ),
        )
        tasks.join()
        info.save()
        _write_env_file(info)
        return info

    def _await_database(
        self, tasks: Tasks, info: SandboxInfo, db: tuple[subprocess.Popen[bytes], Path], up: threading.Event
    ) -> None:
        import pymongo  # noqa: F401  (imported while the database starts)

        what = "sandbox database (secantusd)"
        client = None
        try:
            # the client is made once the port is open: its first connection must not be refused
            self._await(tasks, "mongodb", what, lambda: True, db, info.db_port)
            client = mongo_client(info.mongodb_uri)
            self._await(tasks, "mongodb", what, lambda: mongo_pings(client), db)
        finally:
            if client is not None:
                client.close()
        up.set()

    def _await_storage(
        self, tasks: Tasks, info: SandboxInfo, s3: tuple[subprocess.Popen[bytes], Path], database_up: threading.Event
    ) -> None:
        """S3 answers, the bucket exists, and (with ``history``) the history is seeded."""
        client = s3_client(info.s3_endpoint, REGION, info.s3_access_key_id, info.s3_secret_access_key)
        s3_port = int(info.s3_endpoint.rsplit(":", 1)[1])
        self._await(tasks, "s3", "sandbox S3 server (moto)", lambda: http_answers(info.s3_endpoint), s3, s3_port)
        ensure_bucket(client, BUCKET, REGION)
        if not self.history:
            return
        while not database_up.wait(0.02):
            if tasks.cancelled.is_set():
                return
        from pytest_wimmelgate.sandbox.launcher.history import seed

        seed(info, s3=client)

    def _spawn_monitoring(
        self, tasks: Tasks, info: SandboxInfo, prometheus: str | None, alertmanager: str | None
    ) -> None:
        """Alertmanager and Prometheus (pointed at it and at the backend's future port)."""
        if alertmanager and info.alertmanager_url:
            am_port = int(info.alertmanager_url.rsplit(":", 1)[1])
            command = monitoring.alertmanager_command(
                alertmanager,
                config=info.alertmanager_config_file,
                data=self.workdir / "data" / "alertmanager",
                port=am_port,
            )
            am = self._spawn("alertmanager", command, f"{HOST}:{am_port}")
            am_ready = info.alertmanager_url + "/-/ready"
            tasks.run(
                "alertmanager",
                lambda: self._await(tasks, "alertmanager", "Alertmanager", lambda: http_ok(am_ready), am),
            )
        if prometheus and info.prometheus_url:
            prom_url = info.prometheus_url
            prom_port = int(prom_url.rsplit(":", 1)[1])
            config = self.workdir / "config" / "prometheus.yml"
            config.write_text(
                monitoring.render_prometheus_config(
                    backend_target=info.base_url.split("://", 1)[1],
                    rules_file=info.rules_file,
                    alertmanager_target=info.alertmanager_url.split("://", 1)[1] if info.alertmanager_url else None,
                    scrape_interval_s=self.scrape_interval_s,
                ),
                encoding="utf-8",
            )
            command = monitoring.prometheus_command(
                prometheus, config=config, data=self.workdir / "data" / "prometheus", port=prom_port
            )
            prom = self._spawn("prometheus", command, f"{HOST}:{prom_port}")
            tasks.run(
                "prometheus",
                lambda: self._await(
                    tasks, "prometheus", "Prometheus (rules loaded)", lambda: warmup.rules_loaded(prom_url), prom
                ),
            )

    # -- stop -----------------------------------------------------------------------------

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """End every sandbox process (paused ones too) and its watchdog, also after a failed
        start: SIGTERM to all at once, SIGKILL to what has not exited after ``grace_s``.

        An interrupt (Ctrl-C) during stop does not skip the remaining processes; it is
        re-raised once all are stopped.
        """
        try:
            stop_all(self.workdir / "pids", self._watchdogs, grace_s)
        finally:
            self.info = None


def _write_env_file(info: SandboxInfo) -> Path:
    """``<workdir>/sandbox.env`` with ``export NAME=value`` lines (mode 0600)."""
    import shlex

    path = info.workdir / "sandbox.env"
    path.touch(mode=0o600, exist_ok=True)
    lines = [f"export {name}={shlex.quote(value)}" for name, value in info.environ().items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
