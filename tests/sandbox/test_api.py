"""The backend's API contract against the real sandbox (SecantusDB, moto S3)."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
import requests

from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from tests.sandbox.conftest import Api, wait_for


def test_health_reports_version_and_commit(sandbox: SandboxInfo) -> None:
    answer = requests.get(sandbox.base_url + "/health", timeout=5)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "version": sandbox.version, "commit": sandbox.commit}


def test_readiness_is_200_with_both_checks(sandbox: SandboxInfo) -> None:
    answer = requests.get(sandbox.base_url + "/readiness", timeout=5)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "checks": {"mongodb": "ok", "storage": "ok"}}


def test_login_me_and_rejections(sandbox: SandboxInfo, api: Api) -> None:
    assert api.get("/auth/me").json() == {"username": sandbox.smoke_user}
    wrong = requests.post(
        sandbox.base_url + "/auth/login", timeout=5, json={"username": sandbox.smoke_user, "password": "wrong"}
    )
    assert wrong.status_code == 401
    assert requests.get(sandbox.base_url + "/auth/me", timeout=5).status_code == 401
    forged = requests.get(sandbox.base_url + "/auth/me", timeout=5, headers={"Authorization": "Bearer abc.def"})
    assert forged.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/auth/me"),
        ("POST", "/messages"),
        ("GET", "/messages"),
        ("GET", "/messages/abc"),
        ("DELETE", "/messages/abc"),
        ("POST", "/uploads"),
        ("GET", "/uploads/abc"),
        ("DELETE", "/uploads/abc"),
        ("POST", "/push/test"),
        ("GET", "/push/deliveries/abc"),
    ],
)
def test_every_api_route_needs_a_token(sandbox: SandboxInfo, method: str, path: str) -> None:
    answer = requests.request(method, sandbox.base_url + path, timeout=5)
    assert answer.status_code == 401


def test_login_rate_limit_is_per_username(sandbox: SandboxInfo) -> None:
    throwaway = f"wg-ratelimit-{uuid.uuid4().hex[:8]}"
    statuses = []
    for _ in range(7):
        answer = requests.post(
            sandbox.base_url + "/auth/login", timeout=5, json={"username": throwaway, "password": "wrong"}
        )
        statuses.append(answer.status_code)
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]
    retry_after = int(answer.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    smoke = requests.post(
        sandbox.base_url + "/auth/login",
        timeout=5,
        json={"username": sandbox.smoke_user, "password": sandbox.smoke_password},
    )
    assert smoke.status_code == 200


def test_messages_send_read_list_delete(sandbox: SandboxInfo, api: Api, run_id: str) -> None:
    created = api.post("/messages", json={"to": "someone", "body": "Hallo Welt", "tag": run_id})
    assert created.status_code == 201
    message_id = created.json()["id"]
    read = api.get(f"/messages/{message_id}")
    assert read.status_code == 200
    assert read.json()["body"] == "Hallo Welt"
    assert read.json()["tag"] == run_id
    listed = api.get("/messages", params={"tag": run_id}).json()
    assert [m["id"] for m in listed] == [message_id]
    assert _count_tagged(sandbox, "messages", run_id) == 1
    assert api.delete(f"/messages/{message_id}").status_code == 204
    assert api.get(f"/messages/{message_id}").status_code == 404
    assert _count_tagged(sandbox, "messages", run_id) == 0


def test_messages_reject_bad_bodies(api: Api) -> None:
    assert api.post("/messages", data=b"not json").status_code == 400
    assert api.post("/messages", json={"to": "x"}).status_code == 400


def test_upload_roundtrip_through_s3(sandbox: SandboxInfo, api: Api, run_id: str) -> None:
    data = bytes(range(256)) * 400
    created = api.post("/uploads", params={"name": "probe.bin", "tag": run_id}, data=data)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["storage"] == "s3"
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert _count_tagged(sandbox, "uploads", run_id) == 1
    assert _s3_object_exists(sandbox, f"uploads/{body['id']}")
    download = api.get(f"/uploads/{body['id']}")
    assert download.status_code == 200
    assert download.content == data
    assert api.delete(f"/uploads/{body['id']}").status_code == 204
    assert api.get(f"/uploads/{body['id']}").status_code == 404
    assert not _s3_object_exists(sandbox, f"uploads/{body['id']}")


def test_push_is_accepted_then_delivered(sandbox: SandboxInfo, api: Api, run_id: str) -> None:
    accepted = api.post("/push/test", json={"tag": run_id})
    assert accepted.status_code == 202
    delivery = accepted.json()["delivery_id"]
    assert wait_for(lambda: api.get(f"/push/deliveries/{delivery}").json()["status"] == "delivered", timeout_s=3)
    assert _count_tagged(sandbox, "push_deliveries", run_id) == 1
    assert api.delete(f"/push/deliveries/{delivery}").status_code == 204
    assert _count_tagged(sandbox, "push_deliveries", run_id) == 0


def test_metrics_expose_the_documented_names(sandbox: SandboxInfo, api: Api) -> None:
    api.get("/messages/doesnotexist")
    text = requests.get(sandbox.base_url + "/metrics", timeout=5).text
    for name in (
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "readiness_checks_total",
        "push_deliveries_total",
        "mongodb_command_duration_seconds_bucket",
        "log_lines_total",
        "wimmelwelt_build_info",
    ):
        assert f"\n{name}{{" in text, name
    assert 'path="/messages/{id}"' in text
    assert "doesnotexist" not in text
    assert 'le="0.3"' in text and 'le="0.4"' in text
    assert 'readiness_checks_total{result="fail"}' in text
    assert 'push_deliveries_total{result="failed"}' in text


def test_json_log_lines_carry_the_run_id(sandbox: SandboxInfo, api: Api, run_id: str) -> None:
    api.get("/auth/me")

    def logged() -> list[dict[str, object]]:
        lines = sandbox.backend_log_file.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if run_id in line]

    assert wait_for(lambda: any(r.get("path") == "/auth/me" for r in logged()), timeout_s=2)
    record = next(r for r in logged() if r.get("path") == "/auth/me")
    for key in ("ts", "level", "msg", "method", "path", "status", "duration_ms", "request_id", "run_id"):
        assert key in record, key
    assert record["run_id"] == run_id
    assert record["status"] == 200
    assert sandbox.smoke_password not in sandbox.backend_log_file.read_text(encoding="utf-8")


def test_synthetic_traffic_flows_and_cleans_up(sandbox: SandboxInfo) -> None:
    def traffic_requests() -> float:
        text = requests.get(sandbox.base_url + "/metrics", timeout=5).text
        return sum(
            float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("http_requests_total{")
        )

    before = traffic_requests()
    assert wait_for(lambda: traffic_requests() >= before + 3, timeout_s=6)
    # traffic deletes what it creates: never more than a handful in flight
    assert _count_tagged(sandbox, "messages", "traffic") <= 3


def _count_tagged(info: SandboxInfo, collection: str, prefix: str) -> int:
    from pymongo import MongoClient

    client: MongoClient[dict[str, object]] = MongoClient(info.mongodb_uri, serverSelectionTimeoutMS=2000)
    try:
        return client.get_default_database()[collection].count_documents({"tag": {"$regex": f"^{prefix}"}})
    finally:
        client.close()


def _s3_object_exists(info: SandboxInfo, key: str) -> bool:
    from pytest_wimmelgate.sandbox.launcher.waits import s3_client

    client = s3_client(info.s3_endpoint, info.s3_region, info.s3_access_key_id, info.s3_secret_access_key)
    listed = client.list_objects_v2(Bucket=info.s3_bucket, Prefix=key)
    return any(item["Key"] == key for item in listed.get("Contents", []))


def test_sandbox_ready_and_stats_need_no_token(sandbox: SandboxInfo) -> None:
    ready = requests.get(sandbox.base_url + "/_sandbox/ready", timeout=5)
    assert (ready.status_code, ready.json()) == (200, {"ready": True})
    stats = requests.get(sandbox.base_url + "/_sandbox/stats", timeout=5).json()
    assert set(stats) == {"sessions_open", "records", "by_tag"}
    assert set(stats["records"]) == {"messages", "uploads", "push"}
    assert 'path="/_sandbox' not in requests.get(sandbox.base_url + "/metrics", timeout=5).text


def test_logout_ends_the_bearer_token(sandbox: SandboxInfo, api: Api) -> None:
    assert api.post("/auth/logout").status_code == 204
    assert api.get("/auth/me").status_code == 401
    assert api.post("/auth/logout").status_code == 401
    assert requests.post(sandbox.base_url + "/auth/logout", timeout=5).status_code == 401


def test_stats_count_sessions_and_records_per_tag_and_reach_zero(sandbox: SandboxInfo, api: Api, run_id: str) -> None:
    def tagged() -> dict[str, int]:
        by_tag = requests.get(sandbox.base_url + "/_sandbox/stats", timeout=5).json()["by_tag"]
        return dict(by_tag.get(run_id, {"messages": 0, "uploads": 0, "push": 0, "sessions": 0}))

    assert tagged() == {"messages": 0, "uploads": 0, "push": 0, "sessions": 1}  # the api fixture's login
    message = api.post("/messages", json={"to": "someone", "body": "x", "tag": run_id}).json()["id"]
    upload = api.post("/uploads", params={"name": "s.bin", "tag": run_id}, data=b"stats").json()["id"]
    delivery = api.post("/push/test", json={"tag": run_id}).json()["delivery_id"]
    assert tagged() == {"messages": 1, "uploads": 1, "push": 1, "sessions": 1}
    api.delete(f"/messages/{message}")
    api.delete(f"/uploads/{upload}")
    api.delete(f"/push/deliveries/{delivery}")
    assert api.post("/auth/logout").status_code == 204
    stats = requests.get(sandbox.base_url + "/_sandbox/stats", timeout=5).json()
    assert run_id not in stats["by_tag"]
    assert stats["by_tag"].get("traffic", {}).get("sessions", 0) <= 1  # traffic ends its previous session
