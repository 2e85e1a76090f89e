"""The staging gate on the real sandbox: GO, and NO-GO naming the check for each fault."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pytest_wimmelgate.sandbox.launcher import control
from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from tests.gates.conftest import ROOT, check, newest_summary, run_gate


def test_staging_gate_is_go_on_a_healthy_sandbox(pytester: pytest.Pytester, sandbox_env: dict[str, str]) -> None:
    result = run_gate(pytester, "-m", "staging_gate")
    assert result.ret == 0, result.stdout.str()[-3000:]
    summary = newest_summary(pytester)
    assert summary["verdict"] == "GO"
    passed = {c["id"] for c in summary["checks"] if c["outcome"] == "passed"}
    assert {"SG-1", "SG-2", "SG-3", "SG-4", "SG-5", "SG-6", "SG-7"} <= passed
    sg3 = check(summary, "SG-3")
    assert sg3["duration_s"] > 0


def test_database_paused_is_no_go_naming_sg2(
    pytester: pytest.Pytester, sandbox: SandboxInfo, sandbox_env: dict[str, str]
) -> None:
    control.pause_database(sandbox)
    try:
        result = run_gate(pytester, "-m", "staging_gate and not destructive", "-k", "readiness")
    finally:
        control.resume_database(sandbox)
    assert result.ret == 1
    summary = newest_summary(pytester)
    sg2 = check(summary, "SG-2")
    assert sg2["outcome"] == "failed" and "503" in sg2["reason"] and "mongodb" in sg2["reason"]
    assert any(r.startswith("SG-2:") for r in summary["reasons"])


def test_s3_paused_is_no_go_naming_sg6(
    pytester: pytest.Pytester, sandbox: SandboxInfo, sandbox_env: dict[str, str]
) -> None:
    control.pause_s3(sandbox)
    try:
        result = run_gate(pytester, "-m", "staging_gate and not destructive", "-k", "upload")
    finally:
        control.resume_s3(sandbox)
    assert result.ret == 1
    summary = newest_summary(pytester)
    sg6 = check(summary, "SG-6")
    assert sg6["outcome"] == "failed" and "s3" in sg6["reason"]
    assert any(r.startswith("SG-6:") for r in summary["reasons"])


def test_readiness_ignoring_the_database_is_no_go_naming_sg3(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SANDBOX_BASE_URL", raising=False)
    monkeypatch.setenv("WIMMELGATE_SANDBOX_FAULTS", "readiness_ignores_db=1")
    monkeypatch.setenv("WIMMELGATE_SANDBOX_PROMETHEUS", "off")
    result = run_gate(pytester, "-m", "staging_gate", "-k", "readiness or health")
    assert result.ret == 1
    summary = newest_summary(pytester)
    sg3 = check(summary, "SG-3")
    assert sg3["outcome"] == "failed" and "expected 503" in sg3["reason"]
    assert [r.split(":")[0] for r in summary["reasons"]] == ["SG-3"]


def test_unreachable_backend_fails_fast_with_reasons_and_artifacts(
    pytester: pytest.Pytester, sandbox_env: dict[str, str]
) -> None:
    pytester.makefile(
        ".yaml",
        unreachable=f"""
extends: {ROOT / "environments" / "sandbox.yaml"}
name: unreachable
sandbox: {{start: never}}
backend:
  base_url: http://127.0.0.1:9
  timeout_s: 1
faults:
  provider: command
  command: {{block: "true", unblock: "true"}}
""",
    )
    started = time.monotonic()
    result = run_gate(pytester, "-m", "staging_gate", "--wg-env", "unreachable.yaml")
    elapsed = time.monotonic() - started
    assert result.ret == 1
    summary = newest_summary(pytester)
    failed = [c for c in summary["checks"] if c["outcome"] == "failed"]
    assert {c["id"] for c in failed} == {"SG-1", "SG-2", "SG-3", "SG-4", "SG-5", "SG-6", "SG-7"}
    for item in failed:
        assert item["category"] == "infrastructure unreachable", item
        assert "unreachable" in item["reason"], item
    assert elapsed < 60, f"an unreachable backend took {elapsed:.0f} s"
    run_dir = next((pytester.path / "rel").rglob("gate-summary.json")).parent
    assert (run_dir / "junit.xml").is_file() and any((run_dir / "allure-results").glob("*-result.json"))


def test_protected_environment_never_runs_sg3(
    pytester: pytest.Pytester, sandbox: SandboxInfo, sandbox_env: dict[str, str]
) -> None:
    pytester.makefile(
        ".yaml",
        guarded=f"""
extends: {ROOT / "environments" / "sandbox.yaml"}
name: guarded
protected: true
""",
    )
    result = run_gate(
        pytester, "-m", "prod_smoke or staging_gate", "--wg-env", "guarded.yaml", "-k", "readiness or health"
    )
    summary = newest_summary(pytester)
    sg3 = check(summary, "SG-3")
    assert sg3["outcome"] == "skipped" and sg3["safety_skip"] is True
    assert "protected environment guarded" in sg3["reason"]
    assert any("SG-3" in w and "not run" in w for w in summary["warnings"])
    assert result.ret == 0


def _smoke_records(sandbox: SandboxInfo) -> int:
    import pymongo

    client: pymongo.MongoClient = pymongo.MongoClient(sandbox.mongodb_uri, serverSelectionTimeoutMS=3000)
    try:
        db = client.get_default_database()
        return sum(
            db[name].count_documents({"tag": {"$regex": "^wg-"}}) for name in ("messages", "uploads", "push_deliveries")
        )
    finally:
        client.close()


def test_smoke_records_are_removed_also_after_a_failure(
    pytester: pytest.Pytester, sandbox: SandboxInfo, sandbox_env: dict[str, str]
) -> None:
    before = _smoke_records(sandbox)
    assert run_gate(pytester, "-m", "staging_gate and not destructive").ret == 0
    assert _smoke_records(sandbox) == before

    suites = pytester.path / "suites"
    import shutil

    shutil.copytree(ROOT / "suites", suites)
    (suites / "test_fails_halfway.py").write_text("""
import pytest

@pytest.mark.check("SG-5")
def test_fails_after_creating(backend, smoke_token, run_tag, cleanup):
    message_id = backend.send_message(smoke_token, to="x", body="half", tag=run_tag)
    cleanup(lambda: backend.delete_message(smoke_token, message_id))
    upload = backend.upload(smoke_token, name="half.bin", data=b"half", tag=run_tag)
    cleanup(lambda: backend.delete_upload(smoke_token, str(upload["id"])))
    assert False, "failing half-way on purpose"
""")
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(pytester.path),
        "-c",
        str(ROOT / "pyproject.toml"),
        "--wg-env",
        str(ROOT / "environments" / "sandbox.yaml"),
        "--wg-release-dir",
        "rel",
        str(suites),
        "-m",
        "staging_gate and not destructive",
        timeout=180,
    )
    assert result.ret == 1
    assert "failing half-way on purpose" in result.stdout.str()
    assert _smoke_records(sandbox) == before


def test_two_workers_share_one_sandbox_and_agree(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SANDBOX_BASE_URL", raising=False)
    monkeypatch.setenv("WIMMELGATE_SANDBOX_PROMETHEUS", "off")
    result = run_gate(pytester, "-m", "staging_gate", "-n", "2")
    assert result.ret == 0, result.stdout.str()[-3000:]
    assert newest_summary(pytester)["verdict"] == "GO"
