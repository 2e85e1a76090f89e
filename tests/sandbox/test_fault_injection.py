"""Faults against the real sandbox: paused database and S3, fault switches, local storage."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import pytest
import requests

from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from pytest_wimmelgate.sandbox.launcher.stack import (
    BackendProcess,
    pause_database,
    pause_s3,
    resume_database,
    resume_s3,
)
from tests.sandbox.conftest import Api, extra_backend, wait_for


@pytest.fixture(scope="module")
def buggy_backend(sandbox: SandboxInfo) -> Iterator[BackendProcess]:
    """A second backend whose readiness ignores the DB and whose pushes all fail."""
    yield from extra_backend(sandbox, faults="readiness_ignores_db=1,push_failure_rate=1")


@pytest.fixture(scope="module")
def failing_backend(sandbox: SandboxInfo) -> Iterator[BackendProcess]:
    """A second backend answering 500 on every API request."""
    yield from extra_backend(sandbox, faults="error_rate=1", version="1.4.1", commit="n-1")


@pytest.fixture(scope="module")
def local_backend(sandbox: SandboxInfo) -> Iterator[BackendProcess]:
    """A second backend with FILE_STORAGE_MODE=local."""
    yield from extra_backend(sandbox, storage="local")


def _readiness(base_url: str) -> tuple[int, dict[str, object], float]:
    start = time.monotonic()
    answer = requests.get(base_url + "/readiness", timeout=10)
    return answer.status_code, answer.json(), time.monotonic() - start


def test_readiness_503_while_database_paused_then_200(sandbox: SandboxInfo) -> None:
    pause_database(sandbox)
    try:
        status, body, elapsed = _readiness(sandbox.base_url)
        assert status == 503
        assert body["status"] == "fail"
        assert body["failing"] == ["mongodb"]
        assert elapsed < 2.0
        health = requests.get(sandbox.base_url + "/health", timeout=5)
        assert health.status_code == 200
    finally:
        resume_database(sandbox)
    assert wait_for(lambda: _readiness(sandbox.base_url)[0] == 200, timeout_s=5)


def test_readiness_ignoring_the_database_stays_200(sandbox: SandboxInfo, buggy_backend: BackendProcess) -> None:
    pause_database(sandbox)
    try:
        status, body, _ = _readiness(buggy_backend.base_url)
        assert status == 200
        assert "mongodb" not in body["checks"]  # type: ignore[operator]
        assert _readiness(sandbox.base_url)[0] == 503
    finally:
        resume_database(sandbox)


def test_api_answers_503_while_database_paused(sandbox: SandboxInfo, api: Api) -> None:
    pause_database(sandbox)
    try:
        start = time.monotonic()
        answer = api.post("/messages", json={"to": "x", "body": "y", "tag": "wg-test-paused"})
        assert answer.status_code == 503
        assert time.monotonic() - start < 3.0
    finally:
        resume_database(sandbox)


def test_paused_s3_falls_back_to_local_folder(sandbox: SandboxInfo, api: Api, run_id: str) -> None:
    data = b"Wimmelwelt" * 1000
    pause_s3(sandbox)
    try:
        status, body, _ = _readiness(sandbox.base_url)
        assert status == 200
        assert body["checks"] == {"mongodb": "ok", "storage": "local-fallback"}
        created = api.post("/uploads", params={"name": "f.bin", "tag": run_id}, data=data)
        assert created.status_code == 201, created.text
        upload = created.json()
        assert upload["storage"] == "local-fallback"
        assert upload["sha256"] == hashlib.sha256(data).hexdigest()
        assert (sandbox.local_storage_path / "uploads" / upload["id"]).read_bytes() == data
        download = api.get(f"/uploads/{upload['id']}")
        assert download.content == data
        assert download.headers["X-Storage"] == "local-fallback"
        assert api.delete(f"/uploads/{upload['id']}").status_code == 204
    finally:
        resume_s3(sandbox)
    metrics = requests.get(sandbox.base_url + "/metrics", timeout=5).text
    line = next(x for x in metrics.splitlines() if x.startswith('storage_fallbacks_total{operation="put"}'))
    assert float(line.rsplit(" ", 1)[1]) >= 1  # synthetic traffic may add its own


def test_push_failure_rate_one_fails_every_delivery(
    sandbox: SandboxInfo, buggy_backend: BackendProcess, run_id: str
) -> None:
    api = Api(buggy_backend.base_url, sandbox, run_id)
    delivery = api.post("/push/test", json={"tag": run_id}).json()["delivery_id"]
    assert wait_for(lambda: api.get(f"/push/deliveries/{delivery}").json()["status"] == "failed", timeout_s=3)
    api.delete(f"/push/deliveries/{delivery}")
    metrics = requests.get(buggy_backend.base_url + "/metrics", timeout=5).text
    assert 'push_deliveries_total{result="failed"} 1.0' in metrics


def test_error_rate_one_breaks_the_api_but_not_probes(sandbox: SandboxInfo, failing_backend: BackendProcess) -> None:
    base = failing_backend.base_url
    login = requests.post(
        base + "/auth/login", timeout=5, json={"username": sandbox.smoke_user, "password": sandbox.smoke_password}
    )
    assert login.status_code == 500
    assert requests.get(base + "/messages", timeout=5).status_code == 500
    health = requests.get(base + "/health", timeout=5)
    assert health.status_code == 200
    assert health.json()["version"] == "1.4.1"
    assert requests.get(base + "/readiness", timeout=5).status_code == 200
    assert requests.get(base + "/metrics", timeout=5).status_code == 200


def test_local_storage_mode_roundtrip(sandbox: SandboxInfo, local_backend: BackendProcess, run_id: str) -> None:
    api = Api(local_backend.base_url, sandbox, run_id)
    data = bytes(range(256)) * 64
    created = api.post("/uploads", params={"name": "l.bin", "tag": run_id}, data=data).json()
    assert created["storage"] == "local"
    assert (sandbox.local_storage_path / "uploads" / created["id"]).read_bytes() == data
    assert api.get(f"/uploads/{created['id']}").content == data
    assert api.delete(f"/uploads/{created['id']}").status_code == 204
    assert not (sandbox.local_storage_path / "uploads" / created["id"]).exists()


def test_latency_and_flapping_readiness(sandbox: SandboxInfo) -> None:
    for backend in extra_backend(sandbox, faults="latency_ms=300,readiness_flap_rate=1"):
        status, body, elapsed = _readiness(backend.base_url)
        assert status == 503
        assert body["failing"] == ["flap"]
        assert elapsed >= 0.3
        start = time.monotonic()
        assert requests.get(backend.base_url + "/health", timeout=5).status_code == 200
        assert requests.get(backend.base_url + "/metrics", timeout=5).status_code == 200
        assert time.monotonic() - start < 0.3
