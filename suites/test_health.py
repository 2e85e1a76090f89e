"""Health and readiness (runbook 2.2): SG-1, SG-2, and SG-3 with the database blocked."""

from __future__ import annotations

import time

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.contract.client import BackendClient
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.core.waiting import poll_until
from pytest_wimmelgate.errors import Category, CheckFailed
from pytest_wimmelgate.faults import FaultProvider, blocked


@pytest.mark.check("SG-1")
def test_health_reports_the_expected_release(
    backend: BackendClient, wg_run: RunContext, wg_env: Environment, evidence: Evidence
) -> None:
    body = backend.health()
    evidence.json("GET /health", body)
    assert body.get("status") == "ok", f"/health status is {body.get('status')!r}, expected 'ok'"
    expected_version = wg_env.get("backend.expect_version", None) or (
        wg_run.version if wg_run.version_expected else None
    )
    if expected_version:
        assert body.get("version") == expected_version, (
            f"/health reports version {body.get('version')!r}, expected {expected_version!r}"
        )
    expected_commit = wg_env.get("backend.expect_commit", None) or (wg_run.commit if wg_run.commit_expected else None)
    if expected_commit:
        reported = str(body.get("commit", ""))
        assert reported and (reported.startswith(expected_commit) or expected_commit.startswith(reported)), (
            f"/health reports commit {reported!r}, expected {expected_commit!r}"
        )


@pytest.mark.check("SG-2")
def test_readiness_is_200(backend: BackendClient, evidence: Evidence) -> None:
    answer = backend.readiness()
    evidence.json("GET /readiness", answer.evidence())
    assert answer.status == 200, f"GET /readiness answered {answer.status}: {answer.body[:200]!r}"


@pytest.mark.check("SG-3")
def test_readiness_follows_a_blocked_database(
    backend: BackendClient, fault_provider: FaultProvider, wg_env: Environment, evidence: Evidence
) -> None:
    block_bound = float(wg_env.get("faults.block_bound_s", 10))
    recovery_bound = float(wg_env.get("faults.recovery_bound_s", 30))
    before = backend.readiness()
    if before.status != 200:
        raise CheckFailed(Category.PRODUCT, f"/readiness answered {before.status} before the database was blocked")
    timeline: dict[str, object] = {"provider": fault_provider.name}
    with blocked(fault_provider, "database"):
        started = time.monotonic()
        seen = poll_until(lambda: backend.readiness().status == 503, bound_s=block_bound, interval_s=0.25)
        timeline["503_after_s"] = round(time.monotonic() - started, 3) if seen else None
        if not seen:
            last = backend.readiness()
            evidence.json("readiness timeline", {**timeline, "last": last.evidence()})
            raise CheckFailed(
                Category.PRODUCT,
                f"/readiness still answered {last.status} {block_bound:g} s after the "
                f"database was blocked (expected 503)",
            )
        timeline["503_body"] = backend.readiness().body.decode("utf-8", "replace")[:500]
        unblocked_at = time.monotonic()
    recovered = poll_until(lambda: backend.readiness().status == 200, bound_s=recovery_bound, interval_s=0.25)
    recovery_s = round(time.monotonic() - unblocked_at, 3)
    timeline["recovery_s"] = recovery_s if recovered else None
    evidence.json("readiness timeline", timeline)
    evidence.parameter("recovery time (s)", recovery_s)
    if not recovered:
        raise CheckFailed(
            Category.PRODUCT, f"/readiness did not return to 200 within {recovery_bound:g} s after unblocking"
        )
