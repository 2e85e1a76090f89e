"""Fixtures for the sandbox's own tests: one real sandbox per session, small clients."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from pytest_wimmelgate.sandbox.launcher.stack import BackendProcess, Sandbox, start_backend

TIMEOUT_S = 10.0


class Api:
    """A requests session against one backend, logged in as the smoke user."""

    def __init__(self, base_url: str, info: SandboxInfo, run_id: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["X-Wimmelgate-Run"] = run_id
        answer = self.post("/auth/login", json={"username": info.smoke_user, "password": info.smoke_password})
        assert answer.status_code == 200, answer.text
        self.session.headers["Authorization"] = f"Bearer {answer.json()['token']}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT_S)
        return self.session.request(method, self.base_url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    """A running sandbox (S3 storage, no Prometheus) shared by the session."""
    box = Sandbox(tmp_path_factory.mktemp("sandbox"), prometheus="off", alertmanager="off", traffic_rps=2.0)
    try:
        yield box.start()
    finally:
        box.stop()


@pytest.fixture
def run_id() -> str:
    """A tag unique to the test, as gates tag what they create."""
    return f"wg-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def api(sandbox: SandboxInfo, run_id: str) -> Api:
    """The smoke user's client against the main backend."""
    return Api(sandbox.base_url, sandbox, run_id)


def extra_backend(info: SandboxInfo, **kwargs: Any) -> Iterator[BackendProcess]:
    backend = start_backend(info, **kwargs)
    try:
        yield backend
    finally:
        backend.stop()


def wait_for(predicate: Any, timeout_s: float, interval_s: float = 0.05) -> bool:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())


def pids_in(workdir: Path) -> list[int]:
    from pytest_wimmelgate.sandbox.launcher.processes import read_pid_file

    records = [read_pid_file(path) for path in (workdir / "pids").glob("*.pid")]
    return [record.pid for record in records if record is not None]


def watchdogs_in(workdir: Path) -> list[int]:
    """The watchdog pids the pid files name (third line)."""
    from pytest_wimmelgate.sandbox.launcher.processes import read_pid_file

    records = [read_pid_file(path) for path in (workdir / "pids").glob("*.pid")]
    return [record.watchdog for record in records if record is not None and record.watchdog is not None]
