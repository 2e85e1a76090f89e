"""Starting the reference backend for one gate run and stopping it at the end.

The controller starts one sandbox and hands its endpoints to the environment as
``SANDBOX_*`` variables; xdist workers receive the same variables, so they share it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.errors import ConfigError


def variables_of(info: Any) -> dict[str, str]:
    """The interpolation variables a running sandbox provides."""
    return dict(info.gate_variables())


def start_for_run(config: pytest.Config, env: Environment, needed: tuple[str, ...] = ()) -> dict[str, str]:
    """Start the sandbox described by ``env``'s ``sandbox`` section; stop it at cleanup."""
    try:
        from pytest_wimmelgate.sandbox.launcher.processes import SandboxError
        from pytest_wimmelgate.sandbox.launcher.stack import Sandbox
    except ImportError as error:
        raise ConfigError(
            env.source, "sandbox", f"the sandbox extra installed (pip install 'pytest-wimmelgate[sandbox]'): {error}"
        ) from None
    workdir = Path(tempfile.mkdtemp(prefix="wimmelgate-sandbox-"))
    sandbox = Sandbox(
        workdir,
        storage=str(env.get("sandbox.storage", "s3")),
        faults=str(env.get("sandbox.faults", "") or ""),
        traffic_rps=float(env.get("sandbox.traffic_rps", 5)),
        version=str(env.get("sandbox.version", "0.0.0-sandbox")),
        commit=str(env.get("sandbox.commit", "sandbox")),
        prometheus=str(env.get("sandbox.prometheus", "auto")),
        alertmanager=str(env.get("sandbox.alertmanager", "auto")),
    )

    def stop() -> None:
        sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    config.add_cleanup(stop)
    try:
        info = sandbox.start()
    except SandboxError as error:
        raise ConfigError(env.source, "sandbox", f"a sandbox that starts: {error}") from None
    from pytest_wimmelgate.sandbox.launcher.history import seed

    seed(info)
    if "metrics" in needed and info.prometheus_url:
        wait_for_metric_data(info.prometheus_url)
    return variables_of(info)


WARM_UP_QUERIES = (
    "sum(rate(http_requests_total[1m]))",
    "sum(rate(readiness_checks_total[1m]))",
    "sum(rate(push_deliveries_total[1m]))",
)
WARM_UP_SCRAPES = 10


def wait_for_metric_data(prometheus_url: str, *, bound_s: float = 60.0, scrapes: int = WARM_UP_SCRAPES) -> bool:
    """Wait until a fresh sandbox's Prometheus holds traffic, as staging always does.

    Rates must be non-zero and the backend scraped ``scrapes`` times, so that a rate over
    a short window sees enough requests for a fault rate to show. Returns False when the
    bound passes first; the metric checks then say "no data".
    """
    from pytest_wimmelgate.core.waiting import poll_until
    from pytest_wimmelgate.errors import ProbeError
    from pytest_wimmelgate.probes import prometheus

    def has_data() -> bool:
        for query in WARM_UP_QUERIES:
            values = prometheus.query(prometheus_url, query, timeout=2).values()
            if not values or not all(v > 0 for v in values):
                return False
        seen = prometheus.query(prometheus_url, "max(count_over_time(up[5m]))", timeout=2).values()
        return bool(seen) and seen[0] >= scrapes

    return poll_until(has_data, bound_s=bound_s, interval_s=0.5, tolerate=(ProbeError,))
