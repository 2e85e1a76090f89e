"""Starting the reference backend for one gate run and stopping it at the end.

The controller starts one sandbox with only what the selected checks read: Prometheus
when a check reads ``metrics`` or ``alerting``, Alertmanager when one reads ``alerting``
or ``alertmanager`` (and the ``sandbox`` section allows it). It waits for the data those
checks need, then hands the endpoints to the environment as ``SANDBOX_*`` variables;
xdist workers receive the same variables, so they share it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_wimmelgate.errors import ConfigError

if TYPE_CHECKING:
    import pytest

    from pytest_wimmelgate.config.environment import Environment
    from pytest_wimmelgate.sandbox.launcher.stack import Sandbox


def variables_of(info: Any) -> dict[str, str]:
    """The interpolation variables a running sandbox provides."""
    return dict(info.gate_variables())


def sandbox_for(env: Environment, workdir: Path, needed: Iterable[str]) -> Sandbox:
    """The `Sandbox` that ``env``'s ``sandbox`` section describes (``dialect`` included),
    with monitoring only for the checks reading ``needed`` sections."""
    from pytest_wimmelgate.config import sections
    from pytest_wimmelgate.sandbox.launcher import monitoring
    from pytest_wimmelgate.sandbox.launcher.stack import Sandbox

    settings = sections.parser_of("sandbox")(env.get("sandbox"), env.source)
    prometheus, alertmanager = monitoring.modes_for(needed, settings.prometheus, settings.alertmanager)
    return Sandbox(
        workdir,
        storage=settings.storage,
        faults=settings.faults,
        traffic_rps=settings.traffic_rps,
        version=settings.version,
        commit=settings.commit,
        prometheus=prometheus,
        alertmanager=alertmanager,
        dialect=settings.dialect,
        history=True,
    )


def warm_up(sandbox: Sandbox, needed: Iterable[str]) -> None:
    """Wait for the metric data when a selected check reads ``metrics`` and traffic flows."""
    if "metrics" in set(needed) and sandbox.traffic_rps > 0:
        sandbox.wait_for_metric_data()


def start_for_run(config: pytest.Config, env: Environment, needed: tuple[str, ...] = ()) -> dict[str, str]:
    """Start the sandbox described by ``env``'s ``sandbox`` section; stop it at cleanup."""
    from pytest_wimmelgate.sandbox.launcher.processes import SandboxError

    workdir = Path(tempfile.mkdtemp(prefix="wimmelgate-sandbox-"))
    try:
        sandbox = sandbox_for(env, workdir, needed)
    except BaseException as error:
        shutil.rmtree(workdir, ignore_errors=True)
        if isinstance(error, ImportError):
            raise _missing_extra(env, error) from None
        raise

    def stop() -> None:
        sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    config.add_cleanup(stop)
    try:
        info = sandbox.start()
    except SandboxError as error:
        raise ConfigError(env.source, "sandbox", f"a sandbox that starts: {error}") from None
    except ImportError as error:
        raise _missing_extra(env, error) from None
    warm_up(sandbox, needed)
    return variables_of(info)


def _missing_extra(env: Environment, error: ImportError) -> ConfigError:
    return ConfigError(
        env.source, "sandbox", f"the sandbox extra installed (pip install 'pytest-wimmelgate[sandbox]'): {error}"
    )
