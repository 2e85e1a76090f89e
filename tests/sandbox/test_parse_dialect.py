"""The backend's second API dialect ("parse") against a real sandbox (SecantusDB, moto S3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from pytest_wimmelgate.sandbox.launcher.stack import (
    BackendProcess,
    Sandbox,
    pause_database,
    pause_s3,
    resume_database,
    resume_s3,
)
from pytest_wimmelgate.sandbox.service.backend_settings import DEFAULT_APP_ID
from tests.sandbox.conftest import extra_backend, wait_for

TIMEOUT_S = 10.0
APP = {"X-App-Id": DEFAULT_APP_ID}
NO_RECORDS = {"messages": 0, "uploads": 0, "push": 0, "sessions": 0}


class ParseApi:
    """A requests session against a parse-dialect backend, tagged with the test's run id."""

    def __init__(self, base_url: str, run_id: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers.update({**APP, "X-Wimmelgate-Run": run_id})

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT_S)
        return self.session.request(method, self.base_url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def login(self, username: str, password: str) -> str:
        answer = self.post("/parse/login", json={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        token = str(answer.json()["sessionToken"])
        self.session.headers["X-Session-Token"] = token
        return token

    def logout(self) -> None:
        assert self.post("/parse/logout").status_code == 200
        self.session.headers.pop("X-Session-Token", None)


@pytest.fixture(scope="module")
def parse_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    """A running sandbox whose backend serves the parse dialect."""
    box = Sandbox(
        tmp_path_factory.mktemp("parse-sandbox"),
        dialect="parse",
        prometheus="off",
        alertmanager="off",
        traffic_rps=2.0,
        version="2.3.4",
        commit="c0ffee",
    )
    try:
        yield box.start()
    finally:
        box.stop()


@pytest.fixture
def parse_api(parse_sandbox: SandboxInfo, run_id: str) -> Iterator[ParseApi]:
    """The smoke user's session, logged out after the test."""
    client = ParseApi(parse_sandbox.base_url, run_id)
    client.login(parse_sandbox.smoke_user, parse_sandbox.smoke_password)
    yield client
    if "X-Session-Token" in client.session.headers:
        client.post("/parse/logout")


def stats(info: SandboxInfo | BackendProcess) -> dict[str, Any]:
    answer = requests.get(info.base_url + "/_sandbox/stats", timeout=5)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def tagged(info: SandboxInfo, tag: str) -> dict[str, int]:
    return dict(stats(info)["by_tag"].get(tag, NO_RECORDS))


def metric(base_url: str, prefix: str) -> float:
    text = requests.get(base_url + "/metrics", timeout=5).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


# -- the frame: app id, probes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/parse/status"),
        ("GET", "/parse/about"),
        ("POST", "/parse/login"),
        ("POST", "/parse/users"),
        ("GET", "/parse/classes/Message"),
        ("POST", "/parse/files/a.bin"),
        ("POST", "/parse/push"),
        ("GET", "/parse/readiness"),
    ],
)
def test_every_parse_request_needs_the_app_id(parse_sandbox: SandboxInfo, method: str, path: str) -> None:
    for headers in ({}, {"X-App-Id": "another-app"}):
        answer = requests.request(method, parse_sandbox.base_url + path, headers=headers, timeout=5)
        assert answer.status_code == 403
        assert answer.json() == {"code": 119, "error": "unauthorized"}


def test_metrics_and_sandbox_routes_need_no_app_id(parse_sandbox: SandboxInfo) -> None:
    for path in ("/metrics", "/_sandbox/ready", "/_sandbox/stats"):
        assert requests.get(parse_sandbox.base_url + path, timeout=5).status_code == 200, path
    assert requests.get(parse_sandbox.base_url + "/_sandbox/ready", timeout=5).json() == {"ready": True}


def test_status_carries_no_version_about_does(parse_sandbox: SandboxInfo) -> None:
    status = requests.get(parse_sandbox.base_url + "/parse/status", headers=APP, timeout=5)
    assert (status.status_code, status.json()) == (200, {"status": "ok"})
    about = requests.get(parse_sandbox.base_url + "/parse/about", headers=APP, timeout=5)
    assert about.status_code == 200
    assert about.json() == {"serverVersion": "2.3.4", "build": {"commit": "c0ffee"}}


@pytest.mark.parametrize("path", ["/parse/readiness", "/readiness", "/health", "/auth/login"])
def test_there_is_no_readiness_endpoint_nor_the_default_api(parse_sandbox: SandboxInfo, path: str) -> None:
    assert requests.get(parse_sandbox.base_url + path, headers=APP, timeout=5).status_code == 404


# -- users and sessions --------------------------------------------------------------------


def test_signup_creates_once_then_answers_account_exists(parse_sandbox: SandboxInfo, run_id: str) -> None:
    client = ParseApi(parse_sandbox.base_url, run_id)
    credentials = {"username": f"wg-signup-{uuid.uuid4().hex[:8]}", "password": "pw-" + uuid.uuid4().hex}
    created = client.post("/parse/users", json=credentials)
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"objectId", "sessionToken"}
    token = created.json()["sessionToken"]
    me = client.get("/parse/users/me", headers={"X-Session-Token": token})
    assert me.json() == {"objectId": created.json()["objectId"], "username": credentials["username"]}
    again = client.post("/parse/users", json=credentials)
    assert again.status_code == 400
    assert again.json() == {"code": 202, "error": "Account already exists for this username."}
    smoke = client.post("/parse/users", json={"username": parse_sandbox.smoke_user, "password": "whatever"})
    assert smoke.json()["code"] == 202
    assert client.post("/parse/logout", headers={"X-Session-Token": token}).status_code == 200
    assert tagged(parse_sandbox, run_id) == NO_RECORDS


