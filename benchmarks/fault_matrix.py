"""Fault matrix: each check that can be faulted on the sandbox, red by its own fault and only by it.

For every check id with a fault the sandbox can show, the benchmark injects that fault from
OUTSIDE the gate (the backend's fault switches ``WIMMELGATE_SANDBOX_FAULTS``, a paused
dependency, a MongoDB fail point, a sandbox started with the wrong settings, or a vendor
stand-in on 127.0.0.1 answering 401, 5xx, HTML, one byte per second or nothing) and runs the
check's gate as a fresh process. It prints a table: check, fault, whether the check turned
red, its category and the time the check took to its verdict; then the score (checks turned
red by their own fault / checks) and every check turned red by a fault that is not its own
(checks that are green in the same gate's healthy baseline run only).

    .venv/bin/python benchmarks/fault_matrix.py [--only SG-2,PD-1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

ROOT = Path(__file__).resolve().parents[1]
SANDBOX_YAML = ROOT / "environments" / "sandbox.yaml"
STAGING = ("-m", "staging_gate")
METRICS = ("-m", "post_deploy or rollback_trigger", "-k", "not saved and not grafana")
GOLIVE_GL4 = ("-m", "golive", "-k", "no_active")
SHORT_WINDOWS = {
    "metrics": {
        "objectives": {c: {"window": "1m"} for c in ("PD-1", "PD-2", "PD-3", "PD-4")},
        "triggers": {c: {"window": "1m"} for c in ("RT-1", "RT-2", "RT-3", "RT-4")},
    }
}


# -- vendor stand-ins ------------------------------------------------------------------
class StandIn:
    """A TCP server on 127.0.0.1 answering every request the way a broken vendor API does."""

    ANSWERS: ClassVar[dict[str, bytes]] = {
        "401": b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n"
        b'{"message":"bad api key"}',
        "503": b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 11\r\n\r\nunavailable",
        "html": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 46\r\n\r\n"
        b"<html><body>Please log in (proxy)</body></html>",
        "no-alerts": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]",
    }

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                if self.mode == "nothing":
                    self._stop.wait(600)
                elif self.mode == "drip":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 600\r\n\r\n")
                    while not self._stop.wait(1.0):
                        conn.sendall(b" ")
                else:
                    conn.sendall(self.ANSWERS[self.mode])
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self._listener.close()


# -- what a run needs -------------------------------------------------------------------
@dataclass
class Context:
    """Where one gate run points: process environment and the environment file."""

    environ: dict[str, str]
    env_file: Path | None = None
    args: tuple[str, ...] = ()


@dataclass
class FaultRun:
    """One gate run with one fault; ``own`` are the checks this fault is meant for."""

    name: str
    fault: str
    own: tuple[str, ...]
    selection: tuple[str, ...]
    prepare: Callable[[Path, dict[str, str]], AbstractContextManager[Context]]
    baseline: str = "staging"


@dataclass
class Result:
    summary: dict[str, Any]
    wall_s: float
    status: int
    output: str = field(repr=False, default="")


def env_file(folder: Path, name: str, overrides: dict[str, Any]) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"extends": str(SANDBOX_YAML), "name": "matrix", **overrides}), encoding="utf-8")
    return path


def shared(extra: tuple[str, ...] = (), overrides: dict[str, Any] | None = None) -> Callable[..., Any]:
    @contextmanager
    def prepare(folder: Path, environ: dict[str, str]) -> Iterator[Context]:
        path = env_file(folder, "shared", overrides) if overrides is not None else None
        yield Context(environ, path, extra)

    return prepare


def paused(part: str) -> Callable[..., Any]:
    @contextmanager
    def prepare(folder: Path, environ: dict[str, str]) -> Iterator[Context]:
        from pytest_wimmelgate.sandbox.launcher import control
        from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo

        info = SandboxInfo.from_dict(json.loads(environ["SANDBOX_INFO"]))
        pause, resume = {"database": (control.pause_database, control.resume_database)}.get(
            part, (control.pause_s3, control.resume_s3)
        )
        pause(info)
        try:
            yield Context(environ)
        finally:
            resume(info)

    return prepare


def refused_writes(collection: str) -> Callable[..., Any]:
    """MongoDB rejects every write to one collection (a validator no document meets)."""

    @contextmanager
    def prepare(folder: Path, environ: dict[str, str]) -> Iterator[Context]:
        from pymongo import MongoClient

        client: Any = MongoClient(environ["SANDBOX_MONGODB_URI"], serverSelectionTimeoutMS=3000)
        database = client.get_default_database()
        database.command("collMod", collection, validator={"$jsonSchema": {"required": ["matrix_never_set"]}})
        try:
            yield Context(environ)
        finally:
            database.command("collMod", collection, validator={})
            client.close()

    return prepare


def own_sandbox(**options: Any) -> Callable[..., Any]:
    """A sandbox started for this run with other settings (a deployment with a defect)."""

    @contextmanager
    def prepare(folder: Path, environ: dict[str, str]) -> Iterator[Context]:
        from pytest_wimmelgate.sandbox.launcher.gate_run import variables_of
        from pytest_wimmelgate.sandbox.launcher.history import seed
        from pytest_wimmelgate.sandbox.launcher.stack import Sandbox

        box = Sandbox(folder / "sandbox", prometheus="off", alertmanager="off", **options)
        info = box.start()
        try:
            seed(info)
            yield Context({**_without_sandbox(environ), **variables_of(info)})
        finally:
            box.stop()

    return prepare


def switches(spec: str) -> Callable[..., Any]:
    """The gate run starts its own sandbox (with Prometheus when installed) with fault switches."""

    @contextmanager
    def prepare(folder: Path, environ: dict[str, str]) -> Iterator[Context]:
        clean = _without_sandbox(environ)
        clean["WIMMELGATE_SANDBOX_FAULTS"] = spec
        clean["WIMMELGATE_SANDBOX_PROMETHEUS"] = "on" if shutil.which("prometheus") else "off"
        clean["WIMMELGATE_SANDBOX_ALERTMANAGER"] = "off"
        yield Context(clean, env_file(folder, "metrics", SHORT_WINDOWS))

    return prepare


def stand_in(section: str, mode: str, values: Callable[[str], dict[str, Any]]) -> Callable[..., Any]:
    @contextmanager
    def prepare(folder: Path, environ: dict[str, str]) -> Iterator[Context]:
        server = StandIn(mode)
        try:
            yield Context(environ, env_file(folder, f"standin-{section}", {section: values(server.url)}))
        finally:
            server.close()

    return prepare


def _alertmanager(url: str) -> dict[str, Any]:
    return {"url": url, "blocking_severities": ["P1", "P2"]}


def _without_sandbox(environ: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if not k.startswith("SANDBOX_") and not k.startswith("WIMMELGATE_")}


RUNS = [
    FaultRun(
        "sg1",
        "/health reports another version (wrong build deployed)",
        ("SG-1",),
        STAGING,
        shared(("--wg-version", "9.9.9")),
    ),
    FaultRun("sg2", "MongoDB paused (SIGSTOP)", ("SG-2",), STAGING, paused("database")),
    FaultRun(
        "sg3",
        "readiness ignores MongoDB (switch readiness_ignores_db=1)",
        ("SG-3",),
        STAGING,
        own_sandbox(faults="readiness_ignores_db=1"),
    ),
    FaultRun(
        "sg4", "no login rate limit (sandbox login limit 1000)", ("SG-4",), STAGING, own_sandbox(login_limit=1000)
    ),
    FaultRun("sg5", "MongoDB rejects writes to messages (validator)", ("SG-5",), STAGING, refused_writes("messages")),
    FaultRun("sg6", "S3 paused (SIGSTOP)", ("SG-6",), STAGING, paused("s3")),
    FaultRun(
        "sg7",
        "push deliveries fail (switch push_failure_rate=1)",
        ("SG-7",),
        STAGING,
        own_sandbox(faults="push_failure_rate=1"),
    ),
    FaultRun(
        "sg8",
        "Elasticsearch stand-in answers HTML (a login proxy)",
        ("SG-8",),
        STAGING,
        stand_in("logs", "html", lambda url: {"url": url, "index_pattern": "backend-matrix-*"}),
    ),
    FaultRun(
        "sg9",
        "OTLP collector stand-in answers 401",
        ("SG-9",),
        STAGING,
        stand_in("otlp", "401", lambda url: {"endpoint": url, "headers": "authorization=Bearer matrix-t0ken"}),
    ),
    FaultRun(
        "sg10",
        "Grafana stand-in drips one byte per second",
        ("SG-10",),
        STAGING,
        stand_in("grafana", "drip", lambda url: {"url": url, "token": "matrix-t0ken"}),
    ),
    FaultRun(
        "gl4",
        "Alertmanager stand-in accepts and never answers",
        ("GL-4",),
        GOLIVE_GL4,
        stand_in("alertmanager", "nothing", _alertmanager),
        baseline="golive",
    ),
    FaultRun(
        "latency",
        "API latency +600 ms (switch latency_ms=600)",
        ("PD-1", "RT-2"),
        METRICS,
        switches("latency_ms=600"),
        "metrics",
    ),
    FaultRun(
        "errors", "10 % 5xx (switch error_rate=0.1)", ("PD-2", "RT-1"), METRICS, switches("error_rate=0.1"), "metrics"
    ),
    FaultRun(
        "flaps",
        "5 % readiness 503 (switch readiness_flap_rate=0.05)",
        ("PD-3", "RT-3"),
        METRICS,
        switches("readiness_flap_rate=0.05"),
        "metrics",
    ),
    FaultRun(
        "push",
        "50 % push failures (switch push_failure_rate=0.5)",
        ("PD-4", "RT-4"),
        METRICS,
        switches("push_failure_rate=0.5"),
        "metrics",
    ),
]
BASELINES: dict[str, tuple[tuple[str, ...], Callable[..., Any]]] = {
    "staging": (STAGING, shared()),
    "golive": (GOLIVE_GL4, stand_in("alertmanager", "no-alerts", _alertmanager)),
    "metrics": (METRICS, switches("")),
}


def run_gate(folder: Path, selection: tuple[str, ...], context: Context) -> Result:
    release = folder / "rel"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        *selection,
        *context.args,
        f"--wg-release-dir={release}",
        "--wg-report=off",
        *((f"--wg-env={context.env_file}",) if context.env_file else ()),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=context.environ, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    found = sorted(release.rglob("gate-summary.json"))
    summary = json.loads(found[-1].read_text()) if found else {"checks": [], "verdict": "NO SUMMARY"}
    return Result(summary, wall, done.returncode, done.stdout[-3000:] + done.stderr[-1000:])


def outcomes(result: Result) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in result.summary.get("checks", []) if c.get("id")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma list of check ids (default: all)")
    args = parser.parse_args()
    wanted = {c.strip() for c in args.only.split(",") if c.strip()}
    runs = [r for r in RUNS if not wanted or wanted & set(r.own)]

    from pytest_wimmelgate.sandbox.launcher.gate_run import variables_of
    from pytest_wimmelgate.sandbox.launcher.history import seed
    from pytest_wimmelgate.sandbox.launcher.stack import Sandbox

    with tempfile.TemporaryDirectory(prefix="wg-matrix-") as tmp:
        root = Path(tmp)
        box = Sandbox(root / "shared-sandbox", prometheus="off", alertmanager="off")
        info = box.start()
        try:
            seed(info)
            environ = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"} | variables_of(info)
            baselines: dict[str, dict[str, dict[str, Any]]] = {}
            for name in sorted({r.baseline for r in runs}):
                selection, prepare = BASELINES[name]
                folder = root / f"baseline-{name}"
                folder.mkdir()
                with prepare(folder, environ) as context:
                    result = run_gate(folder, selection, context)
                baselines[name] = outcomes(result)
                red = sorted(i for i, c in baselines[name].items() if c["outcome"] == "failed")
                print(
                    f"baseline {name:<8} {result.summary.get('verdict')}  red: {', '.join(red) or 'none'}", flush=True
                )
            rows, strays = [], []
            reasons: dict[str, str] = {}
            for run in runs:
                folder = root / run.name
                folder.mkdir()
                with run.prepare(folder, environ) as context:
                    result = run_gate(folder, run.selection, context)
                checks = outcomes(result)
                for check_id in run.own:
                    item = checks.get(check_id, {})
                    red = item.get("outcome") == "failed"
                    rows.append(
                        (check_id, run.fault, red, item.get("category") or "-", item.get("duration_s"), result.wall_s)
                    )
                    reasons[check_id] = str(item.get("reason") or f"no result (exit {result.status})")
                    if not item:
                        print(f"  {check_id}: no result (exit {result.status})\n{result.output}", flush=True)
                baseline = baselines[run.baseline]
                for check_id, item in sorted(checks.items()):
                    green_before = baseline.get(check_id, {}).get("outcome") == "passed"
                    if item["outcome"] == "failed" and check_id not in run.own and green_before:
                        strays.append((check_id, run.fault, run.own, item.get("category"), item.get("reason")))
                print(f"  ran {run.name:<8} ({result.wall_s:5.1f} s)", flush=True)
        finally:
            box.stop()

    print()
    print(f"{'check':<6} {'fault':<58} {'red?':<5} {'category':<27} {'verdict after':>13} {'run':>7}")
    for check_id, fault, red, category, duration, wall in rows:
        after = f"{duration:.1f} s" if isinstance(duration, (int, float)) else "-"
        print(f"{check_id:<6} {fault:<58} {'yes' if red else 'NO':<5} {category:<27} {after:>13} {wall:6.1f}s")
    print()
    print("reasons:")
    for check_id, reason in reasons.items():
        print(f"  {check_id:<6} {reason[:150]}")
    own_red = sum(1 for row in rows if row[2])
    print()
    print(f"score: {own_red}/{len(rows)} checks turned red by their own fault")
    print("turned red by a fault that is not their own (green in the healthy baseline):")
    for check_id, fault, own, category, reason in strays:
        print(f"  {check_id} by {fault!r} (meant for {', '.join(own)}): [{category}] {reason}")
    if not strays:
        print("  none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
