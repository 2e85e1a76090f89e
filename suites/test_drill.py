"""Emergency drills (runbook 8): backups, restore tests, DB failover, S3 blocked.

DR-3 and DR-4 are destructive: they never run on a protected environment without
``--wg-allow-destructive``. PF-4 (Statuspage templates) belongs to this gate too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.contract.client import BackendClient
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.core.waiting import poll_until
from pytest_wimmelgate.domain import backups
from pytest_wimmelgate.errors import Category, CheckFailed
from pytest_wimmelgate.faults import FaultProvider, blocked

Cleanup = Callable[[Callable[[], None]], None]


@pytest.mark.check("DR-1")
def test_a_backup_for_each_of_the_last_7_days(
    backup_settings: backups.BackupSettings, wg_run: RunContext, wg_environ: dict[str, str], evidence: Evidence
) -> None:
    result = backups.run_daily_backups(backup_settings, wg_run.clock, wg_environ)
    evidence.json("daily backups", result.evidence())
    result.raise_for_failure()


@pytest.mark.check("DR-2")
def test_weekly_restore_test_documented(
    backup_settings: backups.BackupSettings, wg_run: RunContext, wg_environ: dict[str, str], evidence: Evidence
) -> None:
    result = backups.run_weekly_restore(backup_settings, wg_run.clock, wg_environ)
    evidence.json("restore tests", result.evidence())
    result.raise_for_failure()


@pytest.mark.check("DR-3")
def test_database_failover_recovers(
    backend: BackendClient,
    smoke_token: str,
    fault_provider: FaultProvider,
    wg_env: Environment,
    run_tag: str,
    cleanup: Cleanup,
    evidence: Evidence,
) -> None:
    bound = float(wg_env.get("faults.recovery_bound_s", 30))
    to = str(wg_env.get("smoke_account.username"))

    def write_works() -> bool:
        message_id = backend.send_message(smoke_token, to=to, body="failover drill", tag=run_tag)
        cleanup(lambda: backend.delete_message(smoke_token, message_id))
        return True

    started = time.monotonic()
    fault_provider.failover("database")
    failover_s = time.monotonic() - started
    ready = poll_until(lambda: backend.readiness().status == 200, bound_s=bound, interval_s=0.2)
    ready_s = time.monotonic() - started
    writes = ready and poll_until(write_works, bound_s=bound, interval_s=0.2, tolerate=(CheckFailed,))
    recovery_s = round(time.monotonic() - started, 3)
    timeline = {
        "provider": fault_provider.name,
        "failover_s": round(failover_s, 3),
        "readiness_200_after_s": round(ready_s, 3) if ready else None,
        "write_ok_after_s": recovery_s if writes else None,
        "bound_s": bound,
    }
    evidence.json("failover timeline", timeline)
    evidence.parameter("recovery time (s)", recovery_s)
    if not (ready and writes):
        what = "readiness" if not ready else "writes"
        raise CheckFailed(Category.PRODUCT, f"{what} did not recover within {bound:g} s after the database failover")


@pytest.mark.check("DR-4")
def test_uploads_fall_back_to_local_while_s3_is_blocked(
    backend: BackendClient,
    smoke_token: str,
    fault_provider: FaultProvider,
    wg_env: Environment,
    run_tag: str,
    cleanup: Cleanup,
    evidence: Evidence,
) -> None:
    bound = float(wg_env.get("faults.recovery_bound_s", 30))
    data = os.urandom(16 * 1024)
    steps: dict[str, object] = {}
    with blocked(fault_provider, "storage"):
        stored = backend.upload(smoke_token, name=f"{run_tag}-drill.bin", data=data, tag=run_tag)
        cleanup(lambda: backend.delete_upload(smoke_token, str(stored["id"])))
        steps["while_blocked"] = stored
        if "local" not in str(stored.get("storage", "")):
            raise CheckFailed(
                Category.PRODUCT,
                f"upload with S3 blocked landed in {stored.get('storage')!r}, expected the local fallback",
            )
        if backend.download(smoke_token, str(stored["id"])) != data:
            raise CheckFailed(Category.PRODUCT, "the upload served by the local fallback differs from the bytes sent")
    back: dict[str, object] = {}

    def s3_again() -> bool:
        answer = backend.upload(smoke_token, name=f"{run_tag}-after.bin", data=data, tag=run_tag)
        cleanup(lambda: backend.delete_upload(smoke_token, str(answer["id"])))
        back.update(answer)
        return str(answer.get("storage")) == "s3"

    recovered = poll_until(s3_again, bound_s=bound, interval_s=0.5, tolerate=(CheckFailed,))
    steps["after_unblock"] = back
    evidence.json("storage drill", steps)
    if not recovered:
        raise CheckFailed(Category.PRODUCT, f"uploads did not return to S3 within {bound:g} s after unblocking")
