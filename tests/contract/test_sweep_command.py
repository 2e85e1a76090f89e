"""``wimmelgate sweep``: leftovers of earlier runs removed by tag or by age, nothing else touched."""

from __future__ import annotations

import time

import pytest

from pytest_wimmelgate import cli
from pytest_wimmelgate.contract.sessions import Sessions
from pytest_wimmelgate.sandbox.launcher.gate_run import variables_of
from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from tests.contract.conftest import OTHER_BACKEND, client_for, settings_for, stats


def leave_messages(info: SandboxInfo, tag: str, count: int) -> None:
    """What an interrupted run leaves: messages tagged with its run id."""
    client = client_for(settings_for(OTHER_BACKEND, info), info)
    client.run_id = tag
    sessions = Sessions(client)
    session = sessions.open()
    try:
        for n in range(count):
            sessions.flow(session, values={"message.text": f"left {n}"}).run("message_create")
    finally:
        sessions.end(session)


def messages_of(info: SandboxInfo, tag: str) -> int:
    return int(stats(info)["by_tag"].get(tag, {}).get("messages", 0))


@pytest.fixture
def sandbox_variables(parse_sandbox: SandboxInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in variables_of(parse_sandbox).items():
        monkeypatch.setenv(name, value)


def test_sweep_by_tag_removes_one_runs_records_and_nothing_else(
    parse_sandbox: SandboxInfo, sandbox_variables: None, capsys: pytest.CaptureFixture[str]
) -> None:
    leave_messages(parse_sandbox, "wg-sweepme0001", 2)
    leave_messages(parse_sandbox, "wg-keepme00001", 1)
    sessions_before = stats(parse_sandbox)["sessions_open"]
    assert cli.main(["sweep", "--env", str(OTHER_BACKEND), "--tag", "wg-sweepme0001"]) == 0
    assert "sweep tag wg-sweepme0001: messages: 2 found, 2 deleted" in capsys.readouterr().out
    assert messages_of(parse_sandbox, "wg-sweepme0001") == 0 and messages_of(parse_sandbox, "wg-keepme00001") == 1
    assert stats(parse_sandbox)["sessions_open"] == sessions_before  # the sweep logged out again


def test_sweep_older_than_removes_gate_records_only(
    parse_sandbox: SandboxInfo, sandbox_variables: None, capsys: pytest.CaptureFixture[str]
) -> None:
    leave_messages(parse_sandbox, "wg-oldrun00001", 1)
    leave_messages(parse_sandbox, "manual-note", 1)  # not a gate run's tag: never swept
    time.sleep(1.2)
    leave_messages(parse_sandbox, "wg-newrun00001", 1)
    assert cli.main(["sweep", "--env", str(OTHER_BACKEND), "--older-than", "1s"]) == 0
    assert "sweep gate runs older than 1s: messages:" in capsys.readouterr().out
    assert messages_of(parse_sandbox, "wg-oldrun00001") == 0
    assert messages_of(parse_sandbox, "manual-note") == 1 and messages_of(parse_sandbox, "wg-newrun00001") == 1


@pytest.mark.parametrize(
    ("args", "wording"),
    [
        (["--tag", "not-a-run"], "--tag must be a gate run's tag"),
        (["--older-than", "a week"], "--older-than expects a duration"),
    ],
)
def test_bad_sweep_options_are_exit_4_with_one_line(
    args: list[str], wording: str, sandbox_variables: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sweep", "--env", str(OTHER_BACKEND), *args]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and wording in err[0]


def test_a_bad_contract_is_exit_4_naming_file_and_key(
    tmp_path: object, sandbox_variables: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    env = Path(str(tmp_path)) / "bad.yaml"
    env.write_text(
        f"extends: {OTHER_BACKEND}\nbackend:\n  sweep: [{{kind: m, list: nope, ids: x, delete: y, as: z}}]\n"
    )
    assert cli.main(["sweep", "--env", str(env), "--tag", "wg-x"]) == 4
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "bad.yaml: backend.sweep[0].list: expected the name of a step" in line