def test_login_answers_token_and_rejects_wrong_password_and_unknown_user(
    parse_sandbox: SandboxInfo, run_id: str
) -> None:
    client = ParseApi(parse_sandbox.base_url, run_id)
    good = client.post(
        "/parse/login", json={"username": parse_sandbox.smoke_user, "password": parse_sandbox.smoke_password}
    )
    assert good.status_code == 200
    assert set(good.json()) == {"objectId", "username", "sessionToken"}
    assert good.json()["username"] == parse_sandbox.smoke_user
    assert "token" not in good.json()
    for username, password in ((parse_sandbox.smoke_user, "wrong"), (f"nobody-{run_id}", "wrong")):
        answer = client.post("/parse/login", json={"username": username, "password": password})
        assert answer.status_code == 404
        assert answer.json() == {"code": 101, "error": "Invalid username/password."}
    client.post("/parse/logout", headers={"X-Session-Token": good.json()["sessionToken"]})


def test_login_rate_limit_is_429_code_155_without_retry_after(parse_sandbox: SandboxInfo, run_id: str) -> None:
    client = ParseApi(parse_sandbox.base_url, run_id)
    throwaway = f"wg-ratelimit-{uuid.uuid4().hex[:8]}"
    answers = [client.post("/parse/login", json={"username": throwaway, "password": "wrong"}) for _ in range(7)]
    assert [a.status_code for a in answers] == [404] * 5 + [429, 429]
    assert answers[-1].json() == {"code": 155, "error": "Too many requests"}
    assert "Retry-After" not in answers[-1].headers
    client.login(parse_sandbox.smoke_user, parse_sandbox.smoke_password)  # other usernames are not limited
    client.logout()


def test_session_token_goes_in_its_own_header(parse_sandbox: SandboxInfo, parse_api: ParseApi) -> None:
    token = parse_api.session.headers["X-Session-Token"]
    me = parse_api.get("/parse/users/me")
    assert me.status_code == 200
    assert me.json()["username"] == parse_sandbox.smoke_user
    assert set(me.json()) == {"objectId", "username"}
    url = parse_sandbox.base_url + "/parse/users/me"
    for headers in ({}, {"X-Session-Token": "abc.def"}, {"Authorization": f"Bearer {token}"}):
        answer = requests.get(url, headers={**APP, **headers}, timeout=5)
        assert answer.status_code == 401, headers
        assert answer.json() == {"code": 209, "error": "Invalid session token"}


def test_logout_ends_the_session(parse_sandbox: SandboxInfo, parse_api: ParseApi) -> None:
    token = parse_api.session.headers["X-Session-Token"]
    logout = parse_api.post("/parse/logout")
    assert (logout.status_code, logout.json()) == (200, {})
    headers = {**APP, "X-Session-Token": str(token)}
    assert requests.get(parse_sandbox.base_url + "/parse/users/me", headers=headers, timeout=5).status_code == 401
    assert requests.post(parse_sandbox.base_url + "/parse/logout", headers=headers, timeout=5).status_code == 401


# -- messages ------------------------------------------------------------------------------


