"""The backend side of the emergency drills (runbook 8): DR-3 database failover, DR-4 S3 blocked.

The fault comes from the environment's fault provider; what the backend does meanwhile
is measured through the contract (readiness request, message and upload steps).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from pytest_wimmelgate.contract import health, smoke
from pytest_wimmelgate.contract.cleanup import Cleanup
from pytest_wimmelgate.contract.client import ContractClient, Flow
from pytest_wimmelgate.core.waiting import poll_until
from pytest_wimmelgate.errors import Category, CheckFailed
from pytest_wimmelgate.faults import FaultProvider, blocked

LOCAL_MARKER = "local"


def database_failover(
    client: ContractClient,
    flow: Flow,
    provider: FaultProvider,
    cleanup: Cleanup,
    *,
    bound_s: float,
    run_tag: str,
) -> dict[str, Any]:
    """DR-3: fail the database over; readiness and writes must recover within the bound."""
    session_values: Mapping[str, Any] = dict(flow.values)

    def write_works() -> bool:
        writer = client.flow(session_values)
        writer.values["message.text"] = f"failover drill {run_tag}"
        created = writer.run("message_create")
        smoke.register_delete(cleanup, client, "message_delete", writer, "message", created)
        return True

    started = time.monotonic()
    provider.failover("database")
    failover_s = time.monotonic() - started
    ready = poll_until(lambda: health.readiness_or_none(client, session_values).ready, bound_s=bound_s, interval_s=0.2)
    ready_s = time.monotonic() - started
    writes = ready and poll_until(write_works, bound_s=bound_s, interval_s=0.2, tolerate=(CheckFailed,))
    recovery_s = round(time.monotonic() - started, 3)
    timeline = {
        "provider": provider.name,
        "readiness_request": client.settings.contract.step(client.settings.readiness.request).label(),
        "failover_s": round(failover_s, 3),
        "readiness_ok_after_s": round(ready_s, 3) if ready else None,
        "write_ok_after_s": recovery_s if writes else None,
        "bound_s": bound_s,
        "recovery_s": recovery_s,
    }
    if not (ready and writes):
        what = "readiness" if not ready else "writes"
        raise CheckFailed(
            Category.PRODUCT, f"{what} did not recover within {bound_s:g} s after the database failover", timeline
        )
    return timeline


def storage_fallback(
    client: ContractClient,
    flow: Flow,
    provider: FaultProvider,
    cleanup: Cleanup,
    *,
    bound_s: float,
    run_tag: str,
) -> dict[str, Any]:
    """DR-4: with S3 blocked uploads land in the local fallback and read back; after unblocking, in S3 again."""
    data = os.urandom(16 * 1024)
    steps: dict[str, Any] = {}
    with blocked(provider, "storage"):
        created = smoke.upload(client, flow, cleanup, name=f"{run_tag}-drill.bin", data=data)
        stored_in = smoke.storage_of(client, created, "the local fallback")
        steps["while_blocked"] = dict(created.captures)
        if LOCAL_MARKER not in stored_in:
            raise CheckFailed(
                Category.PRODUCT, f"upload with S3 blocked landed in {stored_in!r}, expected the local fallback", steps
            )
        try:
            smoke.download(flow, data)
        except CheckFailed:
            raise CheckFailed(
                Category.PRODUCT, "the upload served by the local fallback differs from the bytes sent", steps
            ) from None
    back: dict[str, Any] = {}
    session_values = dict(flow.values)

    def s3_again() -> bool:
        again = client.flow(session_values)
        answer = smoke.upload(client, again, cleanup, name=f"{run_tag}-after.bin", data=data)
        back.clear()
        back.update(answer.captures)
        return str(answer.captures.get("storage")) == "s3"

    recovered = poll_until(s3_again, bound_s=bound_s, interval_s=0.5, tolerate=(CheckFailed,))
    steps["after_unblock"] = back
    if not recovered:
        raise CheckFailed(
            Category.PRODUCT, f"uploads did not return to S3 within {bound_s:g} s after unblocking", steps
        )
    return steps
