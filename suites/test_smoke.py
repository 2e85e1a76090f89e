"""Smoke checks (runbook 2.2, 6): auth, messaging, upload, push with the smoke account.

Every record carries the run id as its tag and is deleted in teardown, also after a
failure; in production they run on green, non-destructively.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.contract.client import BackendClient
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.waiting import poll_until
from pytest_wimmelgate.errors import Category, CheckFailed

Cleanup = Callable[[Callable[[], None]], None]


@pytest.mark.check("SG-4")
def test_auth_login_rejections_and_rate_limit(
    backend: BackendClient, wg_env: Environment, run_tag: str, evidence: Evidence
) -> None:
    username = str(wg_env.get("smoke_account.username"))
    token = backend.login(username, str(wg_env.get("smoke_account.password")))
    me = backend.request("GET", "me", token=token, expect=None)
    assert me.status == 200, f"GET /auth/me with a fresh token answered {me.status}, expected 200"
    wrong = backend.request("POST", "login", expect=None, json={"username": username, "password": "wrong-" + run_tag})
    assert wrong.status == 401, f"login with a wrong password answered {wrong.status}, expected 401"
    anonymous = backend.request("GET", "me", expect=None)
    assert anonymous.status == 401, f"GET /auth/me without a token answered {anonymous.status}, expected 401"
    attempts = int(wg_env.get("backend.rate_limit_attempts", 10))
    throwaway = f"ratelimit-{run_tag}@wimmelwelt.test"
    statuses = []
    for _ in range(attempts):
        answer = backend.request("POST", "login", expect=None, json={"username": throwaway, "password": "wrong"})
        statuses.append(answer.status)
        if answer.status == 429:
            evidence.json(
                "rate limit",
                {"attempts": len(statuses), "statuses": statuses, "retry_after": answer.headers.get("Retry-After")},
            )
            assert answer.headers.get("Retry-After"), "429 without a Retry-After header"
            return
    evidence.json("rate limit", {"attempts": len(statuses), "statuses": statuses})
    raise CheckFailed(Category.PRODUCT, f"no 429 after {attempts} failed logins (statuses {sorted(set(statuses))})")


@pytest.mark.check("SG-5")
def test_messaging_send_read_delete(
    backend: BackendClient, smoke_token: str, wg_env: Environment, run_tag: str, cleanup: Cleanup
) -> None:
    body = f"wimmelgate smoke {run_tag}"
    message_id = backend.send_message(smoke_token, to=str(wg_env.get("smoke_account.username")), body=body, tag=run_tag)
    cleanup(lambda: backend.delete_message(smoke_token, message_id))
    stored = backend.read_message(smoke_token, message_id)
    assert stored.get("body") == body, "the message read back differs from the one sent"
    backend.delete_message(smoke_token, message_id)
    gone = backend.request("GET", "messages", f"/{message_id}", token=smoke_token, expect=None)
    assert gone.status == 404, f"a deleted message still answers {gone.status}, expected 404"


@pytest.mark.check("SG-6")
def test_upload_download_identical_bytes(
    backend: BackendClient, smoke_token: str, run_tag: str, wg_env: Environment, cleanup: Cleanup, evidence: Evidence
) -> None:
    data = os.urandom(64 * 1024)
    stored = backend.upload(smoke_token, name=f"{run_tag}.bin", data=data, tag=run_tag)
    upload_id = str(stored["id"])
    cleanup(lambda: backend.delete_upload(smoke_token, upload_id))
    evidence.json("upload", stored)
    expected_storage = wg_env.get("backend.expect_storage", None)
    if expected_storage and stored.get("storage") not in (None, expected_storage):
        raise CheckFailed(
            Category.PRODUCT,
            f"upload landed in {stored.get('storage')!r}, expected "
            f"{expected_storage!r}: the {expected_storage} storage is failing",
        )
    back = backend.download(smoke_token, upload_id)
    assert hashlib.sha256(back).hexdigest() == hashlib.sha256(data).hexdigest(), (
        f"downloaded {len(back)} bytes differ from the {len(data)} bytes uploaded"
    )
    backend.delete_upload(smoke_token, upload_id)
    gone = backend.request("GET", "uploads", f"/{upload_id}", token=smoke_token, expect=None)
    assert gone.status == 404, f"a deleted upload still answers {gone.status}, expected 404"


@pytest.mark.check("SG-7")
def test_push_accepted_and_delivered(
    backend: BackendClient, smoke_token: str, wg_env: Environment, run_tag: str, cleanup: Cleanup, evidence: Evidence
) -> None:
    delivery_id = backend.push_test(smoke_token, tag=run_tag)
    cleanup(lambda: backend.delete_push(smoke_token, delivery_id))
    bound = float(wg_env.get("backend.push_delivery_timeout_s", 10))
    statuses: list[str] = []

    def settled() -> bool:
        statuses.append(backend.push_status(smoke_token, delivery_id))
        return statuses[-1] != "pending"

    poll_until(settled, bound_s=bound, interval_s=0.2)
    evidence.json("push delivery", {"delivery_id": delivery_id, "statuses": statuses})
    final = statuses[-1] if statuses else "unknown"
    assert final == "delivered", f"test push {delivery_id} ended {final!r} within {bound:g} s, expected 'delivered'"
