"""The backend checks over the contract as `CheckResult`s: SG-1 … SG-7, RV-1, DR-3, DR-4.

Each function states its criterion and runs its flow (`health`, `smoke`, `drills`), which
raises `CheckFailed` on the first problem; `measured` turns that into a failed result
that keeps what the flow recorded before. Behaviour, reasons and categories are the flows'.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_wimmelgate.contract import drills, health, smoke
from pytest_wimmelgate.contract.cleanup import Cleanup
from pytest_wimmelgate.contract.client import ContractClient, Flow
from pytest_wimmelgate.contract.sessions import Sessions
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.domain import rollback
from pytest_wimmelgate.domain.result import CheckResult, Observed, measured
from pytest_wimmelgate.faults import FaultProvider

RECOVERY_PARAMETER = "recovery time (s)"


def release_reported(client: ContractClient, *, version: str | None, commit: str | None) -> CheckResult:
    """SG-1: the health request answers as declared and reports the expected version and commit
    (``None``: not checked)."""

    def probe(seen: Observed) -> None:
        found = health.release(client, health.check_health(client))
        seen.evidence.update({"request": found.label, "version": found.version, "commit": found.commit})
        health.require_release(found, client, version=version, commit=commit)

    expected = " ".join(f"{k} {v!r}" for k, v in (("version", version), ("commit", commit)) if v) or "a release"
    return measured("SG-1", f"the health request answers and reports {expected}", probe)


def ready(client: ContractClient, values: Mapping[str, Any]) -> CheckResult:
    """SG-2: the readiness request answers ready."""

    def probe(seen: Observed) -> None:
        answer = health.readiness(client, values)
        seen.evidence.update(answer.evidence())
        health.require_ready(answer, client)

    return measured("SG-2", f"the readiness request answers {health.expectation(client)}", probe)


def follows_blocked_database(
    client: ContractClient,
    provider: FaultProvider,
    values: Mapping[str, Any],
    *,
    block_bound_s: float,
    recovery_bound_s: float,
) -> CheckResult:
    """SG-3: with the database blocked readiness turns not-ready within ``block_bound_s``; unblocked,
    ready again within ``recovery_bound_s`` (the recovery time is a parameter)."""

    def probe(seen: Observed) -> None:
        timeline = health.follows_blocked_database(
            client, provider, block_bound_s=block_bound_s, recovery_bound_s=recovery_bound_s, values=values
        )
        seen.evidence.update(timeline)
        seen.parameters[RECOVERY_PARAMETER] = timeline["recovery_s"]

    criterion = (
        f"database blocked: not ready within {block_bound_s:g} s; unblocked: ready within {recovery_bound_s:g} s"
    )
    return measured("SG-3", criterion, probe)


def serving_previous_release(client: ContractClient, values: Mapping[str, Any], run: RunContext) -> CheckResult:
    """RV-1: the backend reports the N-1 version (the run's ``--wg-version``) and is ready."""

    def probe(seen: Observed) -> None:
        previous = rollback.previous_version(run)
        found = health.release(client)
        readiness = health.readiness(client, values)
        seen.evidence["release"] = {"request": found.label, "version": found.version}
        seen.evidence["readiness"] = readiness.evidence()
        health.require_release(found, client, version=previous, commit=None, role="N-1 ")
        health.require_ready(readiness, client, context="N-1 is serving but ")

    return measured("RV-1", "the backend serves N-1 (--wg-version) and is ready", probe)


def _flow(seen: Observed, outcome: smoke.Outcome) -> None:
    seen.evidence.update(outcome.evidence)
    seen.note = outcome.note


def auth(client: ContractClient, sessions: Sessions, cleanup: Cleanup, run_tag: str) -> CheckResult:
    """SG-4: login works; a wrong password and no token are rejected; the rate limit answers."""
    return measured(
        "SG-4",
        "login works, a wrong password and a missing token are rejected, repeated logins are rate-limited",
        lambda seen: _flow(seen, smoke.check_auth(client, sessions, cleanup, run_tag)),
    )


def messaging(client: ContractClient, flow: Flow, cleanup: Cleanup, run_tag: str) -> CheckResult:
    """SG-5: send a message, read it back, delete it."""
    return measured(
        "SG-5",
        "a message is sent, read back equal and deleted",
        lambda seen: _flow(seen, smoke.check_messaging(client, flow, cleanup, run_tag)),
    )


def upload(client: ContractClient, flow: Flow, cleanup: Cleanup, *, name: str, data: bytes) -> CheckResult:
    """SG-6: upload, download identical bytes, delete."""
    return measured(
        "SG-6",
        "an upload lands in the expected storage, downloads identical and is deleted",
        lambda seen: _flow(seen, smoke.check_upload(client, flow, cleanup, name=name, data=data)),
    )


def push(client: ContractClient, flow: Flow, cleanup: Cleanup, run_tag: str) -> CheckResult:
    """SG-7: a test push is accepted and delivered (or declared not verifiable: a note)."""
    return measured(
        "SG-7",
        "a test push is accepted and delivered",
        lambda seen: _flow(seen, smoke.check_push(client, flow, cleanup, run_tag)),
    )


def database_failover(
    client: ContractClient, flow: Flow, provider: FaultProvider, cleanup: Cleanup, *, bound_s: float, run_tag: str
) -> CheckResult:
    """DR-3: after a database failover readiness and writes recover within ``bound_s``."""

    def probe(seen: Observed) -> None:
        timeline = drills.database_failover(client, flow, provider, cleanup, bound_s=bound_s, run_tag=run_tag)
        seen.evidence.update(timeline)
        seen.parameters[RECOVERY_PARAMETER] = timeline["recovery_s"]

    return measured("DR-3", f"readiness and writes recover within {bound_s:g} s of a database failover", probe)


def storage_fallback(
    client: ContractClient, flow: Flow, provider: FaultProvider, cleanup: Cleanup, *, bound_s: float, run_tag: str
) -> CheckResult:
    """DR-4: with S3 blocked uploads are served by the local fallback; unblocked, by S3 again."""

    def probe(seen: Observed) -> None:
        seen.evidence.update(drills.storage_fallback(client, flow, provider, cleanup, bound_s=bound_s, run_tag=run_tag))

    return measured(
        "DR-4", f"uploads served by the local fallback while S3 is blocked, by S3 within {bound_s:g} s after", probe
    )
