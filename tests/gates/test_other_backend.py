"""A backend that is not Wimmelwelt, gated from its environment file alone (issue 11).

The sandbox serves its second API dialect ("parse"); `environments/examples/other-backend.yaml`
describes it as a contract. GO when healthy, NO-GO naming the right check and category for
each fault, and nothing left behind: no record, no open session, no token in any file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_wimmelgate.sandbox.launcher import control
from pytest_wimmelgate.sandbox.launcher.gate_run import variables_of
from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from pytest_wimmelgate.sandbox.launcher.stack import Sandbox
from tests.gates.conftest import ROOT, check, newest_summary, run_gate
from tests.gates.contract_helpers import left_by, stats, tokens_in
from tests.gates.release_helpers import allure_result_of, clear_run_settings, run_dirs

OTHER = ROOT / "environments" / "examples" / "other-backend.yaml"
SMOKE = {"SG-1", "SG-2", "SG-3", "SG-4", "SG-5", "SG-6", "SG-7"}


@pytest.fixture(scope="module")
def parse_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    """One sandbox in the parse dialect for this module (no Prometheus, no traffic)."""
    box = Sandbox(
        tmp_path_factory.mktemp("parse-sandbox"),
        storage="s3",
        traffic_rps=0,
        prometheus="off",
        alertmanager="off",
        login_limit=5,
        dialect="parse",
    )
    try:
        yield box.start()
    finally:
        box.stop()


@pytest.fixture
def parse_env(parse_sandbox: SandboxInfo, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point inner gate runs at the shared parse sandbox."""
    clear_run_settings(monkeypatch)
    variables = variables_of(parse_sandbox)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return variables


def gate(pytester: pytest.Pytester, *args: str, env: Path = OTHER) -> pytest.RunResult:
    return run_gate(pytester, "--wg-env", str(env), *args)


def derived(pytester: pytest.Pytester, body: str) -> Path:
    path = pytester.path / "derived.yaml"
    path.write_text(f"extends: {OTHER}\nname: derived\n{body}")
    return path


@pytest.mark.full_report
def test_staging_gate_is_go_on_the_second_dialect_and_leaves_nothing_behind(
    pytester: pytest.Pytester, parse_sandbox: SandboxInfo, parse_env: dict[str, str]
) -> None:
    sessions_before = stats(parse_sandbox)["sessions_open"]
    result = gate(pytester, "-m", "staging_gate", "--wg-version", "0.0.0-sandbox", "--wg-commit", "sandbox")
    assert result.ret == 0, result.stdout.str()[-3000:]
    summary = newest_summary(pytester)
    assert summary["verdict"] == "GO" and summary["environment"] == "other-backend"
    assert {c["id"] for c in summary["checks"] if c["outcome"] == "passed"} >= SMOKE
    run_dir = run_dirs(pytester.path / "rel")[-1]
    sg7 = allure_result_of(run_dir, "test_push_accepted_and_delivered")
    assert "delivery not verified" in sg7.get("description", ""), "SG-7 must say what it could not verify"
    sg3 = allure_result_of(run_dir, "test_readiness_follows_a_blocked_database")
    assert any(a["name"] == "requests and answers" for a in sg3["attachments"])
    assert left_by(parse_sandbox, summary["run_id"]) == {}
    assert stats(parse_sandbox)["sessions_open"] == sessions_before
    assert tokens_in(run_dir) == []


