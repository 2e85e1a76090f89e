"""``python -m pytest_wimmelgate.sandbox``: run a sandbox in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import TextIO

from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from pytest_wimmelgate.sandbox.launcher.processes import SandboxError
from pytest_wimmelgate.sandbox.launcher.stack import MODES, Sandbox


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wimmelgate sandbox",
        description="Run the reference Wimmelwelt backend with MongoDB (SecantusDB), S3 "
        "(moto), Prometheus and Alertmanager on 127.0.0.1 until Ctrl-C.",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="data, logs and pid files (default: a temporary directory, removed on exit)",
    )
    parser.add_argument("--storage", choices=("s3", "local"), default="s3")
    parser.add_argument("--faults", default="", help="fault spec, e.g. error_rate=0.1,latency_ms=600")
    parser.add_argument("--traffic-rps", type=float, default=5.0, help="synthetic requests per second (0: off)")
    parser.add_argument(
        "--version", dest="app_version", default="0.0.0-sandbox", help="version the backend reports on /health"
    )
    parser.add_argument("--commit", default="sandbox", help="commit the backend reports")
    parser.add_argument("--prometheus", choices=MODES, default="auto")
    parser.add_argument("--alertmanager", choices=MODES, default="auto")
    parser.add_argument("--scrape-interval", type=float, default=1.0, metavar="SECONDS")
    parser.add_argument("--dialect", default="wimmelwelt", help="API dialect of the backend (default wimmelwelt)")
    return parser


def describe(info: SandboxInfo, out: TextIO) -> None:
    """Print the endpoints; credentials only by variable name, never by value."""
    rows = [
        ("backend", info.base_url),
        ("MongoDB", info.mongodb_uri),
        ("S3", f"{info.s3_endpoint} (bucket {info.s3_bucket}, storage {info.storage_mode})"),
        ("Prometheus", info.prometheus_url or "off"),
        ("Alertmanager", info.alertmanager_url or "off"),
        ("dialect", info.dialect),
        ("backend log", str(info.backend_log_file)),
        ("workdir", str(info.workdir)),
    ]
    for label, value in rows:
        print(f"  {label:<13} {value}", file=out)
    print(
        f"  smoke login   WIMMELGATE_SANDBOX_USER / WIMMELGATE_SANDBOX_PASSWORD "
        f"(source {info.workdir / 'sandbox.env'})",
        file=out,
    )
    print(f"  sandbox info  {info.workdir / 'sandbox.json'}", file=out)
    if info.faults:
        print(f"  faults        {info.faults}", file=out)


def write_gates_env(info: SandboxInfo) -> Path:
    """``gates.env`` in the workdir: ``export SANDBOX_...`` lines for gate runs (mode 0600)."""
    import shlex

    path = info.workdir / "gates.env"
    lines = [f"export {name}={shlex.quote(value)}" for name, value in info.gate_variables().items()]
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_foreground(argv: list[str] | None = None) -> int:
    """Start, print the URLs, wait for Ctrl-C or SIGTERM, stop; 0 on a clean stop."""
    args = _parser().parse_args(argv)
    workdir = args.workdir
    temporary = workdir is None
    if temporary:
        workdir = Path(tempfile.mkdtemp(prefix="wimmelgate-sandbox-"))
    sandbox = Sandbox(
        workdir,
        storage=args.storage,
        faults=args.faults,
        traffic_rps=args.traffic_rps,
        version=args.app_version,
        commit=args.commit,
        prometheus=args.prometheus,
        alertmanager=args.alertmanager,
        scrape_interval_s=args.scrape_interval,
        dialect=args.dialect,
        history=True,
    )
    # Ctrl-C stops the sandbox even when this process was started with SIGINT ignored
    # (as background jobs of a non-interactive shell are).
    previous = signal.signal(signal.SIGTERM, _interrupt)
    previous_int = signal.signal(signal.SIGINT, _interrupt)
    status = 0
    try:
        print("wimmelgate sandbox: starting ...", file=sys.stderr, flush=True)
        info = sandbox.start()
        gates_env = write_gates_env(info)
        print("wimmelgate sandbox: running (Ctrl-C to stop)", flush=True)
        describe(info, sys.stdout)
        print(f"  point gates   source {gates_env}   # then: pytest -m staging_gate (no second sandbox)", flush=True)
        sys.stdout.flush()
        if info.prometheus_url and args.traffic_rps > 0:
            ready = sandbox.wait_for_metric_data()
            print(f"  metrics       {'ready for the metric gates' if ready else 'no data yet'}", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nwimmelgate sandbox: stopping ...", file=sys.stderr, flush=True)
    except SandboxError as exc:
        print(f"wimmelgate sandbox: {exc}", file=sys.stderr)
        status = 1
    finally:
        try:
            # the stop is bounded (under a second): a second Ctrl-C must not cut it short
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            sandbox.stop()
        finally:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)
            if temporary:
                shutil.rmtree(workdir, ignore_errors=True)
    return status
