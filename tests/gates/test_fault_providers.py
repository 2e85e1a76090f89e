"""SG-3 through each fault provider against the real sandbox: sandbox, command and http; the guard
lifts a command provider's fault when the gate process is killed."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pytest_wimmelgate.sandbox.launcher import control
from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from tests.gates.conftest import ROOT, check, newest_summary, run_gate
from tests.gates.test_interrupts import FAULT_BOUND_S, GateRun, _database_answers

HOOK_TOKEN = "hook-T0ken-5f1e9a7c"


def _only_incomplete(summary: dict[str, object]) -> bool:
    reasons = summary["reasons"]
    return isinstance(reasons, list) and all("deselected by -k" in str(r) for r in reasons)


def _env_file(pytester: pytest.Pytester, faults: str) -> str:
    pytester.makefile(".yaml", faulty=f"extends: {ROOT / 'environments' / 'sandbox.yaml'}\nname: faulty\n{faults}")
    return "faulty.yaml"


def test_command_provider_blocks_and_unblocks_with_shell_commands(
    pytester: pytest.Pytester, sandbox: SandboxInfo, sandbox_env: dict[str, str]
) -> None:
    pid_file = sandbox.db_pid_file
    env = _env_file(
        pytester,
        f"""faults:
  provider: command
  block_bound_s: 5
  recovery_bound_s: 15
  command:
    block: "kill -STOP $(head -1 {pid_file})"
    unblock: "kill -CONT $(head -1 {pid_file})"
""",
    )
    result = run_gate(pytester, "-m", "staging_gate", "-k", "blocked_database", "--wg-env", env)
    sg3 = check(newest_summary(pytester), "SG-3")
    assert sg3["outcome"] == "passed", result.stdout.str()[-2000:]
    assert _only_incomplete(newest_summary(pytester)), "a partial run is NO-GO only for the checks it left out"


def test_failing_block_command_fails_sg3_and_still_unblocks(
    pytester: pytest.Pytester,
    sandbox: SandboxInfo,
    sandbox_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    marker = tmp_path_factory.mktemp("unblock") / "unblocked"
    env = _env_file(
        pytester,
        f"""faults:
  provider: command
  command:
    block: "echo cannot reach the proxy >&2; exit 3"
    unblock: "touch {marker}"
""",
    )
    result = run_gate(pytester, "-m", "staging_gate", "-k", "blocked_database", "--wg-env", env)
    assert result.ret == 1
    sg3 = check(newest_summary(pytester), "SG-3")
    assert sg3["category"] == "infrastructure unreachable"
    assert sg3["reason"] == "fault command 'block' exited 3"
    assert not marker.exists(), "unblock runs only for a block that happened"


@pytest.mark.full_report
def test_http_provider_posts_block_and_unblock_to_the_hook(
    pytester: pytest.Pytester, sandbox: SandboxInfo, sandbox_env: dict[str, str], httpserver: HTTPServer
) -> None:
    calls: list[dict[str, str]] = []
    lock = threading.Lock()

    def hook(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {HOOK_TOKEN}":
            return Response("unauthorized", status=401)
        body = json.loads(request.get_data())
        with lock:
            calls.append(body)
        action = {"block": control.pause_database, "unblock": control.resume_database}[body["action"]]
        action(sandbox)
        return Response(status=204)

    httpserver.expect_request("/faults", method="POST").respond_with_handler(hook)
    env = _env_file(
        pytester,
        f"""secrets: [FAULT_HOOK_TOKEN]
faults:
  provider: http
  http: {{url: "{httpserver.url_for("/faults")}", token: "${{FAULT_HOOK_TOKEN}}"}}
""",
    )
    pytester_env = {"FAULT_HOOK_TOKEN": HOOK_TOKEN}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in pytester_env.items():
            patch.setenv(name, value)
        result = run_gate(pytester, "-m", "staging_gate", "-k", "blocked_database", "--wg-env", env)
    assert check(newest_summary(pytester), "SG-3")["outcome"] == "passed", result.stdout.str()[-2000:]
    assert [(c["action"], c["target"]) for c in calls] == [("block", "database"), ("unblock", "database")]
    run_dir = next((pytester.path / "rel").rglob("gate-summary.json")).parent
    assert not [p for p in run_dir.rglob("*") if p.is_file() and HOOK_TOKEN.encode() in p.read_bytes()]


def test_hook_refusing_the_token_fails_sg3_as_configuration(
    pytester: pytest.Pytester, sandbox: SandboxInfo, sandbox_env: dict[str, str], httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/faults", method="POST").respond_with_data("no", status=403)
    env = _env_file(
        pytester,
        f"""faults:
  provider: http
  http: {{url: "{httpserver.url_for("/faults")}", token: wrong}}
""",
    )
    result = run_gate(pytester, "-m", "staging_gate", "-k", "blocked_database", "--wg-env", env)
    assert result.ret == 1
    sg3 = check(newest_summary(pytester), "SG-3")
    assert sg3["category"] == "configuration missing"
    assert "fault hook block database" in sg3["reason"]
    assert control.resume_database(sandbox) is not None  # the sandbox was never paused; resuming is harmless


def test_sigkill_mid_sg3_runs_the_unblock_command_from_the_guard(
    tmp_path: Path, sandbox: SandboxInfo, sandbox_env: dict[str, str]
) -> None:
    pid_file = sandbox.db_pid_file
    (tmp_path / "faulty.yaml").write_text(
        f"""extends: {ROOT / "environments" / "sandbox.yaml"}
name: faulty
faults:
  provider: command
  block_bound_s: 5
  recovery_bound_s: 15
  command:
    block: "kill -STOP $(head -1 {pid_file})"
    unblock: "kill -CONT $(head -1 {pid_file}) && touch {tmp_path / "unblocked"}"
"""
    )
    environ = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    run = GateRun(tmp_path, environ, 0, "--wg-env", str(tmp_path / "faulty.yaml"))
    try:
        run.wait_until_database_blocked(sandbox)
        os.kill(run.process.pid, signal.SIGKILL)
        run.process.wait(10)
        answered_after = _database_answers(sandbox, FAULT_BOUND_S)
    finally:
        run.end()
        control.resume_database(sandbox)
    assert answered_after is not None, "the guard did not run the unblock command"
    assert (tmp_path / "unblocked").exists()
