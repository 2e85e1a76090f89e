"""Prometheus and Alertmanager for the sandbox: when to start them, config files, command lines."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from string import Template

from pytest_wimmelgate.sandbox.launcher.processes import SandboxError

RULES_FILE = "alert-rules.yml"
ALERTMANAGER_FILE = "alertmanager.yml"
PROMETHEUS_TEMPLATE = "prometheus.yml.tmpl"
PROMETHEUS_BINARY = "prometheus"
ALERTMANAGER_BINARY = "prometheus-alertmanager"
SCRAPE_JOB = "wimmelwelt-backend"
MODES = ("auto", "on", "off")
#: scrape and evaluation interval of the sandbox's Prometheus: short, so a fresh one holds
#: the two samples a rate needs soon after its first scrape
SCRAPE_INTERVAL_S = 0.25
#: environment-file sections whose checks read Prometheus (PD-*, RT-*, RV-4; AL-1) ...
PROMETHEUS_READERS = frozenset({"metrics", "alerting"})
#: ... and Alertmanager (AL-2 reads its route tree, GL-4 its alerts)
ALERTMANAGER_READERS = frozenset({"alerting", "alertmanager"})


def modes_for(needed: Iterable[str], prometheus: str, alertmanager: str) -> tuple[str, str]:
    """The ``(prometheus, alertmanager)`` modes for checks reading ``needed`` sections:
    the configured mode where a check reads the component, ``off`` where none does."""
    sections = set(needed)
    return (
        prometheus if sections & PROMETHEUS_READERS else "off",
        alertmanager if sections & ALERTMANAGER_READERS else "off",
    )


def shipped_config(name: str) -> str:
    """The text of a config file shipped in ``pytest_wimmelgate/sandbox/config/``."""
    return resources.files("pytest_wimmelgate.sandbox").joinpath("config", name).read_text(encoding="utf-8")


def install_configs(target: Path) -> tuple[Path, Path]:
    """Copy the alert rules and the Alertmanager config into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    rules = target / RULES_FILE
    rules.write_text(shipped_config(RULES_FILE), encoding="utf-8")
    alertmanager = target / ALERTMANAGER_FILE
    alertmanager.write_text(shipped_config(ALERTMANAGER_FILE), encoding="utf-8")
    return rules, alertmanager


def duration(seconds: float) -> str:
    """A Prometheus duration such as ``1s`` or ``500ms``."""
    millis = max(1, round(seconds * 1000))
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


def render_prometheus_config(
    *, backend_target: str, rules_file: Path, alertmanager_target: str | None, scrape_interval_s: float
) -> str:
    """prometheus.yml scraping the backend and loading the rules (and alerting if given)."""
    alerting = ""
    if alertmanager_target:
        alerting = (
            f'\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ["{alertmanager_target}"]\n'
        )
    return Template(shipped_config(PROMETHEUS_TEMPLATE)).substitute(
        interval=duration(scrape_interval_s),
        timeout=duration(min(scrape_interval_s, 10.0) * 0.9),
        rules_file=str(rules_file),
        alerting=alerting,
        backend_target=backend_target,
        job=SCRAPE_JOB,
    )


def find_binary(name: str) -> str | None:
    return shutil.which(name)


def binary_for(mode: str, name: str) -> str | None:
    """The binary to run in ``mode``: ``off`` none, ``auto`` if on PATH, ``on`` or an error."""
    if mode not in MODES:
        raise SandboxError(f"{name}: mode {mode!r}, expected one of {', '.join(MODES)}")
    if mode == "off":
        return None
    found = find_binary(name)
    if found is None and mode == "on":
        raise SandboxError(f"{name} not found on PATH (requested with mode 'on')")
    return found


def prometheus_command(binary: str, *, config: Path, data: Path, port: int) -> list[str]:
    return [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=1d",
    ]


def alertmanager_command(binary: str, *, config: Path, data: Path, port: int) -> list[str]:
    return [
        binary,
        f"--config.file={config}",
        f"--storage.path={data}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