@pytest.mark.full_report
def test_prod_smoke_is_go_on_the_second_dialect(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sandbox of its own (with Alertmanager, for GL-4), started from `sandbox.dialect: parse`."""
    clear_run_settings(monkeypatch)
    monkeypatch.delenv("SANDBOX_BASE_URL", raising=False)
    monkeypatch.setenv("WIMMELGATE_SANDBOX_PROMETHEUS", "off")
    result = gate(pytester, "-m", "prod_smoke")
    assert result.ret == 0, result.stdout.str()[-3000:]
    summary = newest_summary(pytester)
    assert summary["verdict"] == "GO"
    assert {"SG-1", "SG-2", "SG-4", "SG-5", "SG-6"} <= {c["id"] for c in summary["checks"] if c["outcome"] == "passed"}
    assert tokens_in(run_dirs(pytester.path / "rel")[-1]) == []


def test_readiness_ignoring_the_database_is_no_go_naming_sg3(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_run_settings(monkeypatch)
    monkeypatch.delenv("SANDBOX_BASE_URL", raising=False)
    monkeypatch.setenv("WIMMELGATE_SANDBOX_FAULTS", "readiness_ignores_db=1")
    monkeypatch.setenv("WIMMELGATE_SANDBOX_PROMETHEUS", "off")
    result = gate(pytester, "-m", "staging_gate", "-k", "readiness or health")
    assert result.ret == 1
    summary = newest_summary(pytester)
    sg3 = check(summary, "SG-3")
    assert sg3["outcome"] == "failed" and sg3["category"] == "product defect", sg3
    assert "GET /parse/classes/Message (message_probe)" in sg3["reason"] and "expected 500/503" in sg3["reason"]
    assert "/readiness" not in sg3["reason"]
    assert [r.split(":")[0] for r in summary["reasons"] if not r.startswith("incomplete")] == ["SG-3"]


def test_database_paused_is_no_go_naming_sg2_and_the_configured_request(
    pytester: pytest.Pytester, parse_sandbox: SandboxInfo, parse_env: dict[str, str]
) -> None:
    control.pause_database(parse_sandbox)
    try:
        result = gate(pytester, "-m", "staging_gate and not destructive", "-k", "readiness")
    finally:
        control.resume_database(parse_sandbox)
    assert result.ret == 1
    sg2 = check(newest_summary(pytester), "SG-2")
    assert sg2["outcome"] == "failed" and sg2["category"] == "product defect", sg2
    assert sg2["reason"].startswith("GET /parse/classes/Message (message_probe) answered 500, expected 200")


def test_s3_paused_is_no_go_naming_sg6(
    pytester: pytest.Pytester, parse_sandbox: SandboxInfo, parse_env: dict[str, str]
) -> None:
    control.pause_s3(parse_sandbox)
    try:
        result = gate(pytester, "-m", "staging_gate and not destructive", "-k", "upload")
    finally:
        control.resume_s3(parse_sandbox)
    assert result.ret == 1
    summary = newest_summary(pytester)
    sg6 = check(summary, "SG-6")
    assert (
        sg6["outcome"] == "failed"
        and sg6["reason"] == "upload landed in 'local', expected 's3': the s3 storage is failing"
    )
    assert left_by(parse_sandbox, summary["run_id"]) == {}


def test_a_version_the_backend_does_not_report_is_no_go_naming_the_missing_field(
    pytester: pytest.Pytester, parse_env: dict[str, str]
) -> None:
    env = derived(
        pytester,
        "backend:\n  contract:\n    about:\n      method: GET\n      path: /parse/about\n      expect: 200\n"
        "      captures: {version: {json: releaseVersion, required: false}}\n",
    )
    gate(pytester, "-m", "staging_gate and not destructive", "-k", "health", "--wg-version", "1.4.2", env=env)
    sg1 = check(newest_summary(pytester), "SG-1")
    assert sg1["outcome"] == "failed" and sg1["category"] == "contract mismatch", sg1
    assert sg1["reason"] == (
        "GET /parse/about (about) reports no version (capture 'version' found nothing), expected '1.4.2'"
    )


@pytest.mark.full_report
def test_a_contract_that_does_not_fit_is_a_contract_mismatch_not_a_product_defect(
    pytester: pytest.Pytester, parse_sandbox: SandboxInfo, parse_env: dict[str, str]
) -> None:
    """The issue's finding: login answers the token under another name."""
    env = derived(
        pytester,
        "backend:\n  contract:\n    login:\n      method: POST\n      path: /parse/login\n"
        '      json: {username: "{{ account.username }}", password: "{{ account.password }}"}\n'
        "      expect: 200\n      captures: {token: {json: token, secret: true}}\n",
    )
    result = gate(pytester, "-m", "staging_gate and not destructive", "-k", "auth or messaging", env=env)
    assert result.ret == 1
    summary = newest_summary(pytester)
    for check_id in ("SG-4", "SG-5"):
        item = check(summary, check_id)
        assert item["category"] == "contract mismatch", item
        assert (
            "/parse/login (login): capture 'token' (json: token) found nothing in the HTTP 200 answer" in item["reason"]
        )
        assert '"sessionToken":"***"' in item["reason"]
    assert tokens_in(run_dirs(pytester.path / "rel")[-1]) == []


def test_a_run_failing_half_way_leaves_zero_records_and_zero_open_sessions(
    pytester: pytest.Pytester, parse_sandbox: SandboxInfo, parse_env: dict[str, str]
) -> None:
    import shutil

    suites = pytester.path / "suites"
    shutil.copytree(ROOT / "suites", suites)
    (suites / "test_fails_halfway.py").write_text(
        """
import pytest
from pytest_wimmelgate.contract import smoke


@pytest.mark.check("SG-5")
def test_fails_after_creating(backend, smoke_flow, smoke_sessions, cleanup, run_tag):
    smoke_sessions.opened_in(cleanup, backend)
    smoke_flow.values["message.text"] = "half"
    created = smoke_flow.run("message_create")
    smoke.register_delete(cleanup, backend, "message_delete", smoke_flow, "message", created)
    smoke.upload(backend, smoke_flow, cleanup, name="half.bin", data=b"half")
    assert False, "failing half-way on purpose"
"""
    )
    sessions_before = stats(parse_sandbox)["sessions_open"]
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(pytester.path),
        "-c",
        str(ROOT / "pyproject.toml"),
        "--wg-env",
        str(OTHER),
        "--wg-release-dir",
        "rel",
        str(suites),
        "-m",
        "staging_gate and not destructive",
        timeout=240,
    )
    assert result.ret == 1
    assert "failing half-way on purpose" in result.stdout.str()
    summary = newest_summary(pytester)
    assert left_by(parse_sandbox, summary["run_id"]) == {}
    assert stats(parse_sandbox)["sessions_open"] == sessions_before
    assert json.dumps(summary).count("failing half-way on purpose") >= 1
