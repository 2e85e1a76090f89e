"""Helpers for the metric and alerting gate tests: inner environment files, env vars, Allure.

Every inner run of `tests/gates/test_metric_gates.py` starts its own sandbox; the
environment files written here extend ``environments/sandbox.yaml`` and shorten only the
windows (limits are inherited, so they stay the staging limits of the runbook).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import pytest
import yaml

from tests.gates.conftest import ROOT

SANDBOX_YAML = ROOT / "environments" / "sandbox.yaml"
SHIPPED_CONFIG = ROOT / "pytest_wimmelgate" / "sandbox" / "config"
METRIC_GATES = ("-m", "post_deploy or rollback_trigger", "-k", "not saved and not grafana")
POST_DEPLOY = ("-m", "post_deploy", "-k", "not saved and not grafana")
PD = ("PD-1", "PD-2", "PD-3", "PD-4")
RT = ("RT-1", "RT-2", "RT-3", "RT-4")
#: variables of an outer shell that would point the inner run elsewhere or change it
OUTER_VARIABLES = (
    "WIMMELGATE_ENV",
    "WIMMELGATE_SANDBOX_FAULTS",
    "WIMMELGATE_SANDBOX_PROMETHEUS",
    "WIMMELGATE_SANDBOX_ALERTMANAGER",
    "WIMMELGATE_WATCH",
    "WIMMELGATE_WATCH_INTERVAL",
)

#: every objective and trigger of sandbox.yaml with a 1-minute window (limits inherited)
SHORT_WINDOWS: dict[str, Any] = {
    "metrics": {
        "objectives": {check_id: {"window": "1m"} for check_id in PD},
        "triggers": {check_id: {"window": "1m"} for check_id in RT},
    }
}


def own_sandbox(
    monkeypatch: pytest.MonkeyPatch, *, faults: str = "", prometheus: str = "auto", alertmanager: str = "auto"
) -> None:
    """Make the inner run start its own sandbox with these faults and monitoring modes."""
    for name in list(os.environ):
        if name.startswith("SANDBOX_") or name in OUTER_VARIABLES:
            monkeypatch.delenv(name, raising=False)
    if faults:
        monkeypatch.setenv("WIMMELGATE_SANDBOX_FAULTS", faults)
    monkeypatch.setenv("WIMMELGATE_SANDBOX_PROMETHEUS", prometheus)
    monkeypatch.setenv("WIMMELGATE_SANDBOX_ALERTMANAGER", alertmanager)


def env_file(
    pytester: pytest.Pytester, name: str, overrides: Mapping[str, Any] | None = None, *, short: bool = True
) -> str:
    """``<name>.yaml`` extending sandbox.yaml: 1-minute windows (unless ``short=False``)
    deep-merged with ``overrides`` (the loader merges the result onto sandbox.yaml)."""
    document: dict[str, Any] = {"extends": str(SANDBOX_YAML), "name": name}
    document = _merge(document, SHORT_WINDOWS if short else {})
    document = _merge(document, overrides or {})
    path = pytester.path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return str(path)


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def outcomes(summary: dict[str, Any], *ids: str) -> dict[str, str]:
    by_id = {c["id"]: c["outcome"] for c in summary["checks"]}
    return {i: by_id.get(i, "absent") for i in ids}


def run_dir(pytester: pytest.Pytester) -> Path:
    found = sorted((pytester.path / "rel").rglob("gate-summary.json"), key=os.path.getmtime)
    assert found, "the gate run wrote no gate-summary.json"
    return found[-1].parent


def allure_result(pytester: pytest.Pytester, check_id: str) -> dict[str, Any]:
    """The Allure ``*-result.json`` of the test labelled with ``check_id``."""
    for path in (run_dir(pytester) / "allure-results").glob("*-result.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if {"name": "check", "value": check_id} in data.get("labels", []):
            return dict(data)
    raise AssertionError(f"no Allure result labelled check={check_id}")


def allure_parameter(result: dict[str, Any], name: str) -> str | None:
    for item in result.get("parameters", []):
        if item.get("name") == name:
            return str(item.get("value")).strip("'\"")
    return None


def allure_attachment(pytester: pytest.Pytester, result: dict[str, Any], name: str) -> str:
    for item in result.get("attachments", []):
        if item.get("name") == name:
            return (run_dir(pytester) / "allure-results" / item["source"]).read_text(encoding="utf-8")
    raise AssertionError(f"no attachment {name!r} in {result.get('name')}")


def output(result: pytest.RunResult) -> str:
    """The tail of an inner run's output, for assertion messages."""
    return (result.stdout.str() + result.stderr.str())[-4000:]


# ------------------------------------------------------------------ a gate run watched live


class LiveGate:
    """An inner gate run as a process of its own session (like a terminal's foreground job),
    whose output lines are collected as they arrive, each noting whether the run still ran."""

    def __init__(self, pytester: pytest.Pytester, *args: str) -> None:
        argv = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(ROOT),
            "-c",
            str(ROOT / "pyproject.toml"),
            f"--wg-release-dir={pytester.path / 'rel'}",
            str(ROOT / "suites"),
            *args,
        ]
        self.process = subprocess.Popen(
            argv, cwd=pytester.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        self.lines: list[tuple[str, str, bool]] = []  # (stream, line, still running)
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(name, stream), daemon=True)
            for name, stream in (("stdout", self.process.stdout), ("stderr", self.process.stderr))
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, name: str, stream: IO[bytes] | None) -> None:
        assert stream is not None
        for raw in stream:
            running = self.process.poll() is None
            with self._changed:
                self.lines.append((name, raw.decode("utf-8", "replace").rstrip("\n"), running))
                self._changed.notify_all()

    def wait_for_line(self, needle: str, timeout: float = 120) -> tuple[str, str, bool]:
        """The first line containing ``needle`` (waits for it, or fails with the output so far)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((line for line in self.lines if needle in line[1]), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not any(r.is_alive() for r in self._readers)):
                    raise AssertionError(f"no line with {needle!r}; output:\n{self.text()[-4000:]}")
                self._changed.wait(min(left, 0.5))

    def interrupt(self, times: int = 1) -> None:
        """Ctrl-C as a terminal sends it: SIGINT to the run's whole process group."""
        for _ in range(times):
            os.killpg(self.process.pid, signal.SIGINT)
            time.sleep(0.1)

    def wait(self, timeout: float) -> int:
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    def text(self, stream: str | None = None) -> str:
        return "\n".join(line for name, line, _ in self.lines if stream in (None, name))

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
