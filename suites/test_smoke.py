"""Smoke checks (runbook 2.2, 6): auth, messaging, upload, push with the smoke account.

Every request is a step of the backend contract; every record carries the run id as its
tag and is deleted in teardown, also after a failure (`cleanup`); in production they run
on green, non-destructively. Each check's requests and answers are its evidence.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from pytest_wimmelgate.contract import checks
from pytest_wimmelgate.contract.cleanup import Cleanup
from pytest_wimmelgate.contract.client import ContractClient, Flow
from pytest_wimmelgate.contract.sessions import Sessions
from pytest_wimmelgate.core.evidence import Evidence


@pytest.mark.check("SG-4")
def test_auth_login_rejections_and_rate_limit(
    backend: ContractClient, smoke_sessions: Sessions, cleanup: Cleanup, run_tag: str, evidence: Evidence
) -> None:
    result = checks.auth(backend, smoke_sessions, cleanup, run_tag)
    evidence.judge("auth", result)


@pytest.mark.check("SG-5")
def test_messaging_send_read_delete(
    backend: ContractClient, smoke_flow: Flow, cleanup: Cleanup, run_tag: str, evidence: Evidence
) -> None:
    result = checks.messaging(backend, smoke_flow, cleanup, run_tag)
    evidence.judge("messaging", result)


@pytest.mark.check("SG-6")
def test_upload_download_identical_bytes(
    backend: ContractClient, smoke_flow: Flow, cleanup: Cleanup, run_tag: str, evidence: Evidence
) -> None:
    result = checks.upload(backend, smoke_flow, cleanup, name=f"{run_tag}.bin", data=os.urandom(64 * 1024))
    evidence.judge("upload", result)


@pytest.mark.check("SG-7")
def test_push_accepted_and_delivered(
    backend: ContractClient,
    smoke_flow: Flow,
    cleanup: Cleanup,
    run_tag: str,
    evidence: Evidence,
    check_note: Callable[[str], None],
) -> None:
    result = checks.push(backend, smoke_flow, cleanup, run_tag)
    evidence.judge("push delivery", result, note=check_note)