def test_messages_create_read_query_delete(parse_sandbox: SandboxInfo, parse_api: ParseApi, run_id: str) -> None:
    created = parse_api.post("/parse/classes/Message", json={"recipient": "someone", "text": "Hallo", "runTag": run_id})
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"objectId", "createdAt"}
    object_id = created.json()["objectId"]
    read = parse_api.get(f"/parse/classes/Message/{object_id}")
    assert read.status_code == 200
    assert read.json() == {
        "objectId": object_id,
        "recipient": "someone",
        "text": "Hallo",
        "runTag": run_id,
        "createdAt": created.json()["createdAt"],
    }
    where = {"where": json.dumps({"runTag": run_id})}
    assert parse_api.get("/parse/classes/Message", params=where).json() == {"results": [read.json()]}
    assert tagged(parse_sandbox, run_id)["messages"] == 1
    deleted = parse_api.delete(f"/parse/classes/Message/{object_id}")
    assert (deleted.status_code, deleted.json()) == (200, {})
    gone = parse_api.get(f"/parse/classes/Message/{object_id}")
    assert (gone.status_code, gone.json()) == (404, {"code": 101, "error": "Object not found."})
    assert parse_api.get("/parse/classes/Message", params=where).json() == {"results": []}
    assert tagged(parse_sandbox, run_id)["messages"] == 0


def test_message_routes_need_a_session_and_valid_input(parse_sandbox: SandboxInfo, parse_api: ParseApi) -> None:
    anonymous = requests.post(
        parse_sandbox.base_url + "/parse/classes/Message", headers=APP, json={"recipient": "x", "text": "y"}, timeout=5
    )
    assert anonymous.status_code == 401
    assert parse_api.post("/parse/classes/Message", data=b"not json").json()["code"] == 107
    assert parse_api.post("/parse/classes/Message", json={"recipient": "x"}).status_code == 400
    bad_where = parse_api.get("/parse/classes/Message", params={"where": json.dumps({"owner": "x"})})
    assert (bad_where.status_code, bad_where.json()["code"]) == (400, 102)


def test_the_database_query_answers_without_a_session(parse_sandbox: SandboxInfo) -> None:
    answer = requests.get(
        parse_sandbox.base_url + "/parse/classes/Message", headers=APP, params={"limit": "1"}, timeout=5
    )
    assert answer.status_code == 200
    assert answer.json() == {"results": []}


# -- files ---------------------------------------------------------------------------------


def _upload_roundtrip(info: SandboxInfo, api: ParseApi, run_id: str, data: bytes, storage: str) -> None:
    created = api.post("/parse/files/probe.bin", data=data, headers={"Content-Type": "image/png"})
    assert created.status_code == 201, created.text
    assert created.headers["X-Storage"] == storage
    body = created.json()
    assert set(body) == {"name", "url"}
    assert body["name"].endswith("_probe.bin")
    assert body["url"] == f"{info.base_url}/parse/files/{body['name']}"
    key = "uploads/" + body["name"].split("_", 1)[0]
    assert _stored(info, storage, key) == data
    assert tagged(info, run_id)["uploads"] == 1
    download = requests.get(body["url"], headers=APP, timeout=5)
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["Content-Type"] == "image/png"
    deleted = requests.delete(body["url"], headers=APP, timeout=5)
    assert (deleted.status_code, deleted.json()) == (200, {})
    assert requests.get(body["url"], headers=APP, timeout=5).status_code == 404
    assert _stored(info, storage, key) is None
    assert tagged(info, run_id)["uploads"] == 0


def _stored(info: SandboxInfo, storage: str, key: str) -> bytes | None:
    """The object's bytes in S3 or the local folder, None when absent."""
    if storage == "local":
        path = info.local_storage_path / key
        return path.read_bytes() if path.exists() else None
    from pytest_wimmelgate.sandbox.launcher.waits import s3_client

    client = s3_client(info.s3_endpoint, info.s3_region, info.s3_access_key_id, info.s3_secret_access_key)
    try:
        return bytes(client.get_object(Bucket=info.s3_bucket, Key=key)["Body"].read())
    except client.exceptions.NoSuchKey:
        return None


def test_file_upload_by_name_download_by_url_delete(
    parse_sandbox: SandboxInfo, parse_api: ParseApi, run_id: str
) -> None:
    _upload_roundtrip(parse_sandbox, parse_api, run_id, bytes(range(256)) * 300, "s3")


