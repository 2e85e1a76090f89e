"""The drill gate (runbook 8) on the real sandbox: GO with real faults, and never on a protected one."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.config.sections.targets import SmokeAccount
from pytest_wimmelgate.contract import smoke
from pytest_wimmelgate.contract.cleanup import Cleanup
from pytest_wimmelgate.contract.client import ContractClient
from pytest_wimmelgate.contract.parse import parse_backend
from pytest_wimmelgate.contract.sessions import Sessions
from pytest_wimmelgate.sandbox.launcher import control
from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from tests.gates.conftest import check, newest_summary, run_gate
from tests.gates.release_helpers import (
    SANDBOX_YAML,
    allure_attachment,
    allure_result_of,
    checks_by_outcome,
    clear_run_settings,
    run_dirs,
    write_env_file,
)

DRILL = {"DR-1", "DR-2", "DR-3", "DR-4"}


@pytest.fixture(autouse=True)
def _no_outer_run_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_run_settings(monkeypatch)


def _out(result: pytest.RunResult) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


def _readiness(sandbox: SandboxInfo) -> int:
    try:
        return requests.get(f"{sandbox.base_url}/readiness", timeout=3).status_code
    except requests.RequestException:
        return 0


@dataclass
class Watch:
    """What a background watch saw while an inner gate run ran."""

    readiness: list[int] = field(default_factory=list)  # /readiness statuses, 0 = no answer
    db: list[tuple[int | None, str]] = field(default_factory=list)  # (database pid, state letter)
    s3: list[tuple[int | None, str]] = field(default_factory=list)  # (S3 server pid, state letter)

    def db_pids(self) -> set[int | None]:
        return {pid for pid, _ in self.db}

    def stopped(self) -> set[str]:
        """Which processes were seen stopped (SIGSTOP: kernel state ``T``)."""
        return {name for name, seen in (("database", self.db), ("s3", self.s3)) if any(s == "T" for _, s in seen)}


@contextmanager
def fault_watch(sandbox: SandboxInfo) -> Iterator[Watch]:
    """Poll /readiness (every 0.1 s) and the database and S3 processes' state (every 0.02 s)."""
    watch = Watch()
    stop = threading.Event()

    def poll_readiness() -> None:
        while not stop.is_set():
            watch.readiness.append(_readiness(sandbox))
            stop.wait(0.1)

    def poll_processes() -> None:
        while not stop.is_set():
            for pid, seen in ((_pid(sandbox.db_pid_file), watch.db), (_pid(sandbox.s3_pid_file), watch.s3)):
                seen.append((pid, _process_state(pid)))
            stop.wait(0.02)

    threads = [
        threading.Thread(target=poll_readiness, daemon=True),
        threading.Thread(target=poll_processes, daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        yield watch
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)


def _pid(pid_file: Path) -> int | None:
    from pytest_wimmelgate.sandbox.launcher.processes import read_pid_file

    record = read_pid_file(pid_file)
    return record.pid if record is not None else None


def _process_state(pid: int | None) -> str:
    """The kernel's state letter of a process (``T`` = stopped), ``?`` if unknown."""
    if pid is None:
        return "?"
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def _upload_lands_in_s3(sandbox: SandboxInfo) -> str:
    """Upload through the default contract, as SG-6 does, and say where the bytes landed."""
    settings = parse_backend({"base_url": sandbox.base_url, "timeout_s": 5}, "test")
    client = ContractClient(
        settings, "wg-drill-aftercheck", SecretSet(), SmokeAccount(sandbox.smoke_user, sandbox.smoke_password)
    )
    sessions = Sessions(client)
    session = sessions.open()
    undo = Cleanup()
    try:
        flow = sessions.flow(session)
        data = os.urandom(4096)
        created = smoke.upload(client, flow, undo, name="after-drill.bin", data=data)
        smoke.download(flow, data)
        return str(created.captures.get("storage"))
    finally:
        assert undo.run() == []
        sessions.end(session)


def test_drill_is_go_on_the_sandbox_and_leaves_it_healthy(
    pytester: pytest.Pytester, sandbox: SandboxInfo, sandbox_env: dict[str, str]
) -> None:
    db_before = control.database_pid(sandbox)
    with fault_watch(sandbox) as watch:
        result = run_gate(pytester, "-m", "drill")
    assert result.ret == 0, _out(result)[-4000:]
    summary = newest_summary(pytester)
    assert summary["verdict"] == "GO" and summary["gates"] == ["drill"] and summary["environment"] == "sandbox"
    assert checks_by_outcome(summary) == {"passed": DRILL, "skipped": {"PF-4"}}
    assert check(summary, "PF-4")["waiver"] and [w["id"] for w in summary["waivers"]] == ["PF-4"]
    assert summary["reasons"] == [] and summary["warnings"] == []
    result.stdout.fnmatch_lines(["WAIVED PF-4*Statuspage*", "VERDICT: GO"])

    run_dir = run_dirs(pytester.path / "rel")[-1]
    dr3 = allure_result_of(run_dir, "test_database_failover_recovers")
    parameters = {p["name"]: p["value"] for p in dr3.get("parameters", [])}
    assert "recovery time (s)" in parameters, dr3.get("parameters")
    # allure-pytest stores a parameter as repr(): Evidence.parameter passes text, hence the quotes
    assert 0 < float(parameters["recovery time (s)"].strip("'")) <= 15
    timeline = allure_attachment(run_dir, dr3, "failover timeline")
    assert timeline["provider"] == "sandbox" and timeline["write_ok_after_s"] is not None
    assert control.database_pid(sandbox) not in (None, db_before), "DR-3 did not fail the database over"

    storage = allure_attachment(run_dir, allure_result_of(run_dir, "test_uploads_fall_back_to_local"), "storage drill")
    assert "local" in str(storage["while_blocked"]["storage"]) and storage["after_unblock"]["storage"] == "s3"

    # the watch that guards the protected run sees the faults of a real drill
    assert watch.stopped() == {"s3"} and len(watch.db_pids() - {None}) >= 2, (watch.stopped(), watch.db_pids())
    assert _readiness(sandbox) == 200
    assert _process_state(_pid(sandbox.s3_pid_file)) != "T" and _process_state(control.database_pid(sandbox)) != "T"
    assert _upload_lands_in_s3(sandbox) == "s3"


def test_protected_environment_never_runs_the_destructive_drills(
    pytester: pytest.Pytester, sandbox: SandboxInfo, sandbox_env: dict[str, str]
) -> None:
    env = write_env_file(pytester.path / "guarded.yaml", SANDBOX_YAML, "name: guarded\nprotected: true\n")
    db_before, s3_before = control.database_pid(sandbox), _pid(sandbox.s3_pid_file)
    with fault_watch(sandbox) as watch:
        result = run_gate(pytester, "-m", "drill", "--wg-env", str(env))
    assert result.ret == 0, _out(result)[-4000:]
    summary = newest_summary(pytester)
    assert summary["verdict"] == "GO" and summary["environment"] == "guarded"
    for check_id in ("DR-3", "DR-4"):
        item = check(summary, check_id)
        assert item["outcome"] == "skipped" and item["safety_skip"] is True, item
        assert "protected environment guarded" in item["reason"], item
        assert any(w.startswith(f"{check_id}: not run") for w in summary["warnings"]), summary["warnings"]
    assert {check(summary, i)["outcome"] for i in ("DR-1", "DR-2")} == {"passed"}
    result.stdout.fnmatch_lines(["WARN   DR-3*protected environment guarded*", "VERDICT: GO"])

    assert len(watch.readiness) >= 5 and set(watch.readiness) == {200}, sorted(set(watch.readiness))
    assert watch.stopped() == set(), "the database or S3 was paused on a protected environment"
    assert watch.db_pids() == {db_before} and {pid for pid, _ in watch.s3} == {s3_before}, "a process was restarted"
    assert _process_state(db_before) != "T" and _process_state(s3_before) != "T"
    assert _readiness(sandbox) == 200
