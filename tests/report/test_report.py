"""Report generation: finding the CLI, modes, failures as notes, trend history across runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pytest_wimmelgate import cli
from pytest_wimmelgate.artifacts import report
from pytest_wimmelgate.errors import ConfigError
from tests.report.conftest import run_gate


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


def fake_cli(folder: Path, name: str = "allure") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    return script


def test_find_allure_cli_prefers_configured_then_path_then_project(
    no_cli: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert report.find_allure_cli(root=no_cli) is None
    local = fake_cli(no_cli / "node_modules" / ".bin")
    assert report.find_allure_cli(root=no_cli / "elsewhere") == [str(local.resolve())]
    project = fake_cli(no_cli / "project" / ".ci" / "node" / "node_modules" / ".bin")
    assert report.find_allure_cli(root=no_cli / "project") == [str(project.resolve())]
    on_path = fake_cli(no_cli / "empty-bin")
    assert report.find_allure_cli(root=no_cli / "project") == [str(on_path)]
    configured = fake_cli(no_cli / "opt", "allure-2")
    monkeypatch.setenv(report.ENV_VAR, f"{configured} --verbose")
    assert report.find_allure_cli() == [str(configured), "--verbose"]
    assert report.find_allure_cli(str(local)) == [str(local)]


def test_a_configured_cli_that_does_not_exist_is_not_replaced(no_cli: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_cli(no_cli / "empty-bin")
    monkeypatch.setenv(report.ENV_VAR, str(no_cli / "missing" / "allure"))
    assert report.find_allure_cli() is None
    with pytest.raises(ConfigError, match=r"WIMMELGATE_ALLURE.*not an executable"):
        report.require_cli("required")


def test_auto_without_cli_skips_with_a_note(no_cli: Path, run_dir: Path) -> None:
    assert report.require_cli("auto", root=no_cli) is None
    result = report.generate_report(run_dir, mode="auto", cli=None)
    assert result.status == "skipped" and not result.ok and result.path is None
    assert "no Allure CLI found" in result.note and "\n" not in result.note
    assert not (run_dir / "report").exists()


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
        (
            [sys.executable, "-c", "import sys; sys.stderr.write('java: not found\\n'); sys.exit(3)"],
            "exited 3: java: not found",
        ),
        (["/no/such/allure"], "could not start"),
        ([sys.executable, "-c", "import time; time.sleep(10)"], "timed out after 0.5 s"),
        ([sys.executable, "-c", "pass"], "no "),
    ],
)
def test_a_failing_cli_in_auto_mode_is_a_note(run_dir: Path, command: list[str], expected: str) -> None:
    result = report.generate_report(run_dir, mode="auto", cli=command, timeout_s=0.5)
    assert result.status == "failed" and expected in result.note
    assert result.note.startswith("Allure report: failed:") and "\n" not in result.note


def test_previous_history_is_the_newest_earlier_run_of_the_same_gates_and_environment(tmp_path: Path) -> None:
    rel = tmp_path / "rel"

    def run(version: str, env: str, name: str, history: bool = True) -> Path:
        folder = rel / version / env / name
        (folder / "allure-results").mkdir(parents=True)
        if history:
            (folder / "history").mkdir()
            (folder / "history" / "history-trend.json").write_text("[]")
        return folder

    run("1.0.0", "testenv", "staging_gate-20261101T100000Z")
    expected = run("1.1.0", "testenv", "staging_gate-20261102T100000Z")
    run("1.1.0", "testenv", "staging_gate-20261103T100000Z", history=False)
    run("1.1.0", "testenv", "post_deploy-20261104T100000Z")
    run("1.2.0", "otherenv", "staging_gate-20261104T100000Z")
    current = run("1.2.0", "testenv", "staging_gate-20261105T100000Z", history=False)
    run("1.3.0", "testenv", "staging_gate-20261106T100000Z")
    assert report.previous_history(current) == expected / "history"
    assert report.carry_history(current) == expected / "history"
    assert (current / "allure-results" / "history" / "history-trend.json").read_text() == "[]"
    assert report.carry_history(current) is None, "existing results history is left alone"
    same_second = run("1.2.0", "testenv", "staging_gate-20261105T100000Z-2", history=False)
    (current / "history").mkdir()
    (current / "history" / "history.json").write_text("{}")
    assert report.previous_history(same_second) == current / "history"
    assert report.previous_history(tmp_path / "not-a-run") is None


def test_second_report_continues_the_trend_across_versions(gate_dir: pytest.Pytester, allure_cli: list[str]) -> None:
    first = run_gate(gate_dir, "1.0.0")
    one = report.generate_report(first, mode="required", cli=allure_cli)
    assert one.ok, one.note
    assert one.history_from is None and one.path == first / "report" / "index.html"
    assert [p.name for p in (first / "report").iterdir()] == ["index.html"], "single file"
    assert len(json.loads((first / "history" / "history-trend.json").read_text())) == 1

    second = run_gate(gate_dir, "1.1.0")
    two = report.generate_report(second, mode="auto", cli=allure_cli)
    assert two.ok, two.note
    assert two.history_from == first / "history"
    assert f"trend continued from 1.0.0/testenv/{first.name}" in two.note
    assert (second / "allure-results" / "history" / "history.json").is_file()
    embedded = report.embedded_history(second / "report" / "index.html")
    trend = json.loads(embedded["history-trend.json"])
    assert len(trend) == 2
    assert [entry["data"]["failed"] for entry in trend] == [1, 1]
    assert [entry["data"]["passed"] for entry in trend] == [1, 1]
    per_test = json.loads(embedded["history.json"])
    assert any(len(entry["items"]) == 2 for entry in per_test.values()), "test history has both runs"
    kept = json.loads((second / "history" / "history-trend.json").read_text())
    assert kept == trend


def test_history_falls_back_to_a_folder_report_when_the_single_file_is_not_recognised(
    gate_dir: pytest.Pytester, allure_cli: list[str]
) -> None:
    run_dir = run_gate(gate_dir)
    (run_dir / "report").mkdir()
    (run_dir / "report" / "index.html").write_text("<html>an unknown report format</html>")
    assert report.embedded_history(run_dir / "report" / "index.html") == {}
    kept = report.keep_history(run_dir, cli=allure_cli)
    assert kept == run_dir / "history"
    assert {"history.json", "history-trend.json"} <= {p.name for p in kept.iterdir()}


def test_wimmelgate_report_command_generates_for_a_run_folder(
    gate_dir: pytest.Pytester, allure_cli: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = run_gate(gate_dir)
    assert cli.main(["report", str(run_dir), "--allure", " ".join(allure_cli)]) == 0
    assert (run_dir / "report" / "index.html").is_file()
    assert "Allure report:" in capsys.readouterr().out
    assert cli.main(["report", str(gate_dir.path)]) == 4, "not a run folder"


def test_a_history_that_cannot_be_written_is_a_note(gate_dir: pytest.Pytester, allure_cli: list[str]) -> None:
    run_dir = run_gate(gate_dir)
    (run_dir / "history").write_text("a file where the history folder goes")
    result = report.generate_report(run_dir, mode="auto", cli=allure_cli)
    assert result.ok and "history not kept" in result.note and "\n" not in result.note