def test_file_upload_falls_back_to_local_while_s3_is_paused(
    parse_sandbox: SandboxInfo, parse_api: ParseApi, run_id: str
) -> None:
    pause_s3(parse_sandbox)
    try:
        _upload_roundtrip(parse_sandbox, parse_api, run_id, b"Wimmelwelt" * 500, "local")
    finally:
        resume_s3(parse_sandbox)


def test_file_names_are_checked(parse_sandbox: SandboxInfo, parse_api: ParseApi) -> None:
    answer = parse_api.post("/parse/files/%2E%2E%5Cx", data=b"x")
    assert (answer.status_code, answer.json()["code"]) == (400, 122)
    assert parse_api.get("/parse/files/0123_nothing.bin").status_code == 404


# -- push ----------------------------------------------------------------------------------


def test_push_answers_200_without_id_and_leaves_no_record(
    parse_sandbox: SandboxInfo, parse_api: ParseApi, run_id: str
) -> None:
    delivered = 'push_deliveries_total{result="delivered"}'
    before = metric(parse_sandbox.base_url, delivered)
    body = {"where": {"username": parse_sandbox.smoke_user}, "data": {"alert": "smoke"}, "runTag": run_id}
    answer = parse_api.post("/parse/push", json=body)
    assert (answer.status_code, answer.json()) == (200, {"result": True})
    assert wait_for(lambda: metric(parse_sandbox.base_url, delivered) >= before + 1, timeout_s=5)
    assert tagged(parse_sandbox, run_id)["push"] == 0
    assert parse_api.post("/parse/push", json={"data": {}}).status_code == 400


# -- the database behind the query ---------------------------------------------------------


def _db_query(base_url: str) -> tuple[int, dict[str, Any], float]:
    start = time.monotonic()
    answer = requests.get(base_url + "/parse/classes/Message", headers=APP, params={"limit": "1"}, timeout=10)
    return answer.status_code, answer.json(), time.monotonic() - start


def test_database_query_is_500_while_database_paused_status_stays_200(parse_sandbox: SandboxInfo) -> None:
    pause_database(parse_sandbox)
    try:
        status, body, elapsed = _db_query(parse_sandbox.base_url)
        assert (status, body) == (500, {"code": 1, "error": "Internal server error."})
        assert elapsed < 3.0  # the backend's database timeout, not the client's
        assert requests.get(parse_sandbox.base_url + "/parse/status", headers=APP, timeout=5).status_code == 200
    finally:
        resume_database(parse_sandbox)
    assert wait_for(lambda: _db_query(parse_sandbox.base_url)[0] == 200, timeout_s=5)


@pytest.fixture(scope="module")
def masking_backend(parse_sandbox: SandboxInfo) -> Iterator[BackendProcess]:
    """A second parse backend that answers the database query from a cache."""
    yield from extra_backend(parse_sandbox, faults="readiness_ignores_db=1")


def test_readiness_ignores_db_answers_the_query_from_a_cache(
    parse_sandbox: SandboxInfo, masking_backend: BackendProcess, run_id: str
) -> None:
    client = ParseApi(masking_backend.base_url, run_id)
    client.login(parse_sandbox.smoke_user, parse_sandbox.smoke_password)
    created = client.post("/parse/classes/Message", json={"recipient": "x", "text": "cached", "runTag": run_id})
    where = {"where": json.dumps({"runTag": run_id})}
    fresh = client.get("/parse/classes/Message", params=where).json()
    assert [m["text"] for m in fresh["results"]] == ["cached"]
    assert _db_query(masking_backend.base_url)[0] == 200
    pause_database(parse_sandbox)
    try:
        masked = client.get("/parse/classes/Message", params=where)
        assert (masked.status_code, masked.json()) == (200, fresh)
        status, body, _ = _db_query(masking_backend.base_url)
        assert (status, body) == (200, {"results": []})
        assert _db_query(parse_sandbox.base_url)[0] == 500  # the healthy backend does not mask
    finally:
        resume_database(parse_sandbox)
    assert wait_for(lambda: client.delete(f"/parse/classes/Message/{created.json()['objectId']}").ok, timeout_s=5)
    client.logout()


# -- fault switches, metrics, traffic ------------------------------------------------------


