"""Fixtures for running the real gate suites against a real sandbox."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.sandbox.launcher.gate_run import variables_of
from pytest_wimmelgate.sandbox.launcher.history import seed
from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from pytest_wimmelgate.sandbox.launcher.stack import Sandbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    """One sandbox for this test process (no Prometheus: the metric tests bring their own)."""
    box = Sandbox(
        tmp_path_factory.mktemp("sandbox"),
        storage="s3",
        traffic_rps=0,
        prometheus="off",
        alertmanager="off",
        login_limit=5,
    )
    try:
        info = box.start()
        seed(info)
        yield info
    finally:
        box.stop()


@pytest.fixture(autouse=True)
def html_report_only_where_searched(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner gate runs skip the Allure HTML report unless the test is marked ``full_report`` (tests/conftest.py)."""
    if request.node.get_closest_marker("full_report") is None:
        monkeypatch.setenv("WIMMELGATE_REPORT", "off")
    else:
        monkeypatch.delenv("WIMMELGATE_REPORT", raising=False)


@pytest.fixture
def sandbox_env(sandbox: SandboxInfo, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point inner gate runs at the shared sandbox (so they do not start their own)."""
    variables = variables_of(sandbox)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return variables


def run_gate(pytester: pytest.Pytester, *args: str, timeout: float = 180) -> pytest.RunResult:
    """Run the project's suites in a subprocess with the release folder in the test's folder."""
    return pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(ROOT),
        "-c",
        str(ROOT / "pyproject.toml"),
        "--wg-release-dir",
        str(pytester.path / "rel"),
        str(ROOT / "suites"),
        *args,
        timeout=timeout,
    )


def newest_summary(pytester: pytest.Pytester) -> dict[str, Any]:
    found = sorted((pytester.path / "rel").rglob("gate-summary.json"), key=os.path.getmtime)
    assert found, "the gate run wrote no gate-summary.json"
    return dict(json.loads(found[-1].read_text()))


def check(summary: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in summary["checks"] if c["id"] == check_id)
