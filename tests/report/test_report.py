"""The full Allure report: finding the CLI, telling Allure 3 from 2, modes, failures as notes, trend history."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from pytest_wimmelgate.artifacts import allure_cli, report
from pytest_wimmelgate.errors import ConfigError
from tests.report.conftest import ROOT, run_gate

MACHINE_PATH = os.environ.get("PATH", "")


@pytest.fixture
def no_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No Allure anywhere: empty PATH entry, no WIMMELGATE_ALLURE, a bare working directory."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv(report.ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rel" / "1.0.0" / "testenv" / "staging_gate-20261128T190000Z"
    (folder / "allure-results").mkdir(parents=True)
    return folder


def fake_cli(folder: Path, name: str = "allure", version: str = "3.18.0") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(f'#!/bin/sh\n[ "$1" = --version ] && echo {version}\nexit 0\n')
    script.chmod(0o755)
    return script


def link_tool(folder: Path, name: str) -> None:
    """Put one real tool (node, java) into a PATH folder of its own."""
    found = shutil.which(name, path=MACHINE_PATH)
    if found is None:
        pytest.skip(f"no {name} on this machine")
    (folder / name).symlink_to(found)


def test_the_pinned_allure_comes_first_then_path_then_the_ci_copy(
    no_cli: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert report.find_allure_cli(root=no_cli) is None
    legacy = fake_cli(no_cli / "project" / ".ci" / "node" / "node_modules" / ".bin", version="2.46.1")
    assert report.find_allure_cli(root=no_cli / "project") == [str(legacy.resolve())]
    on_path = fake_cli(no_cli / "empty-bin", version="2.30.0")
    assert report.find_allure_cli(root=no_cli / "project") == [str(on_path)]
    pinned = fake_cli(no_cli / "project" / "node_modules" / ".bin")
    assert report.find_allure_cli(root=no_cli / "project") == [str(pinned.resolve())]
    configured = fake_cli(no_cli / "opt", "allure-2")
    monkeypatch.setenv(report.ENV_VAR, f"{configured} --verbose")
    assert report.find_allure_cli() == [str(configured), "--verbose"]
    assert report.find_allure_cli(str(pinned)) == [str(pinned)]


def test_a_configured_cli_that_does_not_exist_is_not_replaced(no_cli: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_cli(no_cli / "empty-bin")
    monkeypatch.setenv(report.ENV_VAR, str(no_cli / "missing" / "allure"))
    assert report.find_allure_cli() is None
    with pytest.raises(ConfigError, match=r"WIMMELGATE_ALLURE.*not an executable"):
        report.require_cli("required")


def test_without_node_the_one_line_names_node_and_the_install_command(no_cli: Path, run_dir: Path) -> None:
    (no_cli / "package.json").write_text(json.dumps({"devDependencies": {"allure": allure_cli.PINNED_VERSION}}))
    result = report.generate_report(run_dir, mode="auto", cli=None, root=no_cli)
    assert result.status == "skipped" and "\n" not in result.note
    assert result.note == (
        "full Allure report not generated: no Node.js found: install Node >= 20, "
        f"then run `npm install` in {no_cli.resolve()} (pins allure@{allure_cli.PINNED_VERSION})"
    )
    assert not (run_dir / "report" / "allure.html").exists()


def test_with_node_but_nothing_installed_the_line_says_npm_install(no_cli: Path, run_dir: Path) -> None:
    link_tool(no_cli / "empty-bin", "node")
    outside = report.generate_report(run_dir, mode="auto", cli=None, root=no_cli)
    assert outside.note.endswith(
        f"Allure is not installed: run `npm install --save-dev allure@{allure_cli.PINNED_VERSION}` in your project"
    )
    inside = report.generate_report(run_dir, mode="auto", cli=None, root=ROOT)
    assert f"run `npm install` in {ROOT}" in inside.note


def test_allure2_without_java_is_named_with_both_ways_out(
    allure2_cli: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_dir: Path
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("node", "sh", "dirname", "readlink", "uname", "sed", "cat"):
        link_tool(tools, tool)
    monkeypatch.setenv("PATH", str(tools))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    reason = allure_cli.identify(allure2_cli)
    assert isinstance(reason, str) and "needs Java 17" in reason and "npm install" in reason, reason
    result = report.generate_report(run_dir, mode="auto", cli=allure2_cli)
    assert result.status == "failed" and "needs Java 17" in result.note and "\n" not in result.note
    with pytest.raises(ConfigError, match="needs Java 17"):
        report.require_cli("required", allure2_cli[0])


def test_off_never_looks_for_a_cli(no_cli: Path, run_dir: Path) -> None:
    assert report.require_cli("off", "/no/such/allure") is None
    result = report.generate_report(run_dir, mode="off", cli=["/no/such/allure"])
    assert result.status == "skipped" and "off" in result.note


def test_required_without_cli_is_a_configuration_error(no_cli: Path, run_dir: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        report.require_cli("required", root=no_cli)
    assert raised.value.source == "--wg-report"
    assert "an Allure CLI on PATH or WIMMELGATE_ALLURE" in str(raised.value)
    with pytest.raises(ConfigError):
        report.generate_report(run_dir, mode="required", cli=None)
    with pytest.raises(ConfigError, match="one of auto, off, required"):
        report.require_cli("sometimes")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ([sys.executable, "-c", "import sys; sys.stderr.write('broken install\\n'); sys.exit(3)"], "exited 3"),
        (["/no/such/allure"], "could not start"),
        ([sys.executable, "-c", "print('7.0.0')"], "supported are Allure 3"),
    ],
)
def test_a_cli_that_cannot_run_is_a_note(run_dir: Path, command: list[str], expected: str) -> None:
    result = report.generate_report(run_dir, mode="auto", cli=command, timeout_s=5)
    assert result.status == "failed" and expected in result.note, result.note
    assert result.note.startswith("full Allure report not generated:") and "\n" not in result.note


def test_a_failing_or_hanging_generate_is_a_note(run_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "allure"
    script.write_text('#!/bin/sh\n[ "$1" = --version ] && { echo 3.18.0; exit 0; }\necho "Node crashed" >&2\nexit 9\n')
    script.chmod(0o755)
    failed = report.generate_report(run_dir, mode="auto", cli=[str(script)])
    assert failed.status == "failed" and "exited 9: Node crashed" in failed.note
    script.write_text('#!/bin/sh\n[ "$1" = --version ] && { echo 3.18.0; exit 0; }\nsleep 10\n')
    hung = report.generate_report(run_dir, mode="auto", cli=[str(script)], timeout_s=0.5)
    assert hung.status == "failed" and "timed out after 0.5 s" in hung.note
    script.write_text('#!/bin/sh\n[ "$1" = --version ] && echo 3.18.0\nexit 0\n')
    nothing = report.generate_report(run_dir, mode="auto", cli=[str(script)])
    assert nothing.status == "failed" and "no index.html after `allure generate`" in nothing.note


def test_previous_history_is_the_newest_earlier_run_of_the_same_gates_and_environment(tmp_path: Path) -> None:
    rel = tmp_path / "rel"

    def run(version: str, env: str, name: str, history: str | None = "history-trend.json") -> Path:
        folder = rel / version / env / name
        (folder / "allure-results").mkdir(parents=True)
        if history:
            (folder / "history").mkdir()
            (folder / "history" / history).write_text("[]")
        return folder

    run("1.0.0", "testenv", "staging_gate-20261101T100000Z")
    expected = run("1.1.0", "testenv", "staging_gate-20261102T100000Z")
    allure3 = run("1.1.0", "testenv", "staging_gate-20261102T110000Z", history="history.jsonl")
    run("1.1.0", "testenv", "staging_gate-20261103T100000Z", history=None)
    run("1.1.0", "testenv", "post_deploy-20261104T100000Z")
    run("1.2.0", "otherenv", "staging_gate-20261104T100000Z")
    current = run("1.2.0", "testenv", "staging_gate-20261105T100000Z", history=None)
    run("1.3.0", "testenv", "staging_gate-20261106T100000Z")
    assert report.previous_history(current) == expected / "history"
    assert report.previous_history(current, "history.jsonl") == allure3 / "history"
    assert report.carry_history(current) == expected / "history"
    assert (current / "allure-results" / "history" / "history-trend.json").read_text() == "[]"
    assert report.carry_history(current) is None, "existing results history is left alone"
    same_second = run("1.2.0", "testenv", "staging_gate-20261105T100000Z-2", history=None)
    (current / "history").mkdir()
    (current / "history" / "history.json").write_text("{}")
    assert report.previous_history(same_second) == current / "history"
    assert report.previous_history(tmp_path / "not-a-run") is None


def history_lines(run_dir: Path) -> list[dict[str, object]]:
    text = (run_dir / "history" / "history.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_allure3_writes_one_file_next_to_the_decision_page_and_the_trend_grows(
    gate_dir: pytest.Pytester, allure_cli: list[str]
) -> None:
    first = run_gate(gate_dir, "1.0.0")
    decision = (first / "report" / "index.html").read_bytes()
    one = report.generate_report(first, mode="required", cli=allure_cli)
    assert one.ok, one.note
    assert one.path == first / "report" / "allure.html" and one.history_from is None
    assert sorted(p.name for p in (first / "report").iterdir()) == ["allure.html", "index.html", "runbook.html"]
    assert (first / "report" / "index.html").read_bytes() == decision, "the decision page stays"
    assert "Allure 3.18.0" in one.note
    assert len(history_lines(first)) == 1

    second = run_gate(gate_dir, "1.1.0")
    two = report.generate_report(second, mode="auto", cli=allure_cli)
    assert two.ok and two.history_from == first / "history"
    assert f"trend continued from 1.0.0/testenv/{first.name}" in two.note
    assert len(history_lines(second)) == 2
    again = report.generate_report(second, mode="auto", cli=allure_cli)
    assert again.ok and len(history_lines(second)) == 2, "regenerating does not count this run twice"
    assert len(history_lines(first)) == 1, "the earlier run's history is untouched"


def test_allure2_is_supported_with_its_own_options_and_history(
    gate_dir: pytest.Pytester, allure2_cli: list[str]
) -> None:
    first = run_gate(gate_dir, "1.0.0")
    one = report.generate_report(first, mode="required", cli=allure2_cli)
    assert one.ok, one.note
    assert sorted(p.name for p in (first / "report").iterdir()) == ["allure.html", "index.html", "runbook.html"]
    assert len(json.loads((first / "history" / "history-trend.json").read_text())) == 1

    second = run_gate(gate_dir, "1.1.0")
    two = report.generate_report(second, mode="auto", cli=allure2_cli)
    assert two.ok and two.history_from == first / "history"
    embedded = report.embedded_history(second / "report" / "allure.html")
    trend = json.loads(embedded["history-trend.json"])
    assert [entry["data"]["failed"] for entry in trend] == [2, 2], "SG-2 and the incomplete catalogue coverage"
    assert [entry["data"]["passed"] for entry in trend] == [1, 1]
    assert json.loads((second / "history" / "history-trend.json").read_text()) == trend


def test_allure2_history_falls_back_to_a_folder_report_when_the_single_file_is_not_recognised(
    gate_dir: pytest.Pytester, allure2_cli: list[str]
) -> None:
    run_dir = run_gate(gate_dir)
    (run_dir / "report" / "allure.html").write_text("<html>an unknown report format</html>")
    assert report.embedded_history(run_dir / "report" / "allure.html") == {}
    kept = report.keep_history(run_dir, cli=allure2_cli)
    assert kept == run_dir / "history"
    assert {"history.json", "history-trend.json"} <= {p.name for p in kept.iterdir()}


def test_a_history_that_cannot_be_written_is_a_note(gate_dir: pytest.Pytester, allure2_cli: list[str]) -> None:
    run_dir = run_gate(gate_dir)
    (run_dir / "history").write_text("a file where the history folder goes")
    result = report.generate_report(run_dir, mode="auto", cli=allure2_cli)
    assert result.ok and "history not kept" in result.note and "\n" not in result.note


def test_the_pinned_version_is_the_one_package_json_and_the_lock_install() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert package["devDependencies"] == {"allure": allure_cli.PINNED_VERSION}, "pinned exactly, no range"
    assert lock["packages"]["node_modules/allure"]["version"] == allure_cli.PINNED_VERSION
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