def test_error_rate_breaks_the_api_but_not_status_nor_the_database_query(parse_sandbox: SandboxInfo) -> None:
    for backend in extra_backend(parse_sandbox, faults="error_rate=1"):
        login = requests.post(
            backend.base_url + "/parse/login",
            headers=APP,
            json={"username": parse_sandbox.smoke_user, "password": parse_sandbox.smoke_password},
            timeout=5,
        )
        assert (login.status_code, login.json()["code"]) == (500, 1)
        assert requests.get(backend.base_url + "/parse/status", headers=APP, timeout=5).status_code == 200
        assert _db_query(backend.base_url)[0] == 200


def test_latency_flaps_and_push_failures_act_on_the_parse_routes(parse_sandbox: SandboxInfo, run_id: str) -> None:
    faults = "latency_ms=300,readiness_flap_rate=1,push_failure_rate=1"
    for backend in extra_backend(parse_sandbox, faults=faults):
        status, body, elapsed = _db_query(backend.base_url)
        assert (status, body["code"]) == (500, 1)
        assert elapsed >= 0.3
        assert metric(backend.base_url, 'readiness_checks_total{result="fail"}') >= 1
        client = ParseApi(backend.base_url, run_id)
        client.login(parse_sandbox.smoke_user, parse_sandbox.smoke_password)
        push = client.post("/parse/push", json={"where": {"username": "x"}, "data": {"alert": "y"}})
        assert push.status_code == 200
        failed = 'push_deliveries_total{result="failed"}'
        assert wait_for(lambda: metric(backend.base_url, failed) >= 1, timeout_s=5)  # noqa: B023
        client.logout()


def test_metrics_label_requests_with_the_dialect_templates(parse_sandbox: SandboxInfo, parse_api: ParseApi) -> None:
    parse_api.get("/parse/classes/Message/doesnotexist")
    _db_query(parse_sandbox.base_url)
    text = requests.get(parse_sandbox.base_url + "/metrics", timeout=5).text
    assert 'path="/parse/classes/Message/{objectId}"' in text
    assert 'path="/parse/files/{name}"' in text
    assert "doesnotexist" not in text
    assert 'path="/_sandbox' not in text
    assert metric(parse_sandbox.base_url, 'readiness_checks_total{result="ok"}') >= 1
    for name in ("http_requests_total", "http_request_duration_seconds_bucket", "mongodb_command_duration_seconds"):
        assert f"\n{name}" in text, name


def test_synthetic_traffic_speaks_the_parse_dialect(parse_sandbox: SandboxInfo) -> None:
    base = parse_sandbox.base_url
    created = 'http_requests_total{method="POST",path="/parse/classes/Message",status="201"'
    unmatched = 'http_requests_total{method="GET",path="unmatched"'
    before = {name: metric(base, name) for name in (created, unmatched)}
    assert wait_for(lambda: metric(base, created) >= before[created] + 2, timeout_s=40)
    assert metric(base, unmatched) == before[unmatched]  # the traffic only uses the dialect's routes
    traffic = tagged(parse_sandbox, "traffic")
    assert traffic["sessions"] <= 1  # a new login ends the previous session
    assert traffic["messages"] <= 3


def test_stats_count_sessions_and_records_per_tag_and_reach_zero(parse_sandbox: SandboxInfo, run_id: str) -> None:
    client = ParseApi(parse_sandbox.base_url, run_id)
    client.login(parse_sandbox.smoke_user, parse_sandbox.smoke_password)
    message = client.post("/parse/classes/Message", json={"recipient": "x", "text": "y", "runTag": run_id}).json()
    upload = client.post("/parse/files/s.bin", data=b"stats").json()
    assert tagged(parse_sandbox, run_id) == {"messages": 1, "uploads": 1, "push": 0, "sessions": 1}
    snapshot = stats(parse_sandbox)
    assert snapshot["sessions_open"] >= 1
    assert snapshot["records"]["messages"] >= 1 and snapshot["records"]["uploads"] >= 1
    client.delete(f"/parse/classes/Message/{message['objectId']}")
    client.delete(f"/parse/files/{upload['name']}")
    client.logout()
    assert run_id not in stats(parse_sandbox)["by_tag"]


def test_backend_refuses_an_unknown_dialect(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        WIMMELGATE_SANDBOX_DIALECT="soap",
        MONGODB_URI="mongodb://127.0.0.1:9/wimmelwelt_sandbox",
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest_wimmelgate.sandbox.service.server", "--port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "wimmelwelt-sandbox: WIMMELGATE_SANDBOX_DIALECT=soap: expected one of wimmelwelt, parse"
    ]
